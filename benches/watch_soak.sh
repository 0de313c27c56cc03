#!/usr/bin/env bash
# Soak of `tagsync watch` (BENCHMARKS.md): a release `tagsync emulator` with the demo corp
# sends a sealed callback for every console edit; `tagsync watch` debounces them. Prints,
# every 30 s, watch's RSS and how many events it received, corp reads it made and reports
# it printed. Linux (reads /proc). Ports 18600 and 18601 must be free.
#
#   cargo build --release && DUR=600 RATE=20 benches/watch_soak.sh
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
T=${T:-$repo/target/release/tagsync}
DUR=${DUR:-600}  # seconds
RATE=${RATE:-20} # console edits per batch (a batch about every 1.5 s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
KEY=jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C
cat > apps.yaml <<YAML
corp_id: ww-soak
apps:
  - name: tagsync
    secret: soak-secret
callback:
  url: http://127.0.0.1:18601/wecom/callback
  token: soaktoken
  aes_key: $KEY
YAML
"$T" emulator --seed "$repo/examples/corp.json" --apps apps.yaml --listen 127.0.0.1:18600 >emu.out 2>emu.err &
EMU=$!
sleep 0.5
export WECOM_API_BASE=http://127.0.0.1:18600/cgi-bin/ WECOM_CORP_ID=ww-soak WECOM_CORP_SECRET=soak-secret
"$T" export -o tags.yaml 2>/dev/null
TAG=$(curl -s http://127.0.0.1:18600/emulator/state | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['tag_group'][0]['tag'][0]['id'])")
WECOM_CALLBACK_TOKEN=soaktoken WECOM_CALLBACK_AES_KEY=$KEY RUST_LOG=tagsync=info \
  "$T" watch -c tags.yaml --listen 127.0.0.1:18601 --debounce-ms 1000 >reports.jsonl 2>watch.log &
W=$!
sleep 1
end=$((SECONDS + DUR)); i=0; next=$((SECONDS + 30))
echo "t_s rss_kb events reads reports"
while [ $SECONDS -lt $end ]; do
  pids=()
  for _ in $(seq "$RATE"); do
    i=$((i + 1))
    curl -s -o /dev/null -d "{\"id\":\"$TAG\",\"order\":$((i % 1000 + 1))}" http://127.0.0.1:18600/emulator/console/edit_corp_tag &
    pids+=($!)
  done
  wait "${pids[@]}"
  sleep 1
  if [ $SECONDS -ge $next ]; then
    next=$((SECONDS + 30))
    echo "$SECONDS $(awk '/VmRSS/{print $2}' /proc/$W/status) $(grep -c 'tag event' watch.log) $(grep -c 'read the corp' watch.log) $(wc -l <reports.jsonl)"
  fi
done
sleep 3
echo "end $(awk '/VmRSS/{print $2}' /proc/$W/status) $(grep -c 'tag event' watch.log) $(grep -c 'read the corp' watch.log) $(wc -l <reports.jsonl) edits=$i"
kill "$W" "$EMU"
