#!/usr/bin/env bash
# make fuzz: builds each libFuzzer target of fuzz/ with clang (ASan + UBSan)
# against csrc/parse.c (jline.c, http_request.c) and runs it for FUZZ_TIME seconds (default 30) from
# its committed seed corpus (fuzz/corpus/<target>; new finds go to
# build-fuzz/corpus-<target>, not into the repository). A crash leaves
# build-fuzz/crash-* and fails. Prints one line per target with its runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cc=${FUZZ_CC:-clang}
time=${FUZZ_TIME:-30}
targets=("$@")
((${#targets[@]})) || targets=(headers etag url jline http_request)

mkdir -p build-fuzz
for t in "${targets[@]}"; do
  "$cc" -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Icsrc "fuzz/$t.c" csrc/parse.c csrc/jline.c csrc/http_request.c -o "build-fuzz/$t"
  mkdir -p "build-fuzz/corpus-$t"
  log="build-fuzz/$t.log"
  if ! (cd build-fuzz && "./$t" -max_total_time="$time" -timeout=10 -rss_limit_mb=1024 \
        "corpus-$t" "../fuzz/corpus/$t") >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $t FAILED (log: $log)" >&2
    exit 1
  fi
  runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -Eo '[0-9]+' | head -n 1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1)
  echo "fuzz: $t: ${runs:-?} runs in ${time} s, ${cov:-cov: ?}, no crash"
done
