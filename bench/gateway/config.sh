# Sourced by bench/gateway/run.sh and wakeups.sh: the one Palisade
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
