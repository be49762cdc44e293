#!/usr/bin/env bash
# One large file, files method, SHA-256: Palisade against this machine's
# single-stream SHA-256 rate measured in the same run, from memory (OpenSSL,
# one core, 1 MiB blocks: the SHA instructions alone, no reading) and from
# the page cache (Python hashlib reading 1 MiB at a time). RUNS rounds
# (default 3), taking turns; prints each rate and Palisade's share of it.
# Then, on one core (taskset -c 0), one file against two (two hard links to
# the same file, so no extra disk): what hashing two SHA-256 streams per core
# gains over one, reading included.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/model-sign
SIZE_GIB=${SIZE_GIB:-4}
RUNS=${RUNS:-3}
PAL=${PALISADE_BIN:-target/release/palisade}
[ -n "${PALISADE_BIN:-}" ] || cargo build --release -q -p palisade
mkdir -p "$OUT/one" "$OUT/two"
trap 'rm -rf "$OUT/one" "$OUT/two"' EXIT
F=$OUT/one/model.safetensors
head -c "$((SIZE_GIB << 30))" /dev/urandom > "$F"
ln -f "$F" "$OUT/two/a.safetensors"
ln -f "$F" "$OUT/two/b.safetensors"
BYTES=$((SIZE_GIB << 30))
secs() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
printf '%-6s %22s %22s %22s %14s %14s\n' round "openssl GB/s (memory)" "hashlib GB/s (cache)" "palisade GB/s (cache)" "vs openssl" "vs hashlib"
for r in $(seq "$RUNS"); do
  cat "$F" > /dev/null
  # "... 1048576 bytes: X k" per second; the last field of the sha256 line is
  # the 1 MiB-block rate in thousands of bytes per second.
  ossl=$(openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null | awk '/^sha256/ {v=$NF; sub(/k$/, "", v); print v * 1000 / 1e9}')
  py=$(secs python3 bench/model-sign/sha256_rate.py "$F")
  pal=$(secs "$PAL" model hash "$F")
  awk -v r="$r" -v o="$ossl" -v py="$py" -v pal="$pal" -v b="$BYTES" 'BEGIN {
    p = b / py / 1e9; q = b / pal / 1e9
    printf "%-6s %22.2f %22.2f %22.2f %13.0f%% %13.0f%%\n", r, o, p, q, 100 * q / o, 100 * q / p }'
done
echo "($SIZE_GIB GiB file, warm cache; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '\n%-6s %26s %26s %8s\n' round "1 file, 1 core GB/s" "2 files, 1 core GB/s" gain
for r in $(seq "$RUNS"); do
  cat "$F" > /dev/null
  one=$(secs taskset -c 0 "$PAL" model hash "$F")
  two=$(secs taskset -c 0 "$PAL" model hash "$OUT/two")
  awk -v r="$r" -v one="$one" -v two="$two" -v b="$BYTES" 'BEGIN {
    p = b / one / 1e9; q = 2 * b / two / 1e9
    printf "%-6s %26.2f %26.2f %7.2fx\n", r, p, q, q / p }'
done
