#!/usr/bin/env bash
# Pull request job: validate the file, plan against the corp, and write the Markdown that
# becomes the pull request's one sticky comment. Changes nothing in the corp.
#
# Environment: TAGSYNC, TAGSYNC_CONFIG, TAGSYNC_ARGS (see tagsync-common.sh, which must be
# beside this script), and
#   TAGSYNC_OUT      where the Markdown goes       (default: tagsync-plan.md)
#   TAGSYNC_SUMMARY  a file the whole plan, uncut, is appended to (default:
#                    $GITHUB_STEP_SUMMARY, the job summary); a list the comment has to
#                    shorten says it is there
#   WECOM_CORP_ID, WECOM_CORP_SECRET (CI secrets), WECOM_API_BASE (optional proxy)
#
# Prints `status=<no-changes|changes|blocked|invalid|error>` and appends it to
# $GITHUB_OUTPUT when that is set. TAGSYNC_OUT is written in every case (the plan, or the
# diagnostics), and starts with the hidden marker `<!-- tagsync-plan -->`. Any exit code of
# tagsync other than 0, 2 and 3, or a plan with no Markdown, is an error, with tagsync's
# stderr in the comment.
# Exit: 0 no changes or changes; 1 the file is invalid or the plan failed; 3 the plan is
# blocked by a safety gate or an ownership refusal. Post the comment whatever the exit.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=tagsync-common.sh
. "$(dirname "$0")/tagsync-common.sh"

out=${TAGSYNC_OUT:-tagsync-plan.md}
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT

# fail TITLE STATUS: the comment says why, and the job fails.
fail() {
  failure_markdown "$1" "$errs" >"$out"
  emit status "$2"
  exit 1
}

if command -v "$bin" >/dev/null; then
  "$bin" validate -c "$cfg" >/dev/null 2>"$errs"
  rc=$?
  cat "$errs" >&2
  case $rc in
    0) ;;
    1) fail "\`$cfg\` is not valid" invalid ;;
    *) fail "validate failed (exit $rc)" error ;;
  esac
fi

summary=${TAGSYNC_SUMMARY:-${GITHUB_STEP_SUMMARY:-}}
run_plan "$out" "$errs" --format markdown --detailed-exitcode ${summary:+--summary "$summary"}
status=$(plan_status "$plan_rc" "$out")
case $status in
  error) fail "$(failure_title "the plan" "$plan_rc" "$out")" error ;;
  blocked)
    # The plan in the comment shows each blocked step with the flag that unblocks it.
    echo "tagsync: the plan is blocked by a safety gate or an ownership refusal" >&2
    emit status blocked
    exit 3
    ;;
  *) emit status "$status" ;;
esac
exit 0
