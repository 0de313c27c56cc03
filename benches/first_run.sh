#!/usr/bin/env bash
# A newcomer's first run, measured: a fresh clone into a temporary directory (empty
# target/), then the README's quick start and its test command, each exactly as the README
# gives it (read from README.md), timed one after the other; then the size of target/.
#
# usage: benches/first_run.sh [REPO [REV]]   (default: this checkout, its committed HEAD)
# Prints one line per command (wall seconds, exit code) and a summary for BENCHMARKS.md.
# The crates come from the local cargo registry cache when it has them: on a machine
# that never built tagsync, add the download time.
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The first ```sh block after a heading, first command line only.
block() {
  awk -v h="$1" '
    $0 == h { on = 1; next }
    on && /^```sh/ { inblk = 1; next }
    inblk && /^```/ { exit }
    inblk && NF { print; exit }
  ' README.md
}

git clone -q "$src" "$work/tagsync"
cd "$work/tagsync"
if [ -n "${2:-}" ]; then git checkout -q "$2"; fi
quick=$(block "## Quick start")
tests=$(block "## Tests")
if [ -z "$quick" ] || [ -z "$tests" ]; then
  echo "cannot find the README commands" >&2
  exit 1
fi
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $(cargo --version)"
echo "commit:  $(git rev-parse --short HEAD)"

run() {
  local label=$1 cmd=$2 start end rc=0
  start=$(date +%s.%N)
  bash -c "$cmd" >"$work/$label.log" 2>&1 || rc=$?
  end=$(date +%s.%N)
  printf '%-11s %7.1f s  exit %d  target/ %s   (%s)\n' "$label" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$rc" "$(du -sh target 2>/dev/null | cut -f1)" "$cmd"
  return 0
}
t0=$(date +%s.%N)
run quickstart "$quick"
run tests "$tests"
t1=$(date +%s.%N)
printf 'both:       %7.1f s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests:      %d passed, %d failed\n", p, f }' "$work/tests.log"
# Keep the logs of a failed command where they can be read after the temp dir is gone.
if grep -q "^test result: FAILED\|^error" "$work/tests.log" "$work/quickstart.log"; then
  cp "$work/quickstart.log" "$work/tests.log" "${TMPDIR:-/tmp}/" 2>/dev/null &&
    echo "logs: ${TMPDIR:-/tmp}/quickstart.log ${TMPDIR:-/tmp}/tests.log"
fi
