#!/usr/bin/env bash
# CPU time per request and throughput of one or more gateway binaries,
# taking turns: `wrk -t2 -c64` against the stand-in through the benchmark's
# configuration (bench/gateway/config.sh), CPU from /proc/PID/stat around
# the measured run. For A/B comparisons of two builds on this shared host,
# where a single run of each says little.
#
#   bash bench/gateway/cpu.sh target/perf/palisade /tmp/palisade-before
#   ROUNDS=3 DURATION=6 bash bench/gateway/cpu.sh BIN...
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: bash bench/gateway/cpu.sh PALISADE_BINARY..." >&2; exit 2; }
OUT=$PWD/bench/out/gateway-cpu
mkdir -p "$OUT"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
. bench/gateway/config.sh
PALISADE_BIN=$1 LOADGEN=none gateway_bench_setup
palisade_config 18303 18300 "$OUT/palisade-audit.jsonl" > "$OUT/palisade.yaml"
BODY='{"model":"demo-model","max_tokens":16,"messages":[{"role":"user","content":"What is the capital of France?"}]}'
wrk_post_lua "$BODY" > "$OUT/post.lua"
# One stand-in for every binary, from the first one.
"$1" gateway stand-in --listen 127.0.0.1:18300 --chunk-delay-ms 0 --tokens 16 2>"$OUT/standin.log" & PIDS+=($!)
wait_port 18300
ticks=$(getconf CLK_TCK)
printf '%-40s %5s %10s %14s\n' binary round "req/s" "CPU/request"
for round in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    PALISADE_BENCH_KEY=$KEY "$bin" gateway --config "$OUT/palisade.yaml" --log-format json 2>"$OUT/palisade.log" & gw=$!
    wait_port 18303
    wrk -t2 -c64 -d2s -s "$OUT/post.lua" http://127.0.0.1:18303/v1/chat/completions > /dev/null
    t0=$(awk '{print $14 + $15}' "/proc/$gw/stat")
    wrk -t2 -c64 -d"${DURATION}s" -s "$OUT/post.lua" http://127.0.0.1:18303/v1/chat/completions > "$OUT/wrk.txt"
    t1=$(awk '{print $14 + $15}' "/proc/$gw/stat")
    kill "$gw"; wait "$gw" 2>/dev/null || true
    n=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
    rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.txt")
    grep -q Non-2xx "$OUT/wrk.txt" && echo "warning: $bin had non-2xx answers" >&2
    python3 -c "print('%-40s %5d %10s %11.1f us' % ('$bin'[-40:], $round, '$rps', ($t1 - $t0) / $ticks / $n * 1e6))"
  done
done
