# shellcheck shell=bash
# Sourced by tagsync-pr.sh, tagsync-apply.sh, tagsync-drift.sh and tagsync-commit-ledger.sh:
# the settings they share, how they report, and the Markdown of a failed run.
#
# Environment:
#   TAGSYNC          the tagsync binary                       (default: tagsync)
#   TAGSYNC_CONFIG   the desired-state file                   (default: tags.yaml)
#   TAGSYNC_ARGS     extra `tagsync plan` arguments, split on spaces: the same in every job
#                    (e.g. "--allow-delete 30", or "--state PATH" for the ledger)
#
#   emit KEY VALUE          prints KEY=VALUE, and appends it to $GITHUB_OUTPUT when set
#   run_plan OUT ERRS ARG…  `tagsync plan -c CONFIG ARG… TAGSYNC_ARGS`: stdout to OUT, stderr
#                           to ERRS and the job log; its exit code in $plan_rc (127: no tagsync)
#   plan_status RC OUT      no-changes (0), changes (2), blocked (3) for a --detailed-exitcode
#                           plan; error for any other exit, or when OUT is empty or missing
#   failure_markdown TITLE ERRS   the hidden marker, a heading, and ERRS in a fence
#   summarize FILE          appends FILE to TAGSYNC_SUMMARY (default: $GITHUB_STEP_SUMMARY)
#   ledger_path             the ledger tagsync writes: --state's path in TAGSYNC_ARGS, or the
#                           .tagsync directory beside TAGSYNC_CONFIG

bin=${TAGSYNC:-tagsync}
cfg=${TAGSYNC_CONFIG:-tags.yaml}
read -r -a extra <<<"${TAGSYNC_ARGS:-}"
marker='<!-- tagsync-plan -->'

emit() {
  echo "$1=$2"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi
}

run_plan() {
  local out=$1 errs=$2
  shift 2
  if ! command -v "$bin" >/dev/null; then
    echo "$bin: not found; install tagsync first (see the README), or set TAGSYNC" >"$errs"
    : >"$out"
    plan_rc=127
  else
    "$bin" plan -c "$cfg" "$@" "${extra[@]}" >"$out" 2>"$errs"
    # shellcheck disable=SC2034 # read by the scripts that source this file
    plan_rc=$?
  fi
  cat "$errs" >&2
}

plan_status() {
  if [ ! -s "$2" ]; then
    echo error
    return
  fi
  case $1 in
    0) echo no-changes ;;
    2) echo changes ;;
    3) echo blocked ;;
    *) echo error ;;
  esac
}

# The title of a failed run: STEP failed (exit RC), and why when the exit code alone does
# not say (tagsync missing, or an expected exit code with no Markdown printed).
failure_title() {
  local step=$1 rc=$2 out=$3
  case $rc in
    127) echo "tagsync is not installed" ;;
    *)
      if [ -s "$out" ] || [ "$rc" -eq 1 ] || [ "$rc" -gt 4 ]; then
        echo "$step failed (exit $rc)"
      else
        echo "$step failed (exit $rc, but no Markdown was printed)"
      fi
      ;;
  esac
}

failure_markdown() {
  echo "$marker"
  echo "### tagsync: $1"
  echo
  echo '~~~~text'
  # tagsync never prints secrets. Far below GitHub's 65,536 characters (bytes >=
  # characters), and no line closes the fence.
  sed 's/~~~/~ ~ ~/g' "$2" | head -n 400 | head -c 40000
  echo
  echo '~~~~'
}

summarize() {
  local to=${TAGSYNC_SUMMARY:-${GITHUB_STEP_SUMMARY:-}}
  if [ -n "$to" ]; then cat "$1" >>"$to"; fi
}

ledger_path() {
  local i
  for ((i = 0; i < ${#extra[@]}; i++)); do
    case ${extra[i]} in
      --state)
        echo "${extra[i + 1]:-}"
        return
        ;;
      --state=*)
        echo "${extra[i]#--state=}"
        return
        ;;
    esac
  done
  local dir
  dir=$(dirname -- "$cfg")
  if [ "$dir" = . ]; then echo .tagsync; else echo "$dir/.tagsync"; fi
}
