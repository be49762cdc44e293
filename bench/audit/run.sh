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
