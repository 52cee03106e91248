#!/usr/bin/env bash
# End-to-end echo: tornado-cpp's TCPServer against Python Tornado 6.2's TCPServer and a
# hand-written level-triggered epoll server in C (the physical baseline), in one run.
# Each server is pinned to core 0 and the load generator (echo_client, plain C++/epoll)
# to core 1. Measures messages/s of 64-byte ping-pong over 1 and 100 connections and MB/s
# echoed over 1 connection streaming 64 KiB writes; prints a markdown table.
#
# usage: bench/echo/run.sh              full comparison: builds -c opt, installs Debian's
#                                       python3-tornado when missing (as root)
#        ECHO_BENCH_SECONDS=3           seconds per measurement (default 3)
# As //bench/echo:echo_smoke_test it gets its binaries from runfiles
# (--echo_server=... --epoll_echo=... --echo_client=...), builds nothing, installs
# nothing, and checks that every number is positive.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${ECHO_BENCH_SECONDS:-3}
smoke=0
for arg in "$@"; do
  case $arg in
    --echo_server=*) echo_server=$(realpath "${arg#*=}"); smoke=1 ;;
    --epoll_echo=*) epoll_echo=$(realpath "${arg#*=}") ;;
    --echo_client=*) echo_client=$(realpath "${arg#*=}") ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

python_tornado=1
if ((smoke == 0)); then
  cd "$here/../.."
  if ! /usr/bin/python3 -c 'import tornado' 2>/dev/null; then
    if ((EUID != 0)); then
      echo "bench/echo: needs python3-tornado; as root run: apt-get install -y python3-tornado" >&2
      exit 1
    fi
    apt-get install -y -qq python3-tornado >/dev/null
  fi
  ./bazelw build -c opt //bench/echo:all 2>/dev/null
  bin=$(./bazelw info -c opt bazel-bin 2>/dev/null)/bench/echo
  echo_server=$bin/echo_server epoll_echo=$bin/epoll_echo echo_client=$bin/echo_client
elif ! /usr/bin/python3 -c 'import tornado' 2>/dev/null; then
  python_tornado=0
  echo "NOTE: python3-tornado is not installed here: this smoke test covers the epoll" \
    "baseline and tornado-cpp only (run.sh outside the test does the full comparison)."
fi

# Pinning: servers on core 0, client on core 1 (without two usable cores, unpinned).
server_pin=(taskset -c 0) client_pin=(taskset -c 1)
if ! taskset -c 1 true 2>/dev/null; then
  server_pin=() client_pin=()
  echo "NOTE: cores 0 and 1 are not both usable here: running unpinned."
fi

source "$here/../lib/servers.sh"

declare -A result
measure() {  # name, then the server command with PORT in place of the port
  local name=$1
  shift
  start_server "${server_pin[@]}" "$@"
  result[$name,1]=$("${client_pin[@]}" "$echo_client" "$server_port" pingpong 1 "$seconds")
  result[$name,100]=$("${client_pin[@]}" "$echo_client" "$server_port" pingpong 100 "$seconds")
  result[$name,mb]=$("${client_pin[@]}" "$echo_client" "$server_port" stream 1 "$seconds")
  stop_server
}

servers=(epoll tornado-cpp)
measure epoll "$epoll_echo" PORT
measure tornado-cpp "$echo_server" --port=PORT --logging=warning
if ((python_tornado)); then
  servers+=(python)
  measure python /usr/bin/python3 "$here/echo_tornado.py" --port=PORT --logging=warning
fi

label() {
  case $1 in
    epoll) echo "epoll baseline (C)" ;;
    tornado-cpp) echo "tornado-cpp" ;;
    python) echo "Python Tornado $(/usr/bin/python3 -c 'import tornado; print(tornado.version)')" ;;
  esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
fmt() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
fmt_int() { awk -v a="$1" 'BEGIN { printf "%.0f", a }'; }

echo "$(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), ${seconds} s per measurement," \
  "servers ${server_pin[*]:-unpinned}, client ${client_pin[*]:-unpinned}"
echo
echo "| server | msgs/s 1 conn | msgs/s 100 conns | MB/s 64 KiB | ratio vs Python (1 / 100 / MB) | % of epoll (1 / 100 / MB) |"
echo "|---|---:|---:|---:|---:|---:|"
for s in "${servers[@]}"; do
  vs_py="-" vs_ep="-"
  if ((python_tornado)) && [[ $s != python ]]; then
    vs_py="$(ratio "${result[$s,1]}" "${result[python,1]}") / $(ratio "${result[$s,100]}" "${result[python,100]}") / $(ratio "${result[$s,mb]}" "${result[python,mb]}")"
  fi
  if [[ $s != epoll ]]; then
    vs_ep="$(pct "${result[$s,1]}" "${result[epoll,1]}") / $(pct "${result[$s,100]}" "${result[epoll,100]}") / $(pct "${result[$s,mb]}" "${result[epoll,mb]}")"
  fi
  echo "| $(label "$s") | $(fmt_int "${result[$s,1]}") | $(fmt_int "${result[$s,100]}") | $(fmt "${result[$s,mb]}") | $vs_py | $vs_ep |"
done

if ((smoke)); then
  for key in "${!result[@]}"; do
    if ! awk -v v="${result[$key]}" 'BEGIN { exit !(v > 0) }'; then
      echo "FAIL: $key measured ${result[$key]}, not positive" >&2
      exit 1
    fi
  done
  echo "OK: all ${#result[@]} measurements positive"
fi
