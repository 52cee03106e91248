#!/usr/bin/env bash
# Builds and runs the consumer, then proves its closure holds one tornado module only.
set -euo pipefail
cd "$(dirname "$0")"
bazelw=../../bazelw
module=util

output=$("$bazelw" run //:hello 2>/dev/null)
echo "$output"
grep -q "tornado $module module version" <<<"$output"

# Every @tornado target in the closure must be the module itself or build support.
others=$("$bazelw" query 'deps(//:hello)' 2>/dev/null | grep '^@tornado//' |
  grep -vE "^@tornado//($module|bazel|third_party)[:/]" || true)
if [[ -n "$others" ]]; then
  echo "consumer: closure holds more than //$module:" >&2
  echo "$others" >&2
  exit 1
fi
echo "consumer: OK, closure holds only @tornado//$module"
