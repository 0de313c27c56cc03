#!/usr/bin/env bash
# Merge job: apply the plan to the corp, write the report, keep the ownership ledger.
#
# Environment: as tagsync-pr.sh (TAGSYNC, TAGSYNC_CONFIG, TAGSYNC_ARGS, credentials), and
#   TAGSYNC_OUT      where the Markdown plan and report go (default: tagsync-apply.md);
#                    they are printed too
#   TAGSYNC_SUMMARY  a file they are appended to (default: $GITHUB_STEP_SUMMARY, the job
#                    summary on GitHub Actions, when set)
#
# Exit codes are tagsync's own:
#   0 applied and verified (or nothing to do)
#   1 error (invalid file, unreadable corp, a ledger that cannot be written)
#   3 blocked by a safety gate or an ownership refusal: nothing was sent
#   4 partly applied (or the check after it found changes left): the report lists what
#     failed; re-running plans exactly what is left
# The ledger (.tagsync/ledger-<corp>.json beside the file) is updated after every add,
# even on 1 or 4: commit it back (commit-ledger.sh) whatever the exit code.
set -uo pipefail

bin=${TAGSYNC:-tagsync}
cfg=${TAGSYNC_CONFIG:-tags.yaml}
out=${TAGSYNC_OUT:-tagsync-apply.md}
summary=${TAGSYNC_SUMMARY:-${GITHUB_STEP_SUMMARY:-}}
read -r -a extra <<<"${TAGSYNC_ARGS:-}"

"$bin" plan -c "$cfg" --apply --format markdown "${extra[@]}" >"$out"
rc=$?
case $rc in
  0) msg="applied and verified" ;;
  3) msg="blocked by a safety gate or an ownership refusal; nothing was sent (see the plan)" ;;
  4) msg="partly applied; the report lists the failed steps, and a re-run plans what is left" ;;
  *) msg="apply failed (exit $rc); the job log says why" ;;
esac
if [ -n "$summary" ]; then
  {
    cat "$out"
    echo
    echo "**tagsync:** $msg."
  } >>"$summary"
fi
cat "$out" # the job log has the plan and the report too (GitLab has no job summary)
if [ "$rc" -eq 0 ]; then echo "tagsync: $msg"; else echo "tagsync: $msg" >&2; fi
exit "$rc"
