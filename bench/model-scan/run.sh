#!/usr/bin/env bash
# Palisade `model scan` against picklescan and modelscan on one corpus:
# wall time and peak RSS of each tool, ratios against Palisade.
# Usage: bash bench/model-scan/run.sh   (from anywhere; needs python3, cargo)
#        KEEP_CORPUS=1 PALISADE_BIN=path/to/palisade bash bench/model-scan/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/model-scan
VENV=bench/out/venv
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
if [ ! -x "$VENV/bin/picklescan" ] || [ ! -x "$VENV/bin/modelscan" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q numpy picklescan==1.0.5 modelscan==0.8.8
fi
[ -n "${PALISADE_BIN:-}" ] || cargo build --release -q -p palisade
PAL=${PALISADE_BIN:-target/release/palisade}
CORPUS="$OUT/corpus"
if [ ! -s "$CORPUS/checkpoint.pt" ]; then
  rm -rf "$CORPUS"
  echo "generating the corpus (1 GiB pickle, 2M-object pickle, 256 MiB torch zip, fixtures)..." >&2
  "$VENV/bin/python" bench/model-scan/make_corpus.py "$CORPUS"
fi
# The corpus takes 1.3 GB: removed afterwards unless KEEP_CORPUS=1.
[ "${KEEP_CORPUS:-0}" = 1 ] || trap 'rm -rf "$CORPUS"' EXIT

# measure CMD... -> "wall_seconds maxrss_kb exit cpu_seconds" (wall from the
# clock around the process, RSS and user+system CPU from /usr/bin/time -v)
measure() {
  local log="$OUT/time.log"
  local rc=0 t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$log" "$@" >"$OUT/last.out" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  local rss cpu
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$log")
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') $rss $rc $cpu"
}

RESULTS=$OUT/results.tsv
: > "$RESULTS"
for case in big_array.pkl many_objects.pkl checkpoint.pt fixtures; do
  target="$CORPUS/$case"
  size=$(du -sb "$target" | cut -f1)
  for tool in palisade picklescan modelscan; do
    case $tool in
      palisade) cmd=("$PAL" model scan "$target" --format json) ;;
      *) cmd=("$VENV/bin/$tool" -p "$target") ;;
    esac
    read -r w r c u < <(measure "${cmd[@]}")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$size" "$tool" "$w" "$r" "$c" "$u" >> "$RESULTS"
  done
done

echo "Model scan benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (shared with other jobs), palisade $(git rev-parse --short HEAD), picklescan 1.0.5, modelscan 0.8.8"
echo
awk -F'\t' '
  { key = $1 "|" $3; w[key] = $4; r[key] = $5; e[key] = $6; u[key] = $7; size[$1] = $2
    if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
    tw[$3] += $4; tu[$3] += $7; if ($5 > tr[$3]) tr[$3] = $5 }
  END {
    print "| case | size | tool | wall | CPU | peak RSS | exit | wall vs Palisade | CPU vs Palisade |"
    print "|---|---:|---|---:|---:|---:|---:|---:|---:|"
    split("palisade picklescan modelscan", tools, " ")
    for (i = 1; i <= n; i++) {
      c = order[i]
      for (t = 1; t <= 3; t++) {
        k = c "|" tools[t]; p = w[c "|palisade"]; pu = u[c "|palisade"]
        ratio = (p > 0 ? sprintf("%.1fx", w[k] / p) : "-")
        cratio = (pu > 0 ? sprintf("%.1fx", u[k] / pu) : "-")
        sz = (size[c] >= 1048576 ? sprintf("%.0f MiB", size[c] / 1048576) : sprintf("%.0f KiB", size[c] / 1024))
        printf "| %s | %s | %s | %.2f s | %.2f s | %.0f MB | %s | %s | %s |\n", c, sz, tools[t], w[k], u[k], r[k] / 1024, e[k], ratio, cratio
      }
    }
    for (t = 1; t <= 3; t++) {
      printf "| **whole corpus** | | %s | %.2f s | %.2f s | %.0f MB (max) | | %.1fx | %.1fx |\n", tools[t], tw[tools[t]], tu[tools[t]], tr[tools[t]] / 1024, tw[tools[t]] / tw["palisade"], (tu["palisade"] > 0 ? tu[tools[t]] / tu["palisade"] : 0)
    }
  }' "$RESULTS"
echo
echo "Detections on fixtures/malicious (files flagged):"
total=$(find "$CORPUS/fixtures/malicious" -type f | wc -l)
"$PAL" model scan "$CORPUS/fixtures/malicious" --format json --severity-threshold high 2>/dev/null \
  | "$VENV/bin/python" -c 'import json,sys; r=json.load(sys.stdin); print("- palisade (high or critical):", len({f["location"]["file"] for f in r["findings"] if f["severity"] in ("high","critical")}), "of", sys.argv[1])' "$total" || true
"$VENV/bin/picklescan" -p "$CORPUS/fixtures/malicious" 2>&1 | grep -E "Infected files" | sed "s/^/- picklescan: /; s/\$/ of $total/" || true
"$VENV/bin/modelscan" -p "$CORPUS/fixtures/malicious" -r json -o "$OUT/modelscan.json" >/dev/null 2>&1 || true
"$VENV/bin/python" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("- modelscan: files with issues:", len({i.get("source") for i in r.get("issues",[])}), "of", sys.argv[2])' "$OUT/modelscan.json" "$total" 2>/dev/null || true
