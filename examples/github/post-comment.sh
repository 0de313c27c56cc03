#!/usr/bin/env bash
# Posts BODY_FILE as the pull request's one tagsync comment: the comment by the token's own
# user that starts with the hidden marker `<!-- tagsync-plan -->` is edited in place, or
# created the first time. A comment by anyone else is never edited, even one that starts
# with the marker (a reviewer quoting the plan).
# Needs curl, jq and tagsync-api.sh beside this script.
#
# Environment (GitHub Actions sets the first two):
#   GITHUB_REPOSITORY  owner/name
#   GITHUB_API_URL     the REST API (default: https://api.github.com)
#   GITHUB_TOKEN or GH_TOKEN   a token that may comment (the workflow's github.token)
#   PR_NUMBER          the pull request
#   BODY_FILE          the comment (default: tagsync-plan.md, written by tagsync-pr.sh)
#   MARKER             the hidden first line that finds the comment (default: the plan's;
#                      the fleet workflow's is `<!-- tagsync-fleet -->`)
#   COMMENT_AUTHOR     the login whose comment is edited (default: the token's user, as
#                      GET /user says; for the workflow's GITHUB_TOKEN, which may not read
#                      /user, github-actions[bot]). Set it for a GitHub App's installation
#                      token (APP-SLUG[bot]).
# Prints `comment=<created|updated> <url>`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source-path=SCRIPTDIR/../ci source=tagsync-api.sh
. "$(dirname "$0")/tagsync-api.sh"

marker=${MARKER:-'<!-- tagsync-plan -->'}
body=${BODY_FILE:-tagsync-plan.md}
repo=${GITHUB_REPOSITORY:?set GITHUB_REPOSITORY (owner/name)}
pr=${PR_NUMBER:?set PR_NUMBER}
token=${GITHUB_TOKEN:-${GH_TOKEN:?set GITHUB_TOKEN or GH_TOKEN}}

if [ ! -s "$body" ]; then
  echo "tagsync: $body is missing or empty (did the plan step run?); nothing to post" >&2
  exit 1
fi
api_init "${GITHUB_API_URL:-https://api.github.com}" \
  "Authorization: Bearer $token" \
  "Accept: application/vnd.github+json" \
  "X-GitHub-Api-Version: 2022-11-28"

author=${COMMENT_AUTHOR:-}
if [ -z "$author" ]; then
  api_call GET user
  case $api_status in
    200) author=$(jq -r '.login // empty' "$api_answer") ;;
    # An installation token (GitHub Actions' GITHUB_TOKEN) may not read /user; its
    # comments are by github-actions[bot].
    403) author='github-actions[bot]' ;;
    *) api_need GET user ;;
  esac
  if [ -z "$author" ]; then
    echo "tagsync: GET /user named no login; set COMMENT_AUTHOR to the token's login" >&2
    exit 1
  fi
fi

# Through the environment, so no value can change the jq program.
id=$(TAGSYNC_AUTHOR=$author TAGSYNC_MARKER=$marker api_find "repos/$repo/issues/$pr/comments" \
  'select(.user.login == env.TAGSYNC_AUTHOR and (.body // "" | startswith(env.TAGSYNC_MARKER))) | .id')
payload=$(api_body "$body")
if [ -n "$id" ]; then
  api_need PATCH "repos/$repo/issues/comments/$id" "$payload"
  echo "comment=updated $(jq -r .html_url "$api_answer")"
else
  api_need POST "repos/$repo/issues/$pr/comments" "$payload"
  echo "comment=created $(jq -r .html_url "$api_answer")"
fi
