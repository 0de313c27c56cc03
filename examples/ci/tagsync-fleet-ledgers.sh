#!/usr/bin/env bash
# Fleet apply's last job: the ledgers the shards handed over (each shard's
# TAGSYNC_LEDGER_OUT of tagsync-fleet.sh, gathered under one directory) put where tagsync
# keeps them, then committed back in one commit by tagsync-commit-ledger.sh. A corp is in
# one shard only, so no two shards hand over the same ledger.
#
# Environment: those of tagsync-commit-ledger.sh (which must be beside this script), and
#   TAGSYNC_FLEET        the fleet file                        (default: fleet.yaml)
#   TAGSYNC_LEDGERS_IN   where the shards' ledgers were gathered (default: ledgers); every
#                        ledger-*.json under it is taken
#   TAGSYNC_LEDGER_DIR   where tagsync keeps the ledgers (default: .tagsync beside the
#                        fleet file; set it when TAGSYNC_ARGS has --state DIR)
#
# Prints `gathered=N`, then what tagsync-commit-ledger.sh prints. Exit 1 when the
# ledgers cannot be pushed.
set -euo pipefail

fleet=${TAGSYNC_FLEET:-fleet.yaml}
from=${TAGSYNC_LEDGERS_IN:-ledgers}
dir=${TAGSYNC_LEDGER_DIR:-$(dirname "$fleet")/.tagsync}
mkdir -p "$dir"
n=0
if [ -d "$from" ]; then
  while IFS= read -r -d '' f; do
    cp "$f" "$dir/"
    n=$((n + 1))
  done < <(find "$from" -type f -name 'ledger-*.json' -print0)
fi
echo "gathered=$n"
TAGSYNC_LEDGER_DIR=$dir bash "$(dirname "$0")/tagsync-commit-ledger.sh"
