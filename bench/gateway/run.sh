#!/usr/bin/env bash
# Gateway benchmark: the same stand-in upstream reached directly, through
# nginx (1 worker, plain reverse proxy), through LiteLLM proxy, and through
# Palisade with auth, budgets, injection and output filters on.
#
#   bash bench/gateway/run.sh            # DURATION=10 CONNS=64 to change the load
#
# Installs its peers: wrk, nginx and time from Debian; LiteLLM from PyPI into
# bench/out/litellm-venv. The fixed-rate latency run uses the workspace's own
# open-loop generator (bench/gateway/openloop.rs, built as the example
# `openloop` of palisade-gateway; Debian has no wrk2). Everything listens on loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out/gateway
mkdir -p "$OUT"
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
RATE=${RATE:-1000}
STREAMS=${STREAMS:-1000}
ROUNDS=${ROUNDS:-3}
# Milliseconds between the 16 chunks of a stream in the streams run: 200 ms
# makes each stream last 3.2 s, so all $STREAMS are open at once however
# fast the gateway turns them over (at 20 ms, wrk kept only 300 to 600 open).
STREAM_DELAY_MS=${STREAM_DELAY_MS:-200}

need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v nginx >/dev/null || need_apt+=(nginx-light)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# LOADGEN=path uses an openloop built elsewhere; LOADGEN=none skips the fixed-rate p99 run.
LOADGEN=${LOADGEN:-$ROOT/target/release/examples/openloop}
[ "$LOADGEN" != none ] || LOADGEN=
if [ -n "$LOADGEN" ] && [ ! -x "$LOADGEN" ]; then
  cargo build --release -p palisade-gateway --example openloop >/dev/null 2>&1 || cargo build --release -p palisade-gateway --example openloop
fi
VENV=$ROOT/bench/out/litellm-venv
if [ ! -x "$VENV/bin/litellm" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'litellm[proxy]'
fi
# PALISADE_BIN=path skips the build (a release binary built elsewhere).
BIN=${PALISADE_BIN:-$ROOT/target/release/palisade}
[ -n "${PALISADE_BIN:-}" ] || cargo build --release -p palisade >/dev/null 2>&1 || cargo build --release -p palisade

PIDS=()
STREAM_GW=
cleanup() {
  for p in "${PIDS[@]}" ${STREAM_GW:+$(pgrep -P "$STREAM_GW")}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# wait_port comes from bench/gateway/config.sh (sourced below, before its first use).

# One API key for LiteLLM (master key) and Palisade (tenant key).
KEY=sk-bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

# The upstream: no delay for throughput; a second one with 20 ms between
# chunks for the concurrent-streams run.
"$BIN" gateway stand-in --listen 127.0.0.1:18000 --chunk-delay-ms 0 --tokens 16 2>"$OUT/standin.log" & PIDS+=($!)
"$BIN" gateway stand-in --listen 127.0.0.1:18010 --chunk-delay-ms "$STREAM_DELAY_MS" --tokens 16 2>"$OUT/standin-streams.log" & PIDS+=($!)

# nginx, one worker, plain reverse proxy with upstream keep-alive.
cat > "$OUT/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream standin { server 127.0.0.1:18000; keepalive 128; }
  server {
    listen 127.0.0.1:18001;
    location / {
      proxy_pass http://standin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
nginx -c "$OUT/nginx.conf" -p "$OUT" & PIDS+=($!)

# LiteLLM proxy, one worker, the stand-in as an OpenAI-compatible model.
cat > "$OUT/litellm.yaml" <<EOF
model_list:
  - model_name: demo-model
    litellm_params:
      model: openai/demo-model
      api_base: http://127.0.0.1:18000/v1
      api_key: sk-upstream
litellm_settings:
  telemetry: false
EOF
# LiteLLM refuses to start without a master key; it checks it on every request,
# as Palisade checks its API key.
LITELLM_MASTER_KEY=$KEY LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR "$VENV/bin/litellm" --config "$OUT/litellm.yaml" \
  --host 127.0.0.1 --port 18002 --num_workers 1 >"$OUT/litellm.log" 2>&1 & PIDS+=($!)

# Palisade: the configuration of bench/gateway/config.sh (auth, budgets,
# limits, guard, audit), and a second gateway for the streams run.
. bench/gateway/config.sh
palisade_config 18003 18000 "$OUT/palisade-audit.jsonl" > "$OUT/palisade.yaml"
palisade_config 18013 18010 "$OUT/palisade-streams-audit.jsonl" > "$OUT/palisade-streams.yaml"
PALISADE_BENCH_KEY=$KEY "$BIN" gateway --config "$OUT/palisade.yaml" --log-format json 2>"$OUT/palisade.log" & PIDS+=($!)
PALISADE_BENCH_KEY=$KEY /usr/bin/time -v -o "$OUT/palisade-streams.time" "$BIN" gateway --config "$OUT/palisade-streams.yaml" --log-format json 2>"$OUT/palisade-streams.log" &
STREAM_GW=$!
for p in 18000 18001 18002 18003 18010 18013; do wait_port $p; done

BODY='{"model":"demo-model","max_tokens":16,"messages":[{"role":"user","content":"What is the capital of France?"}]}'
cat > "$OUT/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
EOF
# Warm up every path once (LiteLLM answers slowly on its first request).
for p in 18000 18001 18002 18003; do
  curl -sf -o /dev/null -H "Authorization: Bearer $KEY" -H 'content-type: application/json' -d "$BODY" http://127.0.0.1:$p/v1/chat/completions || { echo "port $p does not answer"; cat "$OUT/litellm.log" | tail -20; exit 1; }
done

# ROUNDS rounds (default 3), every path in turn in each, so that a slow
# minute on this shared host hits all of them; each column is the median of
# the rounds (the lower middle for an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -A RPS P99 P50 RPS_ALL P99_ALL P50_ALL
for round in $(seq "$ROUNDS"); do
for name in direct:18000 nginx:18001 litellm:18002 palisade:18003; do
  n=${name%%:*}; p=${name##*:}
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 10s -s "$OUT/post.lua" "http://127.0.0.1:$p/v1/chat/completions" > "$OUT/wrk-$n-$round.txt"
  RPS_ALL[$n]+=" $(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-$n-$round.txt")"
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$OUT/wrk-$n-$round.txt"); [ -n "$non2xx" ] && echo "warning: $n had $non2xx non-2xx answers" >&2
  errs=$(grep 'Socket errors' "$OUT/wrk-$n-$round.txt" || true); [ -n "$errs" ] && echo "warning: $n:$errs" >&2
  # LiteLLM answers ~13 req/s here: at 1,000 req/s its queue, not its latency,
  # would be measured, and its backlog would still burn CPU during the next run.
  if [ -z "$LOADGEN" ] || [ "$n" = litellm ]; then continue; fi
  # Open loop: latency from each request's scheduled send time (no coordinated omission).
  "$LOADGEN" --url "http://127.0.0.1:$p/v1/chat/completions" --rate "$RATE" --duration "$DURATION" --warmup 2 \
    --header "Authorization: Bearer $KEY" --header 'content-type: application/json' --body "$BODY" \
    > "$OUT/openloop-$n-$round.json" || echo "warning: $n: openloop reported errors: $(cat "$OUT/openloop-$n-$round.json")" >&2
  P99_ALL[$n]+=" $(python3 -c "import json; d=json.load(open('$OUT/openloop-$n-$round.json')); print('%.3f' % d['p99_ms'])")"
  P50_ALL[$n]+=" $(python3 -c "import json; d=json.load(open('$OUT/openloop-$n-$round.json')); print('%.3f' % d['p50_ms'])")"
done
done
for n in direct nginx litellm palisade; do
  # shellcheck disable=SC2086
  RPS[$n]=$(median ${RPS_ALL[$n]})
  if [ -n "${P99_ALL[$n]:-}" ]; then
    # shellcheck disable=SC2086
    P99[$n]=$(median ${P99_ALL[$n]}); P50[$n]=$(median ${P50_ALL[$n]})
  else
    P99[$n]=nan; P50[$n]=nan
  fi
done

# 1,000 concurrent streams through Palisade (16 chunks, $STREAM_DELAY_MS ms apart).
GW_PID=$(pgrep -P "$STREAM_GW")
IDLE_KB=$(awk '/VmRSS/ {print $2}' "/proc/$GW_PID/status")
SBODY='{"model":"demo-model","stream":true,"max_tokens":16,"messages":[{"role":"user","content":"Stream please"}]}'
# wrk keeps $STREAMS connections each with one stream open at all times.
sed -e "s/^wrk.body = .*/wrk.body = '$SBODY'/" "$OUT/post.lua" > "$OUT/stream.lua"
wrk -t2 -c"$STREAMS" -d"${DURATION}s" --timeout 10s -s "$OUT/stream.lua" http://127.0.0.1:18013/v1/chat/completions > "$OUT/wrk-streams.txt" &
WRK=$!
# Streams open at once: the gateway's connections to the stand-in, counted
# twice during the run.
OPEN=()
for _ in 1 2; do
  sleep "$(python3 -c "print($DURATION / 3)")"
  OPEN+=("$(ss -Htn state established '( sport = :18010 )' | wc -l)")
done
wait "$WRK"
STREAM_OK="wrk: $(awk '/requests in/ {print $1}' "$OUT/wrk-streams.txt") streams, non-2xx: $(awk '/Non-2xx/ {n=$NF} END {print n+0}' "$OUT/wrk-streams.txt")"
# $STREAM_GW is /usr/bin/time: stop the gateway under it so time writes its report.
kill -TERM "$GW_PID"; wait "$STREAM_GW" || true
RSS_KB=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$OUT/palisade-streams.time")

echo
if [ -n "$LOADGEN" ]; then lat="open loop at $RATE req/s for p50/p99"; else lat="LOADGEN=none: fixed-rate p99 not measured"; fi
echo "Gateway benchmark ($(nproc) cores, loopback, ${DURATION}s per run, wrk -t2 -c$CONNS; $lat; median of $ROUNDS rounds)"
echo "machine shared with other work (load average:$(uptime | sed 's/.*load average://')): numbers are indicative"
printf '%-10s %12s %10s %14s %14s %14s\n' path "req/s" "vs nginx" "p50@${RATE}rps" "p99@${RATE}rps" "added p99"
for n in direct nginx litellm palisade; do
  ratio=$(python3 -c "print('%.2f' % (${RPS[$n]}/${RPS[nginx]}))")
  added=$(python3 -c "print('%.3f ms' % (float('${P99[$n]}')-float('${P99[direct]}')))")
  printf '%-10s %12s %10s %11s ms %11s ms %14s\n' "$n" "${RPS[$n]}" "${ratio}x" "${P50[$n]:-nan}" "${P99[$n]}" "$added"
done
python3 -c "print('palisade / litellm throughput: %.1fx' % (${RPS[palisade]}/${RPS[litellm]}))"
echo "req/s by round: direct${RPS_ALL[direct]}; nginx${RPS_ALL[nginx]}; litellm${RPS_ALL[litellm]}; palisade${RPS_ALL[palisade]}"
python3 -c "n='${RPS_ALL[nginx]}'.split(); p='${RPS_ALL[palisade]}'.split(); print('palisade / nginx by round: ' + ' '.join('%.2fx' % (float(a) / float(b)) for a, b in zip(p, n)))"
[ -z "$LOADGEN" ] || echo "p99 ms by round: direct${P99_ALL[direct]}; nginx${P99_ALL[nginx]}; palisade${P99_ALL[palisade]}"
echo "palisade RSS: $((IDLE_KB / 1024)) MiB idle after start-up; peak $((RSS_KB / 1024)) MiB with $STREAMS concurrent streams (16 chunks, $STREAM_DELAY_MS ms apart; upstream streams open at 1/3 and 2/3 of the run: ${OPEN[*]}; $STREAM_OK)"
