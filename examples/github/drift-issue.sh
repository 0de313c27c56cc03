#!/usr/bin/env bash
# Opens or updates one open issue labelled `tagsync-drift` with the drift plan, or closes
# it when the corp equals the file again.
# Environment: GH_TOKEN, GITHUB_REPOSITORY, DRIFT (true|false), BODY_FILE (default tagsync-drift.md).
set -euo pipefail
body=${BODY_FILE:-tagsync-drift.md}
label=tagsync-drift
gh label create "$label" --color B60205 --description "the corp differs from tags.yaml" 2>/dev/null || true
number=$(gh issue list --label "$label" --state open --json number --jq '.[0].number // empty')
if [ "$DRIFT" = true ]; then
  if [ -n "$number" ]; then
    gh issue edit "$number" --body-file "$body" >/dev/null
    echo "updated drift issue #$number"
  else
    gh issue create --title "tagsync: the corp's tags differ from tags.yaml" \
      --label "$label" --body-file "$body"
  fi
elif [ -n "$number" ]; then
  gh issue close "$number" --comment "The corp equals the file again."
fi
