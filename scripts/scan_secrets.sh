#!/usr/bin/env bash
# Scans logs for credentials: every line of SECRETS (the tokens, client
# secrets and X-Amz-Signature values a test run used, as the sandbox's
# --secrets-log writes them), and any X-Amz-Signature=<hex> at all.
#
#   scripts/scan_secrets.sh [-q] SECRETS LOG...
#
# Exit 0: no hit (silent with -q, so CI's last line stays make test-all's);
# 1: hits, reported as LOG:LINE and the secret's line number in SECRETS,
# never the secret itself; 2: usage, or SECRETS missing or empty (a scan
# for nothing proves nothing).
set -euo pipefail

quiet=0
if [[ "${1:-}" == "-q" ]]; then
  quiet=1
  shift
fi
if (($# < 2)); then
  echo "usage: scan_secrets.sh [-q] SECRETS LOG..." >&2
  exit 2
fi
secrets=$1
shift
if [[ ! -s "$secrets" ]]; then
  echo "scan_secrets: $secrets is missing or empty: nothing to scan for" >&2
  exit 2
fi

# Short lines would match by chance; every real credential here is long.
patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
awk 'length($0) >= 12' "$secrets" | sort -u >"$patterns"
count=$(wc -l <"$patterns")

hits=0
for log in "$@"; do
  [[ -f "$log" ]] || continue
  # grep -o prints the matched secret: map it back to its number instead.
  while IFS=: read -r line match; do
    n=$(grep -nxF -- "$match" "$patterns" | head -n 1 | cut -d: -f1)
    echo "scan_secrets: $log:$line holds secret #${n:-?} of the $count scanned for" >&2
    hits=$((hits + 1))
  done < <(grep -noF -f "$patterns" -- "$log" || true)
  while IFS=: read -r line _; do
    echo "scan_secrets: $log:$line holds an X-Amz-Signature" >&2
    hits=$((hits + 1))
  done < <(grep -noE 'X-Amz-Signature=[0-9a-fA-F]{16}' -- "$log" || true)
done

if ((hits > 0)); then
  echo "scan_secrets: $hits hit(s) for $count secrets in $# log(s)" >&2
  exit 1
fi
((quiet)) || echo "scan_secrets: 0 hits for $count secrets in $# log(s)"
exit 0
