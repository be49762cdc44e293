#!/usr/bin/env bash
# Thread wake-ups per request: futex and epoll_wait system calls of
# `palisade gateway` (the benchmark's configuration: auth, budgets, limits,
# guard, audit to a file) while the open-loop generator sends chat requests
# at a fixed rate to the stand-in upstream through it.
#
#   bash bench/gateway/wakeups.sh                  # 500 req/s for 5 s
#   RATE=1000 DURATION=8 PALISADE_BIN=path bash bench/gateway/wakeups.sh
#
# Needs strace (apt). Each futex wake of an idle tokio worker costs a context
# switch and, on a VM, an inter-processor interrupt: a count per request that
# anyone can rerun, where wall-time differences drown in this machine's noise.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out/gateway-wakeups
mkdir -p "$OUT"
RATE=${RATE:-500}
DURATION=${DURATION:-5}
command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq strace >/dev/null; }
. bench/gateway/config.sh
gateway_bench_setup

"$BIN" gateway stand-in --listen 127.0.0.1:18100 --chunk-delay-ms 0 --tokens 16 2>"$OUT/standin.log" & PIDS+=($!)
palisade_config 18103 18100 "$OUT/palisade-audit.jsonl" > "$OUT/palisade.yaml"
PALISADE_BENCH_KEY=$KEY "$BIN" gateway --config "$OUT/palisade.yaml" --log-format json 2>"$OUT/palisade.log" & GW=$!
PIDS+=($GW)
wait_port 18100; wait_port 18103
BODY='{"model":"demo-model","max_tokens":16,"messages":[{"role":"user","content":"What is the capital of France?"}]}'
args=(--url http://127.0.0.1:18103/v1/chat/completions --header "Authorization: Bearer $KEY" --header 'content-type: application/json' --body "$BODY")
# Warm up (lazily built patterns, pooled upstream connections), then count.
"$LOADGEN" "${args[@]}" --rate "$RATE" --duration 1 --warmup 0 >/dev/null
strace -c -f -p "$GW" -o "$OUT/strace.txt" & ST=$!
sleep 0.5
"$LOADGEN" "${args[@]}" --rate "$RATE" --duration "$DURATION" --warmup 0 > "$OUT/openloop.json"
sleep 0.5
kill -INT "$ST"; wait "$ST" 2>/dev/null || true
n=$(python3 -c "import json; print(json.load(open('$OUT/openloop.json'))['measured'])")
echo "gateway system calls per request at $RATE req/s ($n requests, strace -c -f):"
# strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall.
awk -v n="$n" '$NF ~ /^(futex|epoll_wait|writev|recvfrom|write|sendto)$/ {printf "  %-11s %6.2f\n", $NF, $4 / n}' "$OUT/strace.txt"
