#!/usr/bin/env bash
# Merge job: apply the plan to the corp, write the report, keep the ownership ledger.
#
# Environment: as tagsync-pr.sh (TAGSYNC, TAGSYNC_CONFIG, TAGSYNC_ARGS, credentials), and
#   TAGSYNC_OUT      where the Markdown plan and report go (default: tagsync-apply.md);
#                    they are printed too
#   TAGSYNC_SUMMARY  a file they are appended to (default: $GITHUB_STEP_SUMMARY, the job
#                    summary on GitHub Actions, when set)
#
# Prints `status=<applied|blocked|partial|error>` (appended to $GITHUB_OUTPUT when set).
# Exit codes are tagsync's own:
#   0 applied and verified (or nothing to do)
#   1 error (invalid file, unreadable corp, a ledger that cannot be written); also any
#     other exit code of tagsync, or no Markdown printed. The summary holds its stderr.
#   3 blocked by a safety gate or an ownership refusal: nothing was sent
#   4 partly applied (or the check after it found changes left): the report lists what
#     failed; re-running plans exactly what is left
# The ledger (.tagsync/ledger-<corp>.json beside the file) is updated after every add,
# even on 1 or 4: commit it back (tagsync-commit-ledger.sh) whatever the exit code.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=tagsync-common.sh
. "$(dirname "$0")/tagsync-common.sh"

out=${TAGSYNC_OUT:-tagsync-apply.md}
errs=$(mktemp)
trap 'rm -f "$errs" "$errs.md"' EXIT

run_plan "$out" "$errs" --apply --format markdown
rc=$plan_rc
status=error
if [ -s "$out" ]; then
  case $rc in
    0) status=applied msg="applied and verified" ;;
    3) status=blocked msg="blocked by a safety gate or an ownership refusal; nothing was sent (see the plan)" ;;
    4) status=partial msg="partly applied; the report lists the failed steps, and a re-run plans what is left" ;;
  esac
fi
if [ "$status" = error ]; then
  msg="apply failed (exit $rc); tagsync's messages are above"
  title=$(failure_title apply "$rc" "$out")
  # What was printed (a report, when the apply got that far), then the messages.
  {
    if [ -s "$out" ]; then
      cat "$out"
      echo
      failure_markdown "$title" "$errs" | tail -n +2
    else
      failure_markdown "$title" "$errs"
    fi
  } >"$errs.md"
  mv "$errs.md" "$out"
  rc=1
fi
{
  cat "$out"
  echo
  echo "**tagsync:** $msg."
} >"$errs.md"
summarize "$errs.md"
cat "$out" # the job log has the plan and the report too (GitLab has no job summary)
emit status "$status"
if [ "$rc" -eq 0 ]; then echo "tagsync: $msg"; else echo "tagsync: $msg" >&2; fi
exit "$rc"
