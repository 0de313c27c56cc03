#!/usr/bin/env bash
# Fleet merge job: the shards' JSON (tagsync-fleet.sh) as one Markdown comment, the
# summary table of every corp first, then each corp's plan, within GitHub's comment limit
# (the largest plans shortened first). Post it with post-comment.sh and
# MARKER='<!-- tagsync-fleet -->'.
#
# Environment: TAGSYNC (see tagsync-common.sh, which must be beside this script), and
#   TAGSYNC_SHARDS_DIR   the directory of the shards' JSON files (default: shards)
#   TAGSYNC_OUT          where the Markdown goes               (default: tagsync-fleet.md)
#
# Exit: 0 when the comment was written; 1 when a shard stopped before any corp, a
# shard's output is missing or unreadable (the comment then says so).
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=tagsync-common.sh
. "$(dirname "$0")/tagsync-common.sh"

dir=${TAGSYNC_SHARDS_DIR:-shards}
out=${TAGSYNC_OUT:-tagsync-fleet.md}
errs=$(mktemp)
trap 'rm -f "$errs"' EXIT
shopt -s nullglob
files=("$dir"/*.json)
failed=("$dir"/*.json.err)
if [ ${#failed[@]} -gt 0 ]; then
  # A shard stopped before any corp (an invalid fleet file): its message, not a summary.
  for f in "${failed[@]}"; do
    echo "${f%.err}: the shard stopped before any corp:"
    head -c 8000 "$f"
    echo
  done >"$errs"
elif [ ${#files[@]} -eq 0 ]; then
  echo "no shard results in $dir (did the shard jobs run?)" >"$errs"
elif "$bin" fleet merge "${files[@]}" --format markdown >"$out" 2>"$errs"; then
  summarize "$out"
  echo "tagsync: merged ${#files[@]} shards into $out"
  exit 0
elif [ -s "$out" ]; then
  # Written, but incomplete (a shard's output is missing): the comment says so itself.
  cat "$errs" >&2
  summarize "$out"
  exit 1
fi
cat "$errs" >&2
{
  echo '<!-- tagsync-fleet -->'
  echo '### tagsync fleet: the shards could not be merged'
  echo
  echo '~~~~text'
  head -c 20000 "$errs"
  echo
  echo '~~~~'
} >"$out"
exit 1
