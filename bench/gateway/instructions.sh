#!/usr/bin/env bash
# Instructions per request of `palisade gateway` (the benchmark's
# configuration of bench/gateway/config.sh, one serving thread), counted by
# callgrind: repeatable whatever else the machine is doing, unlike
# wall-clock numbers on this shared host.
#
#   bash bench/gateway/instructions.sh               # 1,000 requests at 100 req/s
#   RATE=100 DURATION=10 PALISADE_BIN=path bash bench/gateway/instructions.sh
#
# Needs valgrind (Debian). The gateway runs under callgrind with
# instrumentation off; after a warm-up (lazily built patterns, pooled
# upstream connection) it is switched on for the measured requests only.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out/gateway-instructions
rm -rf "$OUT"; mkdir -p "$OUT"
RATE=${RATE:-100}
DURATION=${DURATION:-10}
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
. bench/gateway/config.sh
gateway_bench_setup

"$BIN" gateway stand-in --listen 127.0.0.1:18200 --chunk-delay-ms 0 --tokens 16 2>"$OUT/standin.log" & PIDS+=($!)
{ echo "workers: 1"; palisade_config 18203 18200 "$OUT/palisade-audit.jsonl"; } > "$OUT/palisade.yaml"
PALISADE_BENCH_KEY=$KEY valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
  "$BIN" gateway --config "$OUT/palisade.yaml" --log-format json 2>"$OUT/palisade.log" & GW=$!
PIDS+=($GW)
wait_port 18200; wait_port 18203
BODY='{"model":"demo-model","max_tokens":16,"messages":[{"role":"user","content":"What is the capital of France?"}]}'
args=(--url http://127.0.0.1:18203/v1/chat/completions --header "Authorization: Bearer $KEY" --header 'content-type: application/json' --body "$BODY")
"$LOADGEN" "${args[@]}" --rate "$RATE" --duration 3 --warmup 0 >/dev/null
callgrind_control -i on "$GW" >/dev/null
"$LOADGEN" "${args[@]}" --rate "$RATE" --duration "$DURATION" --warmup 0 > "$OUT/openloop.json"
callgrind_control -i off "$GW" >/dev/null
n=$(python3 -c "import json; d=json.load(open('$OUT/openloop.json')); assert d['errors'] == 0 and d['non_2xx'] == 0, d; print(d['measured'])")
# SIGINT: the gateway drains and exits, and callgrind writes its profile.
kill -INT "$GW"; wait "$GW" 2>/dev/null || true
total=$(callgrind_annotate "$OUT/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}')
echo "gateway instructions per chat request (callgrind, one serving thread, $n requests at $RATE req/s): $((total / n))"
echo "profile: $OUT/callgrind.out (callgrind_annotate --inclusive=yes)"
