#!/usr/bin/env bash
# Heap allocations per connection in chokepoint: two runs of the proxy with
# an allocation counter preloaded, with N and 2N exchanges through it; the
# difference over N is the cost of one connection (start-up cancels out).
#   bench/allocations.sh [N]   (after tests/run-all.sh, or deploy/build.sh and
#                               cmake --build build --target alloc_count loadgen)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
build=${BUILD_DIR:-build}
counter=$build/bench/liballoc_count.so
loadgen=$build/bench/loadgen
work=$(mktemp -d)
"$loadgen" sink --listen 127.0.0.1:0 > "$work/sink" & sink_pid=$!
sleep 0.3
sink=$(head -1 "$work/sink")

count() {  # $1: mode (connect|sni), $2: exchanges
  local port=$((20000 + RANDOM % 10000))
  local listen=--listen
  [ "$1" = sni ] && listen=--sni-listen
  LD_PRELOAD=$counter "$build/chokepoint" run $listen 127.0.0.1:$port --threads 1 \
    --connect-to "::127.0.0.1:$sink" --audit-log "$work/audit.jsonl" 2> "$work/err" & local pid=$!
  sleep 0.5
  local done=0
  while [ "$done" -lt "$2" ]; do
    "$loadgen" rate --mode "$1" --to 127.0.0.1:$port --concurrency 16 --seconds 1 > "$work/rate"
    done=$((done + $(python3 -c "import json;print(int(json.load(open('$work/rate'))['per_s']))")))
  done
  kill -INT "$pid"; wait "$pid" || true
  echo "$done $(grep -o 'allocations: [0-9]*' "$work/err" | cut -d' ' -f2)"
}

for mode in connect sni; do
  read -r n1 a1 < <(count "$mode" "$n")
  read -r n2 a2 < <(count "$mode" $((2 * n)))
  python3 -c "print('$mode: %.1f allocations per connection (%d and %d exchanges)' % (($a2 - $a1) / ($n2 - $n1), $n1, $n2))"
done
kill "$sink_pid"
rm -rf "$work"
