#!/usr/bin/env bash
# Runs every benchmark: each bench/<topic>/run.sh present, in name order.
#   bash bench/run.sh            # all topics
#   bash bench/run.sh scan       # only the named topics
set -euo pipefail
cd "$(dirname "$0")"
status=0
topics=("$@")
if [ ${#topics[@]} -eq 0 ]; then
  for s in */run.sh; do
    [ -f "$s" ] && topics+=("${s%/run.sh}")
  done
fi
for t in "${topics[@]}"; do
  if [ ! -f "$t/run.sh" ]; then
    echo "bench: no such topic: $t" >&2
    status=1
    continue
  fi
  echo "== bench/$t =="
  bash "$t/run.sh" || { echo "bench/$t failed" >&2; status=1; }
  echo
done
exit $status
