#!/usr/bin/env bash
# Every job, first: build tagsync at one pinned commit, unless that build is already here
# (restored from the CI cache, which is keyed on TAGSYNC_REV). Plan, apply and drift then
# run the same code, and jobs holding secrets never build whatever a branch's tip is.
#
# Environment:
#   TAGSYNC_GIT   the git URL of tagsync (this repository, or your fork)     (required)
#   TAGSYNC_REV   the commit to build: a full 40-hex commit id (preferred: a tag can be
#                 moved) or a tag                                              (required)
#   TAGSYNC_ROOT  the install root; the binary goes to $TAGSYNC_ROOT/bin/tagsync
#                 (default: $CARGO_HOME, or ~/.cargo)
#
# Prints `tagsync=<cached|built> REV`. Exit 1 when a setting is missing or the build fails.
set -euo pipefail

url=${TAGSYNC_GIT:?set the variable TAGSYNC_GIT to the git URL of tagsync}
rev=${TAGSYNC_REV:?set the variable TAGSYNC_REV to the tagsync commit (or tag) to build}
root=${TAGSYNC_ROOT:-${CARGO_HOME:-$HOME/.cargo}}
stamp=$root/bin/.tagsync-rev # which REV the binary beside it was built from

if [ -x "$root/bin/tagsync" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$rev" ]; then
  echo "tagsync=cached $rev"
  exit 0
fi
if [[ $rev =~ ^[0-9a-f]{40}$ ]]; then pin=(--rev "$rev"); else pin=(--tag "$rev"); fi
cargo install --locked --force --root "$root" --git "$url" "${pin[@]}" tagsync
printf '%s\n' "$rev" >"$stamp"
echo "tagsync=built $rev"
