#!/usr/bin/env bash
# Scan benchmark: Palisade against Checkov on the same generated manifests.
#
#   bash bench/scan/run.sh                 # the full table (Checkov up to 4,000 resources)
#   CHECKOV_MAX=10000 bash bench/scan/run.sh
#   SIZES="1000 10000" bash bench/scan/run.sh
#   PALISADE_BIN=target/release/palisade bash bench/scan/run.sh   # no build
#
# Installs Checkov from PyPI into bench/out/venv (git-ignored), builds
# Palisade in release mode, generates the sets with bench/scan/gen.py (fixed
# seed) and measures wall time (median of $RUNS runs for Palisade, one run for
# Checkov) and peak RSS (/usr/bin/time -v). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/bench/out/scan
SIZES=${SIZES:-"1000 4000 10000 40000 100000"}
CHECKOV_MAX=${CHECKOV_MAX:-4000}
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}
RUNS=${RUNS:-3}
SEED=${SEED:-42}
mkdir -p "$OUT"

if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (apt)" >&2
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi

VENV=$ROOT/bench/out/venv
have=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null || true)
if [ "$have" != "$CHECKOV_VERSION" ]; then
  echo "installing checkov $CHECKOV_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet "checkov==$CHECKOV_VERSION"
fi

# PALISADE_BIN=path measures an already built binary instead.
if [ -n "${PALISADE_BIN:-}" ]; then
  PALISADE=$PALISADE_BIN
else
  echo "building palisade (release)" >&2
  cargo build --release --quiet -p palisade
  PALISADE=$ROOT/target/release/palisade
fi

# run LOG CMD...: runs CMD under /usr/bin/time -v; prints "wall_seconds
# rss_mb cpu_seconds" (CPU = user + system, less sensitive to a busy machine).
run() {
  local log=$1
  shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$log" "$@" >/dev/null 2>>"$log.stderr" || true
  t1=$(date +%s%N)
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  local cpu
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$log")
  awk -v ns=$((t1 - t0)) -v kb="$rss" -v cpu="$cpu" 'BEGIN {printf "%.3f %.0f %.2f\n", ns / 1e9, kb / 1024, cpu}'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

declare -A P_TIME P_CPU
rows=()
for n in $SIZES; do
  dir=$OUT/set-$n
  # Generated once per size, seed and generator version.
  stamp="$n $SEED $(sha256sum bench/scan/gen.py | cut -c1-16)"
  if [ "$(cat "$dir.stamp" 2>/dev/null)" != "$stamp" ]; then
    python3 bench/scan/gen.py --resources "$n" --out "$dir" --seed "$SEED" >"$dir.json"
    echo "$stamp" >"$dir.stamp"
  fi
  files=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"])' "$dir.json")
  # Palisade: the full scan, the JSON report written to a file.
  times=()
  cpus=()
  rss_max=0
  for i in $(seq "$RUNS"); do
    read -r t rss cpu < <(run "$OUT/palisade-$n.time" "$PALISADE" scan "$dir" --format json --output "$OUT/palisade-$n.json")
    times+=("$t")
    cpus+=("$cpu")
    [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  done
  pt=$(printf '%s\n' "${times[@]}" | median)
  pcpu=$(printf '%s\n' "${cpus[@]}" | median)
  P_TIME[$n]=$pt
  P_CPU[$n]=$pcpu
  found=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["findings"]))' "$OUT/palisade-$n.json")
  if [ "$n" -le "$CHECKOV_MAX" ]; then
    echo "checkov on $n resources..." >&2
    read -r ct crss ccpu < <(run "$OUT/checkov-$n.time" "$VENV/bin/checkov" -d "$dir" --framework kubernetes \
      --quiet --compact --skip-download -o json --output-file-path "$OUT/checkov-$n")
    cfound=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d = d if isinstance(d, list) else [d]
print(sum(len(x.get("results", {}).get("failed_checks", [])) for x in d))' "$OUT/checkov-$n/results_json.json" 2>/dev/null || echo "?")
    ratio=$(awk -v c="$ct" -v p="$pt" 'BEGIN {printf "%.0fx", c / p}')
    rows+=("| $n | $files | ${pt} s | ${pcpu} s | ${rss_max} MB | $found | ${ct} s | ${ccpu} s | ${crss} MB | $cfound | $ratio |")
  else
    rows+=("| $n | $files | ${pt} s | ${pcpu} s | ${rss_max} MB | $found | not run | | | | |")
  fi
  echo "${rows[-1]}" >&2
done

echo
echo "Scan benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), palisade $("$PALISADE" --version | cut -d' ' -f2), checkov $CHECKOV_VERSION; Palisade: median of $RUNS runs"
echo
echo "| resources | files | Palisade wall | Palisade CPU | Palisade peak RSS | Palisade findings | Checkov wall | Checkov CPU | Checkov peak RSS | Checkov failed checks | Checkov / Palisade (wall) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
for pair in "1000 10000" "4000 40000" "10000 100000"; do
  set -- $pair
  if [ -n "${P_TIME[$1]:-}" ] && [ -n "${P_TIME[$2]:-}" ]; then
    awk -v a="${P_TIME[$1]}" -v b="${P_TIME[$2]}" -v ca="${P_CPU[$1]}" -v cb="${P_CPU[$2]}" -v n1="$1" -v n2="$2" \
      'BEGIN {printf "Linearity: %d -> %d resources (10x) costs %.1fx the wall time, %.1fx the CPU time\n", n1, n2, b / a, (ca > 0 ? cb / ca : 0)}'
  fi
done
