#!/usr/bin/env bash
# Posts BODY_FILE as the merge request's one tagsync note: the note by the token's own
# user that starts with the hidden marker (`<!-- tagsync-plan -->`, or MARKER) is edited
# in place, or created the first time. A note by anyone else is never edited, even one
# that starts with the marker (a reviewer quoting the plan).
# Needs curl, jq and tagsync-api.sh beside this script.
#
# Environment (GitLab CI sets the CI_ ones in a merge request pipeline):
#   CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID
#   GITLAB_TOKEN   a project access token with the `api` scope (a masked CI/CD variable)
#   BODY_FILE      the note (default: tagsync-plan.md, written by tagsync-pr.sh)
#   MARKER         the hidden first line that finds the note (default: the plan's;
#                  '<!-- tagsync-fleet -->' for the fleet's)
#   COMMENT_AUTHOR the username whose note is edited (default: the token's user, as
#                  GET /user says: a project access token's bot user)
# Prints `note=<created|updated> <id>`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../ci source=tagsync-api.sh
. "$(dirname "$0")/tagsync-api.sh"

marker=${MARKER:-'<!-- tagsync-plan -->'}
body=${BODY_FILE:-tagsync-plan.md}
notes="projects/${CI_PROJECT_ID:?set CI_PROJECT_ID}/merge_requests/${CI_MERGE_REQUEST_IID:?not a merge request pipeline}/notes"

if [ ! -s "$body" ]; then
  echo "tagsync: $body is missing or empty (did the plan step run?); nothing to post" >&2
  exit 1
fi
api_init "${CI_API_V4_URL:?set CI_API_V4_URL}" "PRIVATE-TOKEN: ${GITLAB_TOKEN:?set GITLAB_TOKEN}"

author=${COMMENT_AUTHOR:-}
if [ -z "$author" ]; then
  api_need GET user
  author=$(jq -r '.username // empty' "$api_answer")
  if [ -z "$author" ]; then
    echo "tagsync: GET /user named no username; set COMMENT_AUTHOR to the token's user" >&2
    exit 1
  fi
fi

# Through the environment, so no value can change the jq program.
id=$(TAGSYNC_AUTHOR=$author TAGSYNC_MARKER=$marker api_find "$notes?sort=asc&order_by=created_at" \
  'select(.author.username == env.TAGSYNC_AUTHOR and (.body // "" | startswith(env.TAGSYNC_MARKER))) | .id')
payload=$(api_body "$body")
if [ -n "$id" ]; then
  api_need PUT "$notes/$id" "$payload"
  echo "note=updated $id"
else
  api_need POST "$notes" "$payload"
  echo "note=created $(jq -r .id "$api_answer")"
fi
