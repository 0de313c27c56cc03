#!/usr/bin/env bash
# Posts BODY_FILE as the merge request's one tagsync note: the note carrying the hidden
# marker is edited in place, or created the first time. Needs curl and jq.
# Environment: GITLAB_TOKEN (a project access token with the `api` scope), and GitLab's
#   CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID; BODY_FILE (default tagsync-plan.md).
set -euo pipefail
marker='<!-- tagsync-plan -->'
body=${BODY_FILE:-tagsync-plan.md}
api="$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"
auth="PRIVATE-TOKEN: $GITLAB_TOKEN"
id=$(curl -fsS -H "$auth" "$api?per_page=100&sort=asc" |
  jq -r --arg m "$marker" '[.[] | select(.body | contains($m))][0].id // empty')
payload=$(jq -Rs '{body: .}' <"$body")
if [ -n "$id" ]; then
  curl -fsS -X PUT -H "$auth" -H "Content-Type: application/json" --data "$payload" "$api/$id" >/dev/null
  echo "updated note $id"
else
  curl -fsS -X POST -H "$auth" -H "Content-Type: application/json" --data "$payload" "$api" >/dev/null
  echo "created a note"
fi
