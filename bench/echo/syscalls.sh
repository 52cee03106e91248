#!/usr/bin/env bash
# recv / send calls per echoed message of an echo server, the noise-free companion of
# run.sh: runs the server with count_recv.c preloaded (it counts recv/recvfrom calls,
# those returning EAGAIN, and send/sendmsg calls, printing them at SIGTERM), drives it
# with echo_client's 64-byte ping-pong on N connections (default 100) for S seconds
# (default 3), pinned like run.sh (server core 0, client core 1), and prints the calls
# per message. (strace -c is no good for this: it slows the server enough that the next
# message is always there when it reads, which hides the EAGAINs.) Python servers read
# with recv_into, which is not counted: this is for the C/C++ servers.
#
# usage: bench/echo/syscalls.sh <echo server binary taking --port=N|PORT args...> <echo_client> [N] [S]
#   e.g. bin=$(./bazelw info -c opt bazel-bin)/bench/echo
#        bench/echo/syscalls.sh "$bin/echo_server --port=PORT --logging=warning" $bin/echo_client
#        bench/echo/syscalls.sh "$bin/epoll_echo PORT" $bin/echo_client
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server=$1 client=$2 conns=${3:-100} seconds=${4:-3}
shim=$(mktemp --suffix=.so)
log=$(mktemp)
trap 'rm -f "$shim" "$log"' EXIT
gcc -O2 -shared -fPIC -o "$shim" "$here/count_recv.c" -ldl
server_pin=(taskset -c 0) client_pin=(taskset -c 1)
taskset -c 1 true 2>/dev/null || server_pin=() client_pin=()
port=$((20000 + RANDOM % 12000))
# shellcheck disable=SC2086  # the server command is split on purpose
LD_PRELOAD=$shim "${server_pin[@]}" ${server//PORT/$port} 2>"$log" &
pid=$!
for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
rate=$("${client_pin[@]}" "$client" "$port" pingpong "$conns" "$seconds")
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
/usr/bin/python3 - "$rate" "$seconds" "$conns" "$log" <<'PY'
import re, sys
rate, seconds, conns, log = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
m = re.search(r"count_recv: recv (\d+) eagain (\d+) send (\d+)", open(log).read())
if not m:
    sys.exit("syscalls.sh: no counts from the server:\n" + open(log).read())
recv, eagain, send = map(int, m.groups())
msgs = rate * seconds  # echo_client's count (rounded to its msgs/s), within a few per 1000
print(f"{conns} conns, {seconds:g} s, ~{msgs:.0f} messages ({rate:.0f}/s): "
      f"recv {recv / msgs:.2f}/msg ({eagain / msgs:.2f} EAGAIN), send {send / msgs:.2f}/msg")
PY
