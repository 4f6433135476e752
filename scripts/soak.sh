#!/usr/bin/env bash
# make soak: the specs tagged #soak (busted --run=soak, see .busted), each
# printing its figures on stderr as it finishes ("soak ...", "crash soak ...",
# "leaks ..."): the fault soak for every seed of SOAK_SEEDS with files up to
# 8 MiB, partial data on and off; the crash soak; 10,000 uploads for fd and
# RSS growth. Takes 10-20 minutes on two cores. Then the hot folder's soak
# (bench/watch_soak.sh): WATCH_SOAK_FILES (10,000) files into a watcher.
# SCALE_SOAK=1 adds the back-fill of 1,000,000 files (bench/scale.sh, issue
# 16): opt-in, as it takes hours while the sandbox spends ~6-10 ms of CPU a
# file, and a million files and objects on disk.
set -euo pipefail
cd "$(dirname "$0")/.."
export ION_SOAK_SEEDS="${SOAK_SEEDS:-2 3 4 5}"
lua=${LUA:-lua5.4}
"$lua" /usr/bin/busted --run=soak
bash bench/watch_soak.sh "${WATCH_SOAK_FILES:-10000}"
if [ -n "${SCALE_SOAK:-}" ]; then N="1000 1000000" bash bench/scale.sh; fi
