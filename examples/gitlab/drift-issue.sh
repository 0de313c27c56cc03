#!/usr/bin/env bash
# Opens or updates the one open issue labelled `tagsync-drift` with the drift plan, or
# closes it when the corp equals the file again. Needs curl, jq and tagsync-api.sh beside
# this script.
#
# Environment (GitLab CI sets the CI_ ones):
#   CI_API_V4_URL, CI_PROJECT_ID
#   GITLAB_TOKEN   a project access token with the `api` scope (a masked CI/CD variable)
#   DRIFT          true or false (the output of tagsync-drift.sh)
#   BODY_FILE      the issue's text (default: tagsync-drift.md)
#   TAGSYNC_CONFIG the desired file the title names (default: tags.yaml)
# Prints `issue=<opened|updated|closed|none> [url]`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../ci source=tagsync-api.sh
. "$(dirname "$0")/tagsync-api.sh"

label=tagsync-drift
file=${TAGSYNC_CONFIG:-tags.yaml}
body=${BODY_FILE:-tagsync-drift.md}
issues="projects/${CI_PROJECT_ID:?set CI_PROJECT_ID}/issues"
case ${DRIFT:-} in
  true | false) ;;
  *)
    echo "tagsync: DRIFT must be true or false (the output of tagsync-drift.sh), not '${DRIFT:-}'" >&2
    exit 1
    ;;
esac
api_init "${CI_API_V4_URL:?set CI_API_V4_URL}" "PRIVATE-TOKEN: ${GITLAB_TOKEN:?set GITLAB_TOKEN}"

iid=$(api_find "$issues?state=opened&labels=$label" ".iid")

if [ "$DRIFT" = false ]; then
  if [ -z "$iid" ]; then
    echo "issue=none"
    exit 0
  fi
  echo "The corp equals the file again; closing." >"$api_dir/closing.md"
  api_need POST "$issues/$iid/notes" "$(api_body "$api_dir/closing.md")"
  echo '{"state_event": "close"}' >"$api_dir/close.json"
  api_need PUT "$issues/$iid" "$api_dir/close.json"
  echo "issue=closed $(jq -r .web_url "$api_answer")"
  exit 0
fi

if [ ! -s "$body" ]; then
  echo "tagsync: $body is missing or empty (did the drift step run?)" >&2
  exit 1
fi
# GitLab creates the label with the issue when it does not exist yet.
jq -Rs --arg l "$label" --arg file "$file" \
  '{description: ., labels: $l, title: "tagsync: the corp'"'"'s tags differ from \($file)"}' \
  <"$body" >"$api_dir/issue.json"
if [ -n "$iid" ]; then
  api_need PUT "$issues/$iid" "$api_dir/issue.json"
  echo "issue=updated $(jq -r .web_url "$api_answer")"
else
  api_need POST "$issues" "$api_dir/issue.json"
  echo "issue=opened $(jq -r .web_url "$api_answer")"
fi
