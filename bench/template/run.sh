#!/usr/bin/env bash
# End-to-end template benchmark: the same page (layout + extends + include + 100-row
# table with escaping) rendered by tornado-cpp and by Python Tornado (Debian's
# python3-tornado, run with /usr/bin/python3) in one run; prints renders/s and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=bench/template

if ! /usr/bin/python3 -c 'import tornado' 2>/dev/null; then
  echo "installing python3-tornado" >&2
  sudo -n apt-get install -y python3-tornado >&2 || apt-get install -y python3-tornado >&2
fi

./bazelw build -c opt //template:template_benchmark >&2
BIN=bazel-bin/template/template_benchmark

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpp_json=$(TEMPLATE_BENCH_DIR="$PWD/template/testdata" TEMPLATE_BENCH_DUMP="$tmp/cpp.html" "$BIN" --benchmark_filter=BM_RenderPage \
  --benchmark_min_time=3 --benchmark_format=json 2>/dev/null)
cpp=$(printf '%s' "$cpp_json" | /usr/bin/python3 -c \
  'import json,sys; b=json.load(sys.stdin)["benchmarks"][0]; print("%.1f %d" % (b["renders/s"], b["bytes"]))')
py=$(TEMPLATE_BENCH_DUMP="$tmp/py.html" /usr/bin/python3 "$HERE/bench.py" 3)

cpp_rate=${cpp% *}
py_rate=$(printf '%s' "$py" | sed 's/.*renders\/s=//')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "tornado-cpp: renders/s=$cpp_rate bytes=${cpp#* }"
echo "python: $py"
if cmp -s "$tmp/cpp.html" "$tmp/py.html"; then echo "outputs: identical"; else echo "outputs: DIFFER"; diff "$tmp/cpp.html" "$tmp/py.html" | head -20; fi
/usr/bin/python3 -c "print('ratio: %.1fx' % ($cpp_rate / $py_rate))"
