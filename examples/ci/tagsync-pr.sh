#!/usr/bin/env bash
# Pull request job: validate the file, plan against the corp, and write the Markdown that
# becomes the pull request's one sticky comment. Changes nothing in the corp.
#
# Environment:
#   TAGSYNC          the tagsync binary            (default: tagsync)
#   TAGSYNC_CONFIG   the desired-state file        (default: tags.yaml)
#   TAGSYNC_OUT      where the Markdown goes       (default: tagsync-plan.md)
#   TAGSYNC_ARGS     extra arguments for `plan`    (e.g. "--state ledger.json")
#   WECOM_CORP_ID, WECOM_CORP_SECRET               credentials (CI secrets)
#
# Prints `status=<no-changes|changes|blocked|invalid|error>` and appends it to
# $GITHUB_OUTPUT when that is set. TAGSYNC_OUT is written in every case (the plan, or the
# diagnostics), and starts with the hidden marker `<!-- tagsync-plan -->`.
# Exit: 0 no changes or changes; 1 the file is invalid or the plan failed; 3 the plan is
# blocked by a safety gate or an ownership refusal. Post the comment whatever the exit.
set -uo pipefail

bin=${TAGSYNC:-tagsync}
cfg=${TAGSYNC_CONFIG:-tags.yaml}
out=${TAGSYNC_OUT:-tagsync-plan.md}
read -r -a extra <<<"${TAGSYNC_ARGS:-}"
marker='<!-- tagsync-plan -->'

emit() {
  echo "status=$1"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "status=$1" >>"$GITHUB_OUTPUT"; fi
}

# The comment for a failure: the tool's stderr in a fence (tagsync never prints secrets).
error_comment() {
  {
    echo "$marker"
    echo "### tagsync: $1"
    echo
    echo '~~~~text'
    # Far below GitHub's 65,536 characters (bytes >= characters); no line closes the fence.
    sed 's/~~~/~ ~ ~/g' "$2" | head -n 400 | head -c 40000
    echo
    echo '~~~~'
  } >"$out"
}

errs=$(mktemp)
trap 'rm -f "$errs"' EXIT

if ! command -v "$bin" >/dev/null; then
  echo "$bin: not found; install tagsync first (see the README), or set TAGSYNC" >"$errs"
  cat "$errs" >&2
  error_comment "tagsync is not installed" "$errs"
  emit error
  exit 1
fi

"$bin" validate -c "$cfg" >/dev/null 2>"$errs"
rc=$?
if [ "$rc" -ne 0 ]; then
  cat "$errs" >&2
  if [ "$rc" -eq 1 ]; then
    error_comment "\`$cfg\` is not valid" "$errs"
    emit invalid
  else
    error_comment "validate failed (exit $rc)" "$errs"
    emit error
  fi
  exit 1
fi

"$bin" plan -c "$cfg" --format markdown --detailed-exitcode "${extra[@]}" >"$out" 2>"$errs"
rc=$?
cat "$errs" >&2
case $rc in
  0) emit no-changes ;;
  2) emit changes ;;
  3)
    # The plan in the comment shows each blocked step with the flag that unblocks it.
    echo "tagsync: the plan is blocked by a safety gate or an ownership refusal" >&2
    emit blocked
    exit 3
    ;;
  *)
    error_comment "the plan failed (exit $rc)" "$errs"
    emit error
    exit 1
    ;;
esac
exit 0
