#!/usr/bin/env bash
# Posts BODY_FILE as the pull request's one tagsync comment: the comment carrying the
# hidden marker is edited in place, or created the first time.
# Environment: GH_TOKEN, GITHUB_REPOSITORY, PR_NUMBER, BODY_FILE (default tagsync-plan.md).
set -euo pipefail
marker='<!-- tagsync-plan -->'
body=${BODY_FILE:-tagsync-plan.md}
repo=$GITHUB_REPOSITORY
id=$(gh api --paginate "repos/$repo/issues/$PR_NUMBER/comments" \
  --jq ".[] | select(.body | contains(\"$marker\")) | .id" | head -n 1)
if [ -n "$id" ]; then
  gh api -X PATCH "repos/$repo/issues/comments/$id" -F "body=@$body" >/dev/null
  echo "updated comment $id"
else
  gh api -X POST "repos/$repo/issues/$PR_NUMBER/comments" -F "body=@$body" >/dev/null
  echo "created a comment"
fi
