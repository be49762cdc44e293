#!/usr/bin/env bash
# Live-cluster scan benchmark: N objects (default 50,000) served by the
# local API server double (release build), scanned with
# `palisade scan --cluster`. Prints wall time and peak RSS.
#
#   bash bench/live/run.sh            # 50,000 objects
#   OBJECTS=100000 bash bench/live/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OBJECTS="${OBJECTS:-50000}"
RUNS="${RUNS:-3}"
OUT=bench/out/live
mkdir -p "$OUT"

if [ ! -x /usr/bin/time ]; then
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi

cargo build --release -p palisade -p palisade-kube-double >/dev/null 2>&1 \
  || cargo build --release -p palisade -p palisade-kube-double
BIN=target/release

rm -f "$OUT/kubeconfig"
"$BIN/kube-double" --objects "$OBJECTS" --kubeconfig-out "$OUT/kubeconfig" 2>"$OUT/double.log" &
DOUBLE=$!
trap 'kill "$DOUBLE" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  [ -s "$OUT/kubeconfig" ] && break
  sleep 0.1
done
[ -s "$OUT/kubeconfig" ] || { echo "the double did not start:"; cat "$OUT/double.log"; exit 1; }
cat "$OUT/double.log"

printf '\n%-44s %10s %12s %10s\n' "run" "wall (s)" "peak RSS" "objects"
for i in $(seq 1 "$RUNS"); do
  set +e
  /usr/bin/time -v "$BIN/palisade" scan --cluster --kubeconfig "$OUT/kubeconfig" \
    --format json --output "$OUT/report.json" 2>"$OUT/time.txt"
  code=$?
  set -e
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then
    echo "palisade failed (exit $code):"; cat "$OUT/time.txt"; exit 1
  fi
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/time.txt" \
    | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f MiB", $2/1024}' "$OUT/time.txt")
  resources=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["resources"])' "$OUT/report.json" 2>/dev/null || echo "?")
  printf '%-44s %10s %12s %10s\n' "palisade scan --cluster (run $i)" "$wall" "$rss" "$resources"
done
findings=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["total"])' "$OUT/report.json" 2>/dev/null || echo "?")
echo
echo "target: < 5 s for 50,000 objects; $findings findings; report in $OUT/report.json"
echo "machine: $(nproc) cores, shared with other work (numbers are noisy)"
