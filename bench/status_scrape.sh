#!/usr/bin/env bash
# The cost of a /metrics scrape with 10,000 files done (bench/status_scrape.lua),
# against a sandbox of its own.
#   bash bench/status_scrape.sh            # FILES=10000 SCRAPES=200 ROUNDS=1000
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. bench/watch_common.sh
fresh_out status_scrape
sandbox_start "$out"
scratch=$(mktemp -d)
mkdir -p "$scratch/in"
lua5.4 bench/status_scrape.lua "$scratch/in" "${FILES:-10000}" "${SCRAPES:-200}" "${ROUNDS:-1000}"
