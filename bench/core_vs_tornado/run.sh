#!/usr/bin/env bash
# The async core against Python Tornado, in one run: builds the Google Benchmarks with
# -c opt, runs them and core_tornado.py (Debian's python3-tornado), prints ratios.
# usage: bench/core_vs_tornado/run.sh   (from anywhere; as root it installs the peer)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)

if ! /usr/bin/python3 -c 'import tornado' 2>/dev/null; then
  if ((EUID != 0)); then
    echo "core_vs_tornado: needs python3-tornado; as root run: apt-get install -y python3-tornado" >&2
    exit 1
  fi
  apt-get install -y -qq python3-tornado >/dev/null
fi

./bazelw build -c opt //ioloop:ioloop_benchmark //concurrent:concurrent_benchmark 2>/dev/null
bin=$(./bazelw info -c opt bazel-bin 2>/dev/null)
"$bin/ioloop/ioloop_benchmark" --benchmark_min_time=1 --benchmark_format=json \
  --benchmark_out_format=json --benchmark_out="$out/ioloop.json" >/dev/null 2>&1
"$bin/concurrent/concurrent_benchmark" --benchmark_min_time=1 --benchmark_filter=AwaitReady \
  --benchmark_out_format=json --benchmark_out="$out/concurrent.json" >/dev/null 2>&1
/usr/bin/python3 bench/core_vs_tornado/core_tornado.py >"$out/tornado.json"

echo "$(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
/usr/bin/python3 bench/core_vs_tornado/compare.py "$out/tornado.json" "$out/ioloop.json" "$out/concurrent.json"
rm -rf "$out"
