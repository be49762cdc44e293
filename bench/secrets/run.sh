#!/usr/bin/env bash
# Reconcile cost of the secrets lifecycle for 10,000 Secrets and 5,000
# workloads (each workload consumes two Secrets; half the Secrets are due).
#  1. the pure planners (what to rotate now + which workloads roll), in process;
#  2. one full pass of `palisade secrets rotate --cluster` against the local
#     API server double (kube-double), dry run and applied (--once: 5,000
#     rotations, 5,000 rollouts, Events and audit records over HTTP);
#  3. the running controller (`palisade secrets controller`) against a fresh
#     double: time to convergence, per-reconcile latency from its /metrics
#     histogram, single-Secret change latency, peak RSS
#     (bench/secrets/controller_bench.py).
# Usage: bench/secrets/run.sh [SECRETS] [WORKLOADS] [CHANGES]
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-10000}"
M="${2:-5000}"
CHANGES="${3:-20}"
OUT=bench/out/secrets
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release -q -p palisade -p palisade-kube-double
cargo build --release -q -p palisade-secrets --example plan_bench

echo "== pure planners (median of 5)"
target/release/examples/plan_bench "$N" "$M"

rm -f "$OUT/kubeconfig"
target/release/kube-double --secrets "$N" --workloads "$M" --kubeconfig-out "$OUT/kubeconfig" 2>"$OUT/double.log" &
DOUBLE=$!
trap 'kill $DOUBLE 2>/dev/null || true; [ -z "${DOUBLE2:-}" ] || kill $DOUBLE2 2>/dev/null || true' EXIT
for _ in $(seq 600); do [ -s "$OUT/kubeconfig" ] && break; sleep 0.1; done
head -c 32 /dev/urandom > "$OUT/audit-key"

run() { # name, args...
  local name=$1; shift
  /usr/bin/time -v target/release/palisade secrets rotate --cluster --kubeconfig "$OUT/kubeconfig" \
    --now 2026-12-01T12:00:00Z --max-rollouts 1000000 --format json "$@" >"$OUT/$name.json" 2>"$OUT/$name.time" || true
  local wall rss rot roll
  wall=$(grep 'Elapsed (wall clock)' "$OUT/$name.time" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$OUT/$name.time" | awk '{print $NF}')
  rot=$(grep -c '"action": "rotate"' "$OUT/$name.json" || true)
  roll=$(grep -c '"action": "roll"' "$OUT/$name.json" || true)
  printf '%-22s %10s %12s %10s %10s\n' "$name" "$wall" "$((rss / 1024)) MiB" "$rot" "$roll"
}
echo
echo "== one pass against kube-double ($N Secrets, $M Deployments)"
printf '%-22s %10s %12s %10s %10s\n' pass wall peak-RSS rotations rollouts
run dry-run --dry-run
run once --once --audit-key-file "$OUT/audit-key" --audit-log "$OUT/audit.jsonl"
run once-again --once --audit-key-file "$OUT/audit-key" --audit-log "$OUT/audit.jsonl"
echo "(no peer: stakater Reloader and External Secrets are Go controllers with no equivalent one-pass mode to time)"

echo
echo "== the running controller against a fresh kube-double ($N Secrets, $M Deployments)"
echo "load: $(uptime)"
kill $DOUBLE 2>/dev/null || true
rm -f "$OUT/kubeconfig2"
target/release/kube-double --secrets "$N" --workloads "$M" --kubeconfig-out "$OUT/kubeconfig2" 2>"$OUT/double2.log" &
DOUBLE2=$!
for _ in $(seq 600); do [ -s "$OUT/kubeconfig2" ] && break; sleep 0.1; done
python3 bench/secrets/controller_bench.py target/release/palisade "$OUT/kubeconfig2" "$OUT" "$CHANGES"
echo "load: $(uptime)"
