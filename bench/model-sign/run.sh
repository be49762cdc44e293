#!/usr/bin/env bash
# Palisade vs the OpenSSF reference (model_signing 1.1.1) signing a 4 GiB
# single-file model and a 4 x 1 GiB sharded model, warm and cold cache,
# SHA-256 and BLAKE3, beside this machine's single-stream SHA-256 rate.
# Prints one table; generated models go to bench/out/ and are deleted after.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/model-sign
VENV=bench/out/venv-ms
SIZE_GIB=${SIZE_GIB:-4}
RUNS=${RUNS:-3}
mkdir -p "$OUT"
trap 'rm -rf "$OUT/single" "$OUT/sharded"' EXIT

command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
if [ ! -x "$VENV/bin/model_signing" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check model-signing==1.1.1 pyOpenSSL
fi
if [ -z "${PALISADE_BIN:-}" ]; then
  cargo build --release -q -p palisade
fi
PAL=${PALISADE_BIN:-target/release/palisade}
PY=$VENV/bin/python

# Models: random bytes (incompressible; the page cache holds them when warm).
mkdir -p "$OUT/single" "$OUT/sharded"
if [ ! -s "$OUT/single/model.safetensors" ]; then
  head -c "$((SIZE_GIB << 30))" /dev/urandom > "$OUT/single/model.safetensors"
fi
for i in 1 2 3 4; do
  f="$OUT/sharded/model-0000$i-of-00004.safetensors"
  [ -s "$f" ] || head -c "$((SIZE_GIB << 28))" /dev/urandom > "$f"
done
"$PY" - "$OUT" <<'PY'
import sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization
k = ec.generate_private_key(ec.SECP256R1())
open(f"{sys.argv[1]}/key.pem", "wb").write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
PY
cat > "$OUT/ref_sign.py" <<'PY'
import sys
from model_signing import hashing, signing
key, model, sig, method, hash_type = sys.argv[1:6]
hc = hashing.Config()
if method == "shards":
    hc.use_shard_serialization(hashing_algorithm=hash_type)
else:
    hc.use_file_serialization(hashing_algorithm=hash_type)
signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(hc).sign(model, sig)
PY

COLD=no
if sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then COLD=yes; fi
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
warm() { cat "$@" > /dev/null; }

BYTES=$(( SIZE_GIB << 30 ))
RESULTS=$OUT/results.tsv
: > "$RESULTS"
# measure LABEL CACHE FILES... -- CMD...: wall seconds and peak RSS (MB).
measure() {
  local label=$1 cache=$2; shift 2
  local files=(); while [ "$1" != "--" ]; do files+=("$1"); shift; done; shift
  if [ "$cache" = cold ]; then drop; else warm "${files[@]}"; fi
  /usr/bin/time -f '%e %M' -o "$OUT/time.txt" "$@" > /dev/null 2> "$OUT/err.txt" || { cat "$OUT/err.txt" >&2; return 1; }
  read -r wall rss < "$OUT/time.txt"
  printf '%s\t%s\t%s\t%s\n' "$label" "$cache" "$wall" "$((rss / 1024))" >> "$RESULTS"
}

S=$OUT/single/model.safetensors
SH=("$OUT"/sharded/*.safetensors)
caches=(warm); [ "$COLD" = yes ] && caches+=(cold)
# RUNS rounds of every case (default 3), Palisade and the reference taking
# turns, so a slow minute on this shared machine hits both; the table shows
# each case's median wall time and its largest peak RSS.
for round in $(seq "$RUNS"); do
for cache in "${caches[@]}"; do
  # coreutils' sha256sum is a slow reference point: once is enough.
  [ "$round" = 1 ] && measure "sha256sum (single stream)" "$cache" "$S" -- sha256sum "$S"
  measure "python hashlib sha256 (single stream)" "$cache" "$S" -- "$PY" bench/model-sign/sha256_rate.py "$S"
  # What the disk gives two readers at once (no hashing): the limit of the
  # parallel cases when the cache is cold.
  [ "$cache" = cold ] && measure "disk read, 2 readers (cat)" cold "${SH[@]}" -- bash -c 'cat "$1" "$2" > /dev/null & cat "$3" "$4" > /dev/null; wait' _ "${SH[@]}"
  for hash in sha256 blake3; do
    measure "1x${SIZE_GIB}G files $hash palisade" "$cache" "$S" -- $PAL model sign "$OUT/single" --key "$OUT/key.pem" --signature "$OUT/p.sig" --hash "$hash"
    measure "1x${SIZE_GIB}G files $hash model_signing" "$cache" "$S" -- "$PY" "$OUT/ref_sign.py" "$OUT/key.pem" "$OUT/single" "$OUT/r.sig" files "$hash"
    measure "4x$((SIZE_GIB * 256))M files $hash palisade" "$cache" "${SH[@]}" -- $PAL model sign "$OUT/sharded" --key "$OUT/key.pem" --signature "$OUT/p.sig" --hash "$hash"
    measure "4x$((SIZE_GIB * 256))M files $hash model_signing" "$cache" "${SH[@]}" -- "$PY" "$OUT/ref_sign.py" "$OUT/key.pem" "$OUT/sharded" "$OUT/r.sig" files "$hash"
  done
  measure "1x${SIZE_GIB}G shards(1GB) sha256 palisade" "$cache" "$S" -- $PAL model sign "$OUT/single" --key "$OUT/key.pem" --signature "$OUT/p.sig" --method shards
  measure "1x${SIZE_GIB}G shards(1GB) sha256 model_signing" "$cache" "$S" -- "$PY" "$OUT/ref_sign.py" "$OUT/key.pem" "$OUT/single" "$OUT/r.sig" shards sha256
done
done

echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load average now: $(cut -d' ' -f1-3 /proc/loadavg) (shared with other jobs)"
echo "Cold cache runs: $COLD (drop_caches $( [ "$COLD" = yes ] && echo permitted || echo 'not permitted here'))"
awk -F'\t' -v bytes="$BYTES" -v cores="$(nproc)" -v runs="$RUNS" '
  # Median of the rounds of each case (the lower middle for an even count).
  function median(key,   n, i, j, t, a) {
    n = split(walls[key], a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return a[int((n + 1) / 2)] + 0
  }
  {
    key = $2 "|" $1
    if (!(key in walls)) { order[++n] = key; label[n] = $1; cache[n] = $2 }
    walls[key] = walls[key] " " $3; nruns[key]++
    if ($4 + 0 > rss[key] + 0) rss[key] = $4
    if (nruns[key] == 1 || $3 + 0 < lo[key] + 0) lo[key] = $3
    if (nruns[key] == 1 || $3 + 0 > hi[key] + 0) hi[key] = $3
  }
  END {
    for (i = 1; i <= n; i++) w[order[i]] = median(order[i])
    for (i = 1; i <= n; i++) if (label[i] ~ /single stream/) { c = cache[i]; if (!(c in best) || w[order[i]] < best[c]) best[c] = w[order[i]] }
    for (i = 1; i <= n; i++) if (label[i] ~ /^disk read/) disk[cache[i]] = bytes / w[order[i]] / 1e9
    printf "%-44s %-5s %8s %13s %7s %7s %13s %s\n", "run", "cache", "median s", "min-max s", "GB/s", "RSS MB", "vs ref", "vs 1-stream/limit"
    for (i = 1; i <= n; i++) {
      k = order[i]; gbs = bytes / w[k] / 1e9
      ratio = ""
      if (label[i] ~ / palisade$/) {
        ref = label[i]; sub(/ palisade$/, " model_signing", ref)
        if ((cache[i] "|" ref) in w) ratio = sprintf("%.2fx faster", w[cache[i] "|" ref] / w[k])
      }
      lim = ""
      if (label[i] ~ /sha256 palisade$/ && best[cache[i]] > 0) {
        one = bytes / best[cache[i]] / 1e9
        par = (label[i] ~ /^1x.* files /) ? 1 : cores
        limit = one * par; what = ""
        # Cold and parallel: the disk may give less than the cores can hash.
        if (par > 1 && (cache[i] in disk) && disk[cache[i]] < limit) { limit = disk[cache[i]]; what = " (disk)" }
        lim = sprintf("%.0f%% of %.2f GB/s%s", 100 * gbs / limit, limit, what)
      }
      printf "%-44s %-5s %8.2f %13s %7.2f %7d %13s %s\n", label[i], cache[i], w[k], sprintf("%.2f-%.2f", lo[k], hi[k]), gbs, rss[k], ratio, lim
    }
    printf "(%d rounds; median of each case)\n", runs
  }' "$RESULTS"
