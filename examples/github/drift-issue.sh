#!/usr/bin/env bash
# Opens or updates the one open issue labelled `tagsync-drift` with the drift plan, or
# closes it when the corp equals the file again. Needs curl, jq and tagsync-api.sh beside
# this script.
#
# Environment (GitHub Actions sets the first two):
#   GITHUB_REPOSITORY  owner/name
#   GITHUB_API_URL     the REST API (default: https://api.github.com)
#   GITHUB_TOKEN or GH_TOKEN   a token that may write issues (the workflow's github.token)
#   DRIFT              true or false (the output of tagsync-drift.sh)
#   BODY_FILE          the issue's text (default: tagsync-drift.md)
#   TAGSYNC_CONFIG     the desired file the title names (default: tags.yaml)
# Prints `issue=<opened|updated|closed|none> [url]`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../ci source=tagsync-api.sh
. "$(dirname "$0")/tagsync-api.sh"

label=tagsync-drift
file=${TAGSYNC_CONFIG:-tags.yaml}
body=${BODY_FILE:-tagsync-drift.md}
repo=${GITHUB_REPOSITORY:?set GITHUB_REPOSITORY (owner/name)}
token=${GITHUB_TOKEN:-${GH_TOKEN:?set GITHUB_TOKEN or GH_TOKEN}}
case ${DRIFT:-} in
  true | false) ;;
  *)
    echo "tagsync: DRIFT must be true or false (the output of tagsync-drift.sh), not '${DRIFT:-}'" >&2
    exit 1
    ;;
esac
api_init "${GITHUB_API_URL:-https://api.github.com}" \
  "Authorization: Bearer $token" \
  "Accept: application/vnd.github+json" \
  "X-GitHub-Api-Version: 2022-11-28"

# Pull requests are issues too in this list; skip them.
number=$(api_find "repos/$repo/issues?state=open&labels=$label" \
  "select(.pull_request == null) | .number")

if [ "$DRIFT" = false ]; then
  if [ -z "$number" ]; then
    echo "issue=none"
    exit 0
  fi
  echo "The corp equals the file again; closing." >"$api_dir/closing.md"
  api_need POST "repos/$repo/issues/$number/comments" "$(api_body "$api_dir/closing.md")"
  echo '{"state": "closed", "state_reason": "completed"}' >"$api_dir/close.json"
  api_need PATCH "repos/$repo/issues/$number" "$api_dir/close.json"
  echo "issue=closed $(jq -r .html_url "$api_answer")"
  exit 0
fi

if [ ! -s "$body" ]; then
  echo "tagsync: $body is missing or empty (did the drift step run?)" >&2
  exit 1
fi
payload=$(api_body "$body")
if [ -n "$number" ]; then
  api_need PATCH "repos/$repo/issues/$number" "$payload"
  echo "issue=updated $(jq -r .html_url "$api_answer")"
  exit 0
fi
# The label must exist for the next run to find the issue by it (422: it already does).
jq -n --arg name "$label" \
  --arg file "$file" '{name: $name, color: "B60205", description: "the corp differs from \($file)"}' \
  >"$api_dir/label.json"
api_call POST "repos/$repo/labels" "$api_dir/label.json"
case $api_status in
  201 | 422) ;;
  *) api_need POST "repos/$repo/labels" "$api_dir/label.json" ;;
esac
jq --arg l "$label" --arg file "$file" \
  '. + {title: "tagsync: the corp'"'"'s tags differ from \($file)", labels: [$l]}' \
  "$payload" >"$api_dir/issue.json"
api_need POST "repos/$repo/issues" "$api_dir/issue.json"
echo "issue=opened $(jq -r .html_url "$api_answer")"
