#!/usr/bin/env bash
# Pull request job: validate the file, plan against the corp, write the Markdown plan
# that becomes the pull request's sticky comment. Changes nothing in the corp.
#
# Environment:
#   TAGSYNC          the tagsync binary            (default: tagsync)
#   TAGSYNC_CONFIG   the desired-state file        (default: tags.yaml)
#   TAGSYNC_OUT      where the Markdown goes       (default: tagsync-plan.md)
#   TAGSYNC_ARGS     extra arguments for `plan`    (e.g. "--state .tagsync/ledger.json")
#   WECOM_CORP_ID, WECOM_CORP_SECRET               credentials (CI secrets)
#
# Prints `status=<no-changes|changes|blocked|invalid|error>` and appends it to
# $GITHUB_OUTPUT when that is set. Exit: 0 when the plan (or the diagnostics) was
# written for the comment, 1 when the file is invalid or the corp could not be read
# (the comment then carries the error), so the check fails.
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

# Wraps a tool's stderr as a fenced block for the comment; tagsync never prints secrets.
error_comment() {
  {
    echo "$marker"
    echo "### tagsync: $1"
    echo
    echo '```'
    sed 's/```/` ` `/g' "$2" | head -c 50000
    echo '```'
  } >"$out"
}

errs=$(mktemp)
if ! "$bin" validate -c "$cfg" 2>"$errs" >/dev/null; then
  error_comment "\`$cfg\` is not valid" "$errs"
  emit invalid
  exit 1
fi

"$bin" plan -c "$cfg" --format markdown --detailed-exitcode "${extra[@]}" >"$out" 2>"$errs"
rc=$?
case $rc in
  0) emit no-changes ;;
  2) emit changes ;;
  3) emit blocked ;; # the plan shows each blocked step with the flag that unblocks it
  *)
    error_comment "the plan failed (exit $rc)" "$errs"
    emit error
    exit 1
    ;;
esac
exit 0
