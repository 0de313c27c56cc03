#!/usr/bin/env bash
# Nightly job: does the corp still equal the file? Changes nothing.
#
# Environment: as tagsync-pr.sh, and TAGSYNC_OUT (default: tagsync-drift.md).
# Prints `drift=<true|false>` (and appends it to $GITHUB_OUTPUT when set); the Markdown
# plan in TAGSYNC_OUT is the body of the drift issue. Exit 0 whether or not there is
# drift (the issue is the alert); 1 when the plan itself failed.
set -uo pipefail

bin=${TAGSYNC:-tagsync}
cfg=${TAGSYNC_CONFIG:-tags.yaml}
out=${TAGSYNC_OUT:-tagsync-drift.md}
read -r -a extra <<<"${TAGSYNC_ARGS:-}"

"$bin" plan -c "$cfg" --format markdown --detailed-exitcode "${extra[@]}" >"$out"
rc=$?
case $rc in
  0) drift=false ;;
  2 | 3) drift=true ;; # 3: the changes include blocked steps; the plan says which
  *)
    echo "tagsync: the drift check failed (exit $rc)" >&2
    exit 1
    ;;
esac
echo "drift=$drift"
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "drift=$drift" >>"$GITHUB_OUTPUT"; fi
exit 0
