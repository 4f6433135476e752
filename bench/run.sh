#!/usr/bin/env bash
# `make bench`: the benchmarks in bench/, one after another (never two at
# once: they would measure each other). SIZES_MIB="1024 4096" checks that
# memory does not grow with the file.
set -euo pipefail
cd "$(dirname "$0")/.."
for size in ${SIZES_MIB:-1024}; do
  SIZE_MIB=$size bash bench/put_1gib.sh
done
bash bench/batch.sh
bash bench/lookups.sh
bash bench/host_loop.sh
# The hot folder (ion-upload watch): latency, the start-up scan, and last the
# idle wakeups (2 minutes; it misses while the watcher wakes every 200 ms at
# rest, see bench/watch_latency.md).
bash bench/watch_latency.sh
bash bench/watch_scan.sh
bash bench/watch_idle.sh
# The back-fill at scale (issue 16): 1,000 to 100,000 tiny files, about 20
# minutes (SCALE_N="1000 10000" for a shorter run).
N="${SCALE_N:-1000 10000 100000}" bash bench/scale.sh
