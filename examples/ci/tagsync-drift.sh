#!/usr/bin/env bash
# Nightly job: does the corp still equal the file? Changes nothing.
#
# Environment: as tagsync-pr.sh, and TAGSYNC_OUT (default: tagsync-drift.md).
# Prints `status=<no-changes|changes|blocked|error>` and, when the check worked,
# `drift=<true|false>` (both appended to $GITHUB_OUTPUT when set); the Markdown plan in
# TAGSYNC_OUT is the body of the drift issue, and goes to the job summary too
# ($GITHUB_STEP_SUMMARY, or TAGSYNC_SUMMARY). Exit 0 whether or not there is drift (the
# issue is the alert); 1 when the check failed: any exit code of tagsync other than 0, 2
# and 3, or no Markdown. TAGSYNC_OUT and the summary then hold tagsync's stderr.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=tagsync-common.sh
. "$(dirname "$0")/tagsync-common.sh"

out=${TAGSYNC_OUT:-tagsync-drift.md}
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT

run_plan "$out" "$errs" --format markdown --detailed-exitcode
status=$(plan_status "$plan_rc" "$out")
if [ "$status" = error ]; then
  title=$(failure_title "the drift check" "$plan_rc" "$out")
  failure_markdown "$title" "$errs" >"$out"
  summarize "$out"
  emit status error
  echo "tagsync: the drift check failed (exit $plan_rc); no issue is opened or closed" >&2
  exit 1
fi
summarize "$out"
emit status "$status"
# blocked: the changes include blocked steps; the plan says which.
if [ "$status" = no-changes ]; then emit drift false; else emit drift true; fi
exit 0
