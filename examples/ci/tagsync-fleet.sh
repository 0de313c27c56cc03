#!/usr/bin/env bash
# Fleet job (one shard of a CI matrix): `tagsync fleet plan` (or `apply`) of the corps of
# one shard, the result as JSON for the merge job (tagsync-fleet-merge.sh), which writes
# the one pull-request comment of all shards.
#
# Environment: TAGSYNC, TAGSYNC_ARGS (see tagsync-common.sh, which must be beside this
# script), and
#   TAGSYNC_FLEET        the fleet file                        (default: fleet.yaml)
#   TAGSYNC_FLEET_MODE   plan or apply                         (default: plan)
#   TAGSYNC_SHARD        K/N, this job's shard (default: GitLab's CI_NODE_INDEX/CI_NODE_TOTAL
#                        under `parallel:`, else the whole fleet)
#   TAGSYNC_FLEET_OUT    where the JSON goes                   (default: tagsync-fleet.json)
#   TAGSYNC_SECRETS_JSON optional: a JSON object of secrets (GitHub: `toJSON(secrets)`,
#                        every secret of the repository, for a fleet too large to list
#                        its variables in the step's env); each becomes an environment
#                        variable of tagsync only, so the fleet file's `secret_env` names
#                        resolve. Never printed. Variables already in the environment
#                        (the narrower way: the step's env lists each secret) reach
#                        tagsync as they are.
#   WECOM_API_BASE       optional: the API base of corps the fleet file gives none
#   TAGSYNC_LEDGER_OUT   optional, for apply: a directory this shard's corps' ledgers are
#                        copied to (only theirs, so the shards' copies never overlap: a
#                        last job gathers them and commits them once)
#   TAGSYNC_LEDGER_DIR   where tagsync keeps the ledgers (default: .tagsync beside the
#                        fleet file; set it when TAGSYNC_ARGS has --state DIR)
#
# Prints `status=<no-changes|changes|blocked|error|partial>` (the worst corp's) and appends
# it to $GITHUB_OUTPUT when set. TAGSYNC_FLEET_OUT is written whenever tagsync ran; when
# tagsync stopped before any corp (an invalid fleet file), its message is written to
# TAGSYNC_FLEET_OUT.err instead, for the merge job to show.
# Exit: 0 (no changes, changes, applied); 1 error; 3 blocked; 4 partly applied (the worst
# corp's). A plan with changes is a success: the comment shows them. The merge job runs
# whatever the shards' exits.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=tagsync-common.sh
. "$(dirname "$0")/tagsync-common.sh"

fleet=${TAGSYNC_FLEET:-fleet.yaml}
mode=${TAGSYNC_FLEET_MODE:-plan}
out=${TAGSYNC_FLEET_OUT:-tagsync-fleet.json}
shard=${TAGSYNC_SHARD:-}
if [ -z "$shard" ] && [ -n "${CI_NODE_INDEX:-}" ] && [ -n "${CI_NODE_TOTAL:-}" ]; then
  shard="$CI_NODE_INDEX/$CI_NODE_TOTAL"
fi
case $mode in
  plan | apply) ;;
  *)
    echo "tagsync: TAGSYNC_FLEET_MODE must be plan or apply, not $mode" >&2
    exit 1
    ;;
esac

args=(fleet "$mode" -f "$fleet" --format json)
[ "$mode" = plan ] && args+=(--detailed-exitcode)
[ -n "$shard" ] && args+=(--shard "$shard")
errs="$out.err"
mkdir -p "$(dirname "$out")"
rm -f "$errs"
# In a subshell: the secrets become environment variables of tagsync alone, exported (not
# passed as arguments, which `ps` would show); never echoed; a key that is not a variable
# name is skipped.
(
  if [ -n "${TAGSYNC_SECRETS_JSON:-}" ]; then
    while IFS= read -r -d '' pair; do
      name=${pair%%=*}
      case $name in
        '' | [0-9]* | *[!A-Za-z0-9_]*) continue ;;
      esac
      export "$name=${pair#*=}"
    done < <(jq -j 'to_entries[] | select(.value | type == "string") | "\(.key)=\(.value)\u0000"' <<<"$TAGSYNC_SECRETS_JSON")
  fi
  unset TAGSYNC_SECRETS_JSON
  exec "$bin" "${args[@]}" "${extra[@]}" >"$out" 2>"$errs"
)
rc=$?
cat "$errs" >&2
if [ -s "$out" ]; then
  rm -f "$errs"
else
  rm -f "$out"
fi
case $rc in
  0) status=$([ "$mode" = apply ] && echo applied || echo no-changes) ;;
  2) status=changes ;;
  3) status=blocked ;;
  4) status=partial ;;
  *) status=error ;;
esac
emit status "$status"

# This shard's ledgers, by the corp ids of its JSON (tagsync names a ledger
# ledger-CORPID.json, every character but A-Z a-z 0-9 _ - written as _).
if [ -n "${TAGSYNC_LEDGER_OUT:-}" ] && [ -s "$out" ]; then
  ledgers=${TAGSYNC_LEDGER_DIR:-$(dirname "$fleet")/.tagsync}
  mkdir -p "$TAGSYNC_LEDGER_OUT"
  copied=0
  while IFS= read -r corp; do
    file="$ledgers/ledger-${corp//[^A-Za-z0-9_-]/_}.json"
    if [ -f "$file" ]; then
      cp "$file" "$TAGSYNC_LEDGER_OUT/"
      copied=$((copied + 1))
    fi
  done < <(jq -r '.corps[].corp_id' "$out")
  emit ledgers "$copied"
fi
[ "$rc" -eq 2 ] && rc=0
exit "$rc"
