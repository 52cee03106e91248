# Shared by the bench/*/run.sh scripts: start a server on a free port, wait until it
# accepts, stop it. Source it; it defines pids, cleanup (trapped on EXIT), accepts,
# free_port, wait_port and start_server.

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nothing listens on yet: random, and below Linux's ephemeral range (32768+),
# where other tests' outgoing connections would make bind() fail.
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 12000))
    accepts "$port" || { echo "$port"; return; }
  done
  echo "no free port found" >&2
  return 1
}

# Polls until the server with pid $1 accepts on port $2 (or dies, or 20 s pass).
wait_port() {
  local pid=$1 port=$2 deadline=$((SECONDS + 20))
  until accepts "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "server (pid $pid) exited before accepting on port $port" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "port $port does not accept after 20 s" >&2
      return 1
    fi
    sleep 0.02
  done
}

# start_server CMD...: runs CMD (PORT replaced by a free port) in the background, sets
# server_pid and server_port once it accepts. Another process may take the port between
# the check and the server's bind: a server that exits before accepting is started again
# on another port.
start_server() {
  local attempt
  for attempt in 1 2 3 4 5; do
    server_port=$(free_port)
    "${@//PORT/$server_port}" &
    server_pid=$!
    pids+=("$server_pid")
    if wait_port "$server_pid" "$server_port"; then return 0; fi
    if kill -0 "$server_pid" 2>/dev/null || ((attempt == 5)); then return 1; fi
  done
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}
