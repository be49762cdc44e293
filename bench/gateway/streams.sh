#!/usr/bin/env bash
# Peak RSS of one or more gateway binaries holding STREAMS concurrent SSE
# streams open (the memory part of run.sh alone), taking turns: the
# benchmark's configuration (bench/gateway/config.sh), a stand-in spacing 16
# chunks STREAM_DELAY_MS apart so that all streams are open at once, wrk
# keeping STREAMS connections each with one stream in flight, and
# /usr/bin/time -v for the peak. For A/B comparisons of builds (or of
# environment settings: GW_ENV="MALLOC_ARENA_MAX=1").
#
#   bash bench/gateway/streams.sh target/release/palisade /tmp/palisade-before
#   ROUNDS=3 STREAMS=1000 DURATION=10 bash bench/gateway/streams.sh BIN...
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: bash bench/gateway/streams.sh PALISADE_BINARY..." >&2; exit 2; }
OUT=$PWD/bench/out/gateway-streams
mkdir -p "$OUT"
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
STREAMS=${STREAMS:-1000}
STREAM_DELAY_MS=${STREAM_DELAY_MS:-200}
GW_ENV=${GW_ENV:-}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
ulimit -n 65536 2>/dev/null || true
. bench/gateway/config.sh
PALISADE_BIN=$1 LOADGEN=none gateway_bench_setup
palisade_config 18403 18400 "$OUT/palisade-audit.jsonl" > "$OUT/palisade.yaml"
SBODY='{"model":"demo-model","stream":true,"max_tokens":16,"messages":[{"role":"user","content":"Stream please"}]}'
wrk_post_lua "$SBODY" > "$OUT/stream.lua"
"$1" gateway stand-in --listen 127.0.0.1:18400 --chunk-delay-ms "$STREAM_DELAY_MS" --tokens 16 2>"$OUT/standin.log" & PIDS+=($!)
wait_port 18400
printf '%-40s %5s %10s %10s %8s %8s\n' binary round "idle MiB" "peak MiB" open streams
for round in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    # shellcheck disable=SC2086
    env $GW_ENV PALISADE_BENCH_KEY="$KEY" /usr/bin/time -v -o "$OUT/time.txt" "$bin" gateway --config "$OUT/palisade.yaml" --log-format json 2>"$OUT/palisade.log" & tp=$!
    wait_port 18403
    gw=$(pgrep -P "$tp")
    idle=$(awk '/VmRSS/ {print $2}' "/proc/$gw/status")
    wrk -t2 -c"$STREAMS" -d"${DURATION}s" --timeout 10s -s "$OUT/stream.lua" http://127.0.0.1:18403/v1/chat/completions > "$OUT/wrk.txt" & w=$!
    sleep "$(python3 -c "print($DURATION / 2)")"
    open=$(ss -Htn state established '( sport = :18400 )' | wc -l)
    wait "$w"
    kill -TERM "$gw"; wait "$tp" 2>/dev/null || true
    peak=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$OUT/time.txt")
    n=$(awk '/requests in/ {print $1}' "$OUT/wrk.txt")
    grep -q Non-2xx "$OUT/wrk.txt" && echo "warning: $bin had non-2xx answers" >&2
    label=$bin; [ ${#label} -le 40 ] || label=${label: -40}
    printf '%-40s %5d %10d %10d %8s %8s\n' "$label" "$round" $((idle / 1024)) $((peak / 1024)) "$open" "$n"
  done
done
