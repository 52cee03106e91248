#!/bin/bash
# demos/hello vs nginx (one worker each, same box, same wrk load), alternating runs.
# Prints requests/s and server CPU microseconds per request (utime+stime of the server
# process / requests): the CPU figure is steadier than req/s on a shared machine.
#
#   ./bazelw build -c opt //demos/hello && demos/hello/bench.sh bazel-bin/demos/hello/hello
#
# Needs wrk and nginx (Debian packages wrk, nginx). Ports 18888/18889 on 127.0.0.1.
set -euo pipefail
HELLO="${1:?usage: bench.sh path/to/hello [seconds] [connections] [rounds]}"
SECS="${2:-4}"; CONNS="${3:-50}"; ROUNDS="${4:-3}"
TMP=$(mktemp -d)
work=$TMP
source "$(dirname "$0")/../../bench/http/nginx.sh"  # nginx_config
nginx_config 18889 >/dev/null
nginx -c "$TMP/nginx.conf" -p "$TMP" & NGINX=$!
"$HELLO" --port=18888 --address=127.0.0.1 --logging=none 2>"$TMP/hello.log" & HELLO_PID=$!
trap 'kill $NGINX $HELLO_PID 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do
  curl -s -o /dev/null http://127.0.0.1:18888/ && curl -s -o /dev/null http://127.0.0.1:18889/ && break
  sleep 0.1
done
NGINX_WORKER=$(pgrep -P "$NGINX" | head -1)
measure() {  # name pid url
  local t0 t1 out reqs rps
  t0=$(awk '{print $14+$15}' "/proc/$2/stat")
  out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" "$3")
  t1=$(awk '{print $14+$15}' "/proc/$2/stat")
  reqs=$(awk '/requests in/{print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  printf '%-6s req/s %10s  cpu us/req %s\n' "$1" "$rps" \
    "$(awk -v d="$((t1 - t0))" -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", d*1e6/hz/n}')"
}
for _ in $(seq "$ROUNDS"); do
  measure nginx "$NGINX_WORKER" http://127.0.0.1:18889/
  measure hello "$HELLO_PID" http://127.0.0.1:18888/
done
