#!/usr/bin/env bash
# Merge job: apply the plan to the corp, write the report, keep the ownership ledger.
#
# Environment: as tagsync-pr.sh (TAGSYNC, TAGSYNC_CONFIG, TAGSYNC_ARGS, credentials), and
#   TAGSYNC_OUT      where the Markdown report goes (default: tagsync-apply.md)
#   TAGSYNC_SUMMARY  a file the report is appended to (default: $GITHUB_STEP_SUMMARY if set)
#
# Exit codes are tagsync's own:
#   0 applied and verified (or nothing to do)
#   1 error (invalid file, unreadable corp)
#   3 blocked by a safety gate or an ownership refusal: nothing was sent
#   4 partly applied: the report lists what failed; re-running plans exactly what is left
# The ledger (.tagsync/ledger-<corp>.json beside the file) is updated after every add,
# even on 4: the workflow commits it back (or uploads it) whatever the exit code.
set -uo pipefail

bin=${TAGSYNC:-tagsync}
cfg=${TAGSYNC_CONFIG:-tags.yaml}
out=${TAGSYNC_OUT:-tagsync-apply.md}
summary=${TAGSYNC_SUMMARY:-${GITHUB_STEP_SUMMARY:-}}
read -r -a extra <<<"${TAGSYNC_ARGS:-}"

"$bin" plan -c "$cfg" --apply --format markdown "${extra[@]}" >"$out"
rc=$?
if [ -n "$summary" ]; then cat "$out" >>"$summary"; fi
case $rc in
  0) echo "tagsync: applied and verified" ;;
  3) echo "tagsync: blocked by a safety gate; nothing was sent (see the report)" >&2 ;;
  4) echo "tagsync: partly applied; the report lists the failed steps" >&2 ;;
  *) echo "tagsync: apply failed (exit $rc)" >&2 ;;
esac
exit "$rc"
