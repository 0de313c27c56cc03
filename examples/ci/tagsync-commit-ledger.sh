#!/usr/bin/env bash
# After the apply job, whatever its exit code: commit the ownership ledger back to the
# branch, so the next plan knows which tags tagsync created (see examples/README.md).
#
# Environment:
#   TAGSYNC_CONFIG, TAGSYNC_ARGS   as for the other scripts: the ledger committed is the one
#                        tagsync writes, the path of `--state PATH` in TAGSYNC_ARGS, or else
#                        the .tagsync directory beside TAGSYNC_CONFIG (infra/tags.yaml:
#                        infra/.tagsync); it must be inside the repository
#   TAGSYNC_LEDGER_DIR   overrides that path
#   TAGSYNC_PUSH_BRANCH  the branch to push to (default: $GITHUB_REF_NAME on GitHub,
#                        $CI_COMMIT_BRANCH on GitLab)
#   TAGSYNC_PUSH_URL     the remote to push to (default: origin); on GitLab an https URL
#                        carrying a token that may push
#   GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL   the commit's author (default: tagsync)
#
# Prints `ledger=<unchanged|committed>`. When the branch moved since the checkout, the
# ledger commit is rebased onto it and pushed again (3 tries). Exit 1 when it cannot push.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=tagsync-common.sh
. "$(dirname "$0")/tagsync-common.sh"

dir=${TAGSYNC_LEDGER_DIR:-$(ledger_path)}
branch=${TAGSYNC_PUSH_BRANCH:-${GITHUB_REF_NAME:-${CI_COMMIT_BRANCH:-}}}
remote=${TAGSYNC_PUSH_URL:-origin}
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-tagsync}
export GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-tagsync@users.noreply.github.com}
export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME}
export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}

if [ -z "$dir" ]; then
  echo "tagsync: TAGSYNC_ARGS has --state without a path" >&2
  exit 1
fi
if [ ! -e "$dir" ]; then
  echo "ledger=unchanged"
  exit 0
fi
top=$(git rev-parse --show-toplevel)
case $(realpath -m -- "$dir")/ in
  "$top"/*) ;;
  *)
    echo "tagsync: the ledger $dir is outside the repository, so it cannot be committed;" \
      "keep it as an artifact instead (examples/README.md)" >&2
    exit 1
    ;;
esac
# Not the lock file a killed run may leave behind (tagsync removes it when it finishes).
git add -A -- "$dir" ':(exclude,glob)**/*.lock'
if git diff --cached --quiet -- "$dir"; then
  echo "ledger=unchanged"
  exit 0
fi
if [ -z "$branch" ]; then
  echo "tagsync: set TAGSYNC_PUSH_BRANCH to the branch the ledger goes to" >&2
  exit 1
fi
# [skip ci]: the commit must not start another pipeline.
git commit -q -m "tagsync: update the ownership ledger [skip ci]" -- "$dir"
for try in 1 2 3; do
  if git push -q "$remote" "HEAD:refs/heads/$branch"; then
    echo "ledger=committed"
    exit 0
  fi
  echo "tagsync: the push was refused (try $try); rebasing onto $branch" >&2
  git fetch -q "$remote" "$branch"
  if ! git rebase -q FETCH_HEAD; then
    git rebase --abort || true
    echo "tagsync: the ledger conflicts with a change on $branch; merge it by hand" >&2
    exit 1
  fi
done
echo "tagsync: could not push the ledger to $branch" >&2
exit 1
