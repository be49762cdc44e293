#!/usr/bin/env bash
# Palisade `model scan` against picklescan and modelscan on one corpus:
# wall time and peak RSS of each tool, ratios against Palisade.
# Usage: bash bench/model-scan/run.sh   (from anywhere; needs python3, cargo)
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
cargo build --release -q -p palisade
PAL=target/release/palisade
CORPUS="$OUT/corpus"
rm -rf "$CORPUS"
echo "generating the corpus (1 GiB pickle, 2M-object pickle, 256 MiB torch zip, fixtures)..." >&2
"$VENV/bin/python" bench/model-scan/make_corpus.py "$CORPUS"
trap 'rm -rf "$CORPUS"' EXIT

# measure NAME CMD... -> "seconds maxrss_kb exit"
measure() {
  local log="$OUT/time.log"
  local rc=0
  /usr/bin/time -v -o "$log" "$@" >"$OUT/last.out" 2>&1 || rc=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  echo "$wall $rss $rc"
}

printf '%-22s %-11s %9s %10s %6s %9s %9s\n' case tool "wall s" "RSS MB" exit "x slower" "x memory"
for case in big_array.pkl many_objects.pkl checkpoint.pt fixtures; do
  target="$CORPUS/$case"
  read -r pw pr pc < <(measure "$PAL" model scan "$target" --format json)
  read -r sw sr sc < <(measure "$VENV/bin/picklescan" -p "$target")
  read -r mw mr mc < <(measure "$VENV/bin/modelscan" -p "$target")
  for row in "palisade $pw $pr $pc" "picklescan $sw $sr $sc" "modelscan $mw $mr $mc"; do
    set -- $row
    awk -v c="$case" -v t="$1" -v w="$2" -v r="$3" -v e="$4" -v pw="$pw" -v pr="$pr" \
      'BEGIN { printf "%-22s %-11s %9.3f %10.1f %6s %9.1f %9.1f\n", c, t, w, r/1024, e, (pw>0?w/pw:0), (pr>0?r/pr:0) }'
  done
done
echo
echo "detections on fixtures/malicious (files with a finding at or above high / flagged):"
"$PAL" model scan "$CORPUS/fixtures/malicious" --format json --min-severity high \
  | "$VENV/bin/python" -c 'import json,sys; r=json.load(sys.stdin); print("  palisade  ", len({f["location"]["file"] for f in r["findings"]}), "of", sum(len(fs) for _,_,fs in __import__("os").walk(sys.argv[1])))' "$CORPUS/fixtures/malicious"
"$VENV/bin/picklescan" -p "$CORPUS/fixtures/malicious" 2>&1 | grep -E "Infected files" | sed 's/^/  picklescan /' || true
"$VENV/bin/modelscan" -p "$CORPUS/fixtures/malicious" -r json -o "$OUT/modelscan.json" >/dev/null 2>&1 || true
"$VENV/bin/python" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  modelscan  ", len({i.get("source") for i in r.get("issues",[])}), "files with issues")' "$OUT/modelscan.json" 2>/dev/null || true
echo
echo "machine: $(nproc) cores, shared with other jobs; palisade $(git rev-parse --short HEAD)"
