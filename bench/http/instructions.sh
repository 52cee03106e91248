#!/usr/bin/env bash
# User-space instructions per request of a hello-world server, counted by callgrind: a
# measure that does not drift with this VM's speed. The count starts after a warm-up.
#
# usage: bench/http/instructions.sh [keep-alive | close | reset] [tornado-cpp | nginx]
#   keep-alive  wrk -t1 -c16 -d4s on kept-alive connections: per request
#   close       the same with "Connection: close": per connection of one request
#   reset       2,000 connections from python3, each one request, then closed with a
#               reset (SO_LINGER 0): per connection
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-keep-alive}
server=${2:-tornado-cpp}
cd "$here/../.."
source bench/lib/servers.sh
source bench/http/nginx.sh
for tool in valgrind callgrind_control wrk python3; do
  command -v "$tool" >/dev/null || { echo "bench/http: apt-get install -y $tool" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT
port=$(free_port)
case $server in
  tornado-cpp)
    ./bazelw build -c opt //demos/hello 2>/dev/null
    cmd=("$(./bazelw info -c opt bazel-bin 2>/dev/null)/demos/hello/hello" --port="$port"
         --address=127.0.0.1 --logging=warning) ;;
  nginx)
    conf=$(nginx_config "$port")
    sed -i '1i master_process off;' "$conf"  # one process, for callgrind
    cmd=(nginx -c "$conf" -e "$work/nginx-error.log") ;;
  *) echo "bench/http/instructions.sh: server is tornado-cpp or nginx" >&2; exit 2 ;;
esac

valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.out" "${cmd[@]}" \
  >/dev/null 2>"$work/valgrind.log" &
pid=$!
pids+=("$pid")
wait_port "$pid" "$port"

drive() {  # -> the number of requests made
  case $mode in
    keep-alive | close)
      [[ $mode == close ]] && export WRK_CONNECTION_CLOSE=1
      wrk -t1 -c16 -d"$1"s -s "$here/p99.lua" "http://127.0.0.1:$port/" 2>/dev/null |
        awk '/requests in/ { print $1 }' ;;
    reset)
      python3 "$here/reset_client.py" "$port" "$1" ;;
    *) echo "bench/http/instructions.sh: mode is keep-alive, close or reset" >&2; exit 2 ;;
  esac
}
case $mode in reset) warm=50 counted=2000 ;; *) warm=1 counted=4 ;; esac
drive "$warm" >/dev/null
callgrind_control -i on "$pid" >/dev/null 2>&1
requests=$(drive "$counted")
callgrind_control -i off "$pid" >/dev/null 2>&1
callgrind_control -d "$pid" >/dev/null 2>&1
total=$(awk '/^totals:/ { print $2 }' "$work"/cg.out.*)
echo "$server, $mode: $((total / requests)) instructions per request ($requests requests)"
