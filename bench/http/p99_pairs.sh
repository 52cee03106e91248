#!/usr/bin/env bash
# p99 latency of tornado-cpp's demos/hello against nginx (one worker), in many short
# back-to-back pairs. This VM's speed drifts by up to 30% from minute to minute, more
# than the difference being measured, so run.sh's few long rounds cannot tell a 5% p99
# gap from noise; neighbouring short runs see the same drift. Both servers stay up,
# pinned to core 0, wrk -t1 on core 1; each pair runs in alternating order.
#
# usage: bench/http/p99_pairs.sh [pairs (30)] [connections (64)] [seconds per run (2)]
#                                [keep-alive (default) | close]
# HTTP_BENCH_TLS=1: both servers serve HTTPS with the test certificate (netutil/testdata)
# and wrk connects with TLS (keep-alive: one handshake per connection).
# Prints each pair, then the median of tornado-cpp/nginx p99 and req/s ratios and in
# how many pairs tornado-cpp's p99 was the higher one, with a sign test's p (below ~0.05:
# one server is ahead more often than chance would give, in this run). "close" sends
# every request with "Connection: close": one connection per request (accept, serve,
# close).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pairs=${1:-30}
conns=${2:-64}
seconds=${3:-2}
case ${4:-keep-alive} in
  keep-alive) export WRK_CONNECTION_CLOSE=0 label="" ;;
  close) export WRK_CONNECTION_CLOSE=1 label=", Connection: close" ;;
  *) echo "bench/http/p99_pairs.sh: the 4th argument is keep-alive or close" >&2; exit 2 ;;
esac
cd "$here/../.."
source bench/lib/servers.sh
source bench/http/nginx.sh
for tool in nginx wrk gawk; do
  command -v "$tool" >/dev/null || { echo "bench/http: apt-get install -y $tool" >&2; exit 1; }
done
./bazelw build -c opt //demos/hello 2>/dev/null
hello=$(./bazelw info -c opt bazel-bin 2>/dev/null)/demos/hello/hello
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT

scheme=http tls=() nginx_tls=""
if [[ ${HTTP_BENCH_TLS:-0} == 1 ]]; then
  scheme=https nginx_tls=tls label+=", HTTPS"
  tls=(--certfile="$PWD/netutil/testdata/localhost.crt" --keyfile="$PWD/netutil/testdata/localhost.key")
fi
start_server taskset -c 0 "$hello" --port=PORT --address=127.0.0.1 --logging=warning "${tls[@]}"
ours=$server_port
port=$(free_port)
taskset -c 0 nginx -c "$(nginx_config "$port" "$nginx_tls")" -e "$work/nginx-error.log" &
pids+=("$!")
wait_port "$!" "$port"
theirs=$port

run() {  # port -> "req/s p99_us"
  taskset -c 1 wrk -t1 -c"$conns" -d"${seconds}s" -s "$here/p99.lua" \
    "$scheme://127.0.0.1:$1/" 2>&1 >/dev/null | tail -1
}
for ((i = 0; i < pairs; i++)); do
  if ((i % 2 == 0)); then a=$(run "$ours"); b=$(run "$theirs"); else b=$(run "$theirs"); a=$(run "$ours"); fi
  echo "$a $b"
done | gawk -v c="$conns" -v s="$seconds" -v mode="$label" '
  { p = $2 / $4; r = $1 / $3; ps[NR] = p; rs[NR] = r; if (p > 1) worse++
    printf "tornado-cpp %7d req/s p99 %6d us | nginx %7d req/s p99 %6d us | p99 ratio %.2f\n", $1, $2, $3, $4, p }
  function median(a, n) { n = asort(a); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  # Two-sided sign test: the chance of a split at least this uneven if neither server
  # had the lower p99 more often (each pair a coin flip).
  function sign_test(k, n,    i, term, tail) {
    if (k > n - k) k = n - k
    term = 2 ^ -n; tail = 0
    for (i = 0; i <= k; i++) { tail += term; term = term * (n - i) / (i + 1) }
    return 2 * tail > 1 ? 1 : 2 * tail
  }
  END { n = NR
    printf "%d pairs of %d s at %d connections%s: median p99 ratio %.3f, median req/s ratio %.3f;", n, s, c, mode, median(ps), median(rs)
    printf " tornado-cpp p99 higher in %d of %d (sign test p = %.3f)\n", worse, n, sign_test(worse + 0, n) }'
