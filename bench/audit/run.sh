#!/usr/bin/env bash
# Audit benchmarks: tamper-evident log appends (fsync per append vs group
# commit), and Kubernetes audit-event detection throughput on one core.
# Rerun: bash bench/audit/run.sh   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/out
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }

echo "## Log appends (200-byte records, each appender waits for its ack)"
cargo build --release -q -p palisade-audit --example append_bench
for threads in 16 256; do
  ./target/release/examples/append_bench bench/out/audit-append "$threads" 100 | grep -v '^|---' | grep -v '^| mode' || true
done

echo
echo "## Detection throughput (palisade detect k8s-audit, one core: taskset -c 0)"
N=${AUDIT_EVENTS:-500000}
EV=bench/out/audit-events-$N.jsonl
[ -f "$EV" ] || python3 bench/audit/gen_events.py "$N" "$EV"
cargo build --release -q -p palisade
/usr/bin/time -v taskset -c 0 ./target/release/palisade detect k8s-audit "$EV" --format jsonl -o bench/out/audit-findings.jsonl 2> bench/out/audit-time.txt || true
python3 - "$N" "$EV" <<'PY'
import re, sys, os
n, ev = int(sys.argv[1]), sys.argv[2]
t = open("bench/out/audit-time.txt").read()
g = lambda k: re.search(k + r": ([0-9.:]+)", t).group(1)
wall = g("Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)")
parts = [float(x) for x in wall.split(":")]
wall_s = parts[-1] + 60 * (parts[-2] if len(parts) > 1 else 0) + 3600 * (parts[-3] if len(parts) > 2 else 0)
cpu = float(g("User time \\(seconds\\)")) + float(g("System time \\(seconds\\)"))
rss = int(g("Maximum resident set size \\(kbytes\\)"))
findings = sum(1 for _ in open("bench/out/audit-findings.jsonl"))
size = os.path.getsize(ev) / 1e6
print("| events | input MB | findings | wall s | CPU s | events/s (wall) | events/s (CPU) | peak RSS MB |")
print("|---|---|---|---|---|---|---|---|")
print(f"| {n} | {size:.0f} | {findings} | {wall_s:.2f} | {cpu:.2f} | {n / wall_s:,.0f} | {n / cpu:,.0f} | {rss / 1024:.1f} |")
PY
echo "(no peer: Falco's k8saudit plugin is not packaged for Debian; see README)"
