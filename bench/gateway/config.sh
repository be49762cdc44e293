# Sourced by bench/gateway/run.sh, wakeups.sh, instructions.sh and cpu.sh: the one Palisade
# configuration both measure. API key auth, a budget and rate limits far
# above the load, injection blocking and output redaction on, audit records
# to a file.
#
#   palisade_config LISTEN_PORT UPSTREAM_PORT AUDIT_FILE > palisade.yaml
palisade_config() {
  cat <<YAML
listen: 127.0.0.1:$1
upstreams:
  - {name: standin, url: 'http://127.0.0.1:$2', models: ['*']}
tenants:
  - id: bench
    apiKeys: [{env: PALISADE_BENCH_KEY}]
    budgets: [{window: day, tokens: 100000000000}]
    requests: {rate: 10000000, per: second}
    tokens: {rate: 100000000000, per: second}
    maxConcurrent: 100000
    maxTokens: 64
    guard: {injection: block, output: redact}
audit: {path: $3}
YAML
}

# The binaries the single-gateway scripts measure (run from the repository
# root): BIN is PALISADE_BIN or a release build, LOADGEN the open-loop
# generator (the example `openloop`); PIDS are killed on exit; KEY is a
# fresh API key.
gateway_bench_setup() {
  BIN=${PALISADE_BIN:-$PWD/target/release/palisade}
  [ -n "${PALISADE_BIN:-}" ] || cargo build --release -p palisade >/dev/null 2>&1 || cargo build --release -p palisade
  LOADGEN=${LOADGEN:-$PWD/target/release/examples/openloop}
  [ "$LOADGEN" = none ] || [ -x "$LOADGEN" ] || cargo build --release -p palisade-gateway --example openloop
  PIDS=()
  trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
  KEY=sk-bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
}

# wait_port PORT: until something listens on 127.0.0.1:PORT (three minutes at most).
wait_port() {
  for _ in $(seq 900); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.2; done
  echo "port $1 never opened" >&2
  return 1
}

# wrk_post_lua BODY: a wrk script POSTing BODY as JSON with the key $KEY.
wrk_post_lua() {
  cat <<LUA
wrk.method = "POST"
wrk.body = '$1'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA
}
