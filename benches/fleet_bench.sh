#!/usr/bin/env bash
# Fleet plan benchmark (BENCHMARKS.md, "Fleet mode"): a release `tagsync emulator`
# hosting CORPS corps of TAGS tags each (every call answered after LAT ms), and
# `tagsync fleet plan` of a fleet file whose base file equals every corp (so each corp
# costs exactly its unavoidable reads: gettoken and one list). For each concurrency in
# CONC, RUNS runs of the whole fleet and of the shard 1/4: wall time and peak RSS
# (`/usr/bin/time`), and the floor corps × 2 reads × LAT ÷ concurrency. Linux; the port
# PORT must be free.
#
#   cargo build --release --bin tagsync && benches/fleet_bench.sh
#   CORPS=1000 TAGS=300 CONC="8 32 64" RUNS=3 LAT=50 FORMAT=json benches/fleet_bench.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
T=${T:-$repo/target/release/tagsync}
CORPS=${CORPS:-1000}
TAGS=${TAGS:-300}
CONC=${CONC:-"8 32 64"}
RUNS=${RUNS:-3}
LAT=${LAT:-50}
PORT=${PORT:-18700}
FORMAT=${FORMAT:-json} # text, markdown or json (the result is checked in the JSON only)
work=$(mktemp -d)
EMU=
trap '[ -n "$EMU" ] && kill "$EMU"; rm -rf "$work"' EXIT
cd "$work"

# One seed shared by every corp (groups of 30 tags), the same tags as the base file.
python3 - "$CORPS" "$TAGS" <<'PY'
import json, sys
corps, tags = int(sys.argv[1]), int(sys.argv[2])
groups, yaml = [], ["version: 1", "groups:"]
for g in range((tags + 29) // 30):
    names = [f"标签{g:02d}-{t:02d}" for t in range(min(30, tags - 30 * g))]
    groups.append({"group_id": f"etG{g:04d}", "group_name": f"分组{g:02d}", "create_time": 1,
                   "order": 100000 - g,
                   "tag": [{"id": f"etT{g:04d}{t:02d}", "name": n, "create_time": 1, "order": 1000 - t}
                           for t, n in enumerate(names)]})
    yaml += [f"  - name: 分组{g:02d}", "    tags: [" + ", ".join(names) + "]"]
json.dump({"errcode": 0, "errmsg": "ok", "tag_group": groups}, open("seed.json", "w"), ensure_ascii=False)
open("base.yaml", "w").write("\n".join(yaml) + "\n")
with open("apps.yaml", "w") as f:
    f.write("corps:\n")
    for i in range(corps):
        f.write(f"  - corp_id: ww-bench-{i:04d}\n    apps: [{{name: tagsync, secret: bench-secret}}]\n    seed: seed.json\n")
with open("fleet.yaml", "w") as f:
    f.write("version: 1\ndefaults:\n  files: [base.yaml]\ncorps:\n")
    for i in range(corps):
        f.write(f"  - id: c{i:04d}\n    corp_id: ww-bench-{i:04d}\n    secret_env: BENCH_SECRET\n")
PY

"$T" emulator --apps apps.yaml --latency-ms "$LAT" --listen "127.0.0.1:$PORT" >emu.out 2>emu.err &
EMU=$!
for _ in $(seq 600); do grep -q listening emu.out 2>/dev/null && break; sleep 0.1; done
echo "emulator: $CORPS corps x $TAGS tags, RSS $(awk '/VmRSS/{print $2}' "/proc/$EMU/status") kB"
export BENCH_SECRET=bench-secret

echo "corps concurrency run wall_s peak_rss_kb floor_s"
for c in $CONC; do
  for shard in "" "1/4"; do
    for r in $(seq "$RUNS"); do
      args=(fleet plan -f fleet.yaml --concurrency "$c" --format "$FORMAT"
        --api-base "http://127.0.0.1:$PORT/cgi-bin/")
      [ -n "$shard" ] && args+=(--shard "$shard")
      /usr/bin/time -f "%e %M" -o time.txt "$T" "${args[@]}" >out.json 2>err.txt || {
        echo "run failed (exit $?):"; head -c 2000 err.txt; exit 1; }
      if [ "$FORMAT" = json ]; then
        n=$(python3 -c "
import json; d = json.load(open('out.json'))
bad = [c['id'] for c in d['corps'] if c['result'] != 'no_changes']
assert not bad, bad
print(len(d['corps']))")
      else
        n=$(grep -Eo '[0-9]+ corps?: [0-9]+ no changes' out.json | head -1 | cut -d' ' -f1)
        grep -Eq "^(## )?tagsync fleet plan.*: $n corps?: $n no changes" out.json || {
          echo "not every corp planned to no changes:"; head -5 out.json; exit 1; }
      fi
      read -r wall rss <time.txt
      floor=$(python3 -c "print(round($n * 2 * $LAT / 1000 / $c, 2))")
      echo "$n $c $r $wall $rss $floor"
    done
  done
done
