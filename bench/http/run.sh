#!/usr/bin/env bash
# End-to-end HTTP hello world: tornado-cpp's demos/hello against Python Tornado's hello
# world, nginx (`return 200`, one worker) and h2o (one thread), in one run. Each server is
# pinned to core 0 and wrk to core 1. Measures requests/s and p99 latency at 64 and 1,000
# connections and pipelined (depth 16, 64 connections); servers run in a rotated order
# each round and the table shows the mean over rounds. Also the server's CPU time per
# request (user + system, all its processes) and how busy wrk's core was: where wrk uses
# its whole core, requests/s is the client's limit and the server's CPU per request
# says more.
#
# usage: bench/http/run.sh                  (as root: installs nginx, h2o, wrk and
#                                            python3-tornado when missing)
#        HTTP_BENCH_SECONDS=10 HTTP_BENCH_ROUNDS=2   per measurement / rounds (defaults)
#        HTTP_BENCH_SERVERS="tornado-cpp nginx"      a subset (default: all four)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${HTTP_BENCH_SECONDS:-10}
rounds=${HTTP_BENCH_ROUNDS:-2}
cd "$here/../.."
source bench/lib/servers.sh
source bench/http/nginx.sh

need=()
command -v nginx >/dev/null || need+=(nginx)
command -v h2o >/dev/null || need+=(h2o)
command -v wrk >/dev/null || need+=(wrk)
[[ -x /usr/bin/time ]] || need+=(time)
/usr/bin/python3 -c 'import tornado' 2>/dev/null || need+=(python3-tornado)
if ((${#need[@]})); then
  if ((EUID != 0)); then
    echo "bench/http: as root run: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
read -r -a servers <<<"${HTTP_BENCH_SERVERS:-tornado-cpp nginx h2o python}"
if [[ " ${servers[*]} " == *" tornado-cpp "* ]]; then
  ./bazelw build -c opt //demos/hello 2>/dev/null
  hello=$(./bazelw info -c opt bazel-bin 2>/dev/null)/demos/hello/hello
fi
ulimit -n "$(ulimit -Hn)"  # 1,000 connections on each side

work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT

# h2o: one thread, the response from an mruby handler (h2o's equivalent of `return`).
h2o_config() {
  cat >"$work/h2o.conf" <<CONF
listen:
  host: 127.0.0.1
  port: $1
num-threads: 1
error-log: $work/h2o-error.log
pid-file: $work/h2o.pid
hosts:
  default:
    paths:
      /:
        mruby.handler: |
          Proc.new do |env|
            [200, {"content-type" => "text/plain"}, ["Hello, world"]]
          end
CONF
  echo "$work/h2o.conf"
}

start() {  # name
  case $1 in
    tornado-cpp) start_server taskset -c 0 "$hello" --port=PORT --logging=warning ;;
    python) start_server taskset -c 0 /usr/bin/python3 "$here/tornado_hello.py" \
      --port=PORT --logging=warning ;;
    nginx)
      server_port=$(free_port)
      taskset -c 0 nginx -c "$(nginx_config "$server_port")" -e "$work/nginx-error.log" &
      server_pid=$! pids+=("$server_pid")
      wait_port "$server_pid" "$server_port" ;;
    h2o)
      server_port=$(free_port)
      taskset -c 0 h2o -c "$(h2o_config "$server_port")" >/dev/null 2>&1 &
      server_pid=$! pids+=("$server_pid")
      wait_port "$server_pid" "$server_port" ;;
  esac
}

to_ms() {  # wrk latency "850.00us" / "1.23ms" / "1.02s" -> milliseconds
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v }
    else if (v ~ /m$/) { sub(/m$/, "", v); print v * 60000 }
    else { sub(/s$/, "", v); print v * 1000 } }'
}

# CPU clock ticks (user + system) of process $1 and its children (nginx's worker).
cpu_ticks() {
  local pid total=0 t
  for pid in "$1" $(pgrep -P "$1"); do
    t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && total=$((total + t))
  done
  echo "$total"
}

declare -A rps p99 p99sum p99n cpu maxlat
scenarios=(c64 c1000 pipe16)
wrk_run() {  # scenario port -> "rps p99ms requests wrk_cpu_percent max_ms"
  local args=(-t1 -d"${seconds}s" --latency --timeout 10s)
  case $1 in
    c64) args+=(-c64) ;;
    c1000) args+=(-c1000) ;;
    pipe16) args+=(-c64 -s "$here/pipeline.lua") ;;
  esac
  local out
  out=$(/usr/bin/time -f "wrk-cpu %e %U %S" taskset -c 1 wrk "${args[@]}" "http://127.0.0.1:$2/" 2>&1)
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    echo "wrk reported errors for $1:" >&2
    grep "Non-2xx\|Socket errors" <<<"$out" >&2
  fi
  echo "$(awk '/^Requests\/sec/ { print $2 }' <<<"$out") $(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")" \
    "$(awk '/requests in/ { print $1 }' <<<"$out")" \
    "$(awk '$1 == "wrk-cpu" { printf "%.0f", ($3 + $4) * 100 / $2 }' <<<"$out")" \
    "$(to_ms "$(awk '$1 == "Latency" { print $4 }' <<<"$out")")"
}

for ((round = 0; round < rounds; round++)); do
  for ((i = 0; i < ${#servers[@]}; i++)); do
    s=${servers[$(((i + round) % ${#servers[@]}))]}
    start "$s"
    for sc in "${scenarios[@]}"; do
      t0=$(cpu_ticks "$server_pid")
      read -r r p n client max < <(wrk_run "$sc" "$server_port")
      us=$(awk -v t=$(($(cpu_ticks "$server_pid") - t0)) -v n="$n" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.2f", t * 1e6 / hz / n }')
      # every measurement, for the record
      echo "round $((round + 1)) $s $sc: $r req/s, p99 $p ms (max $max), server CPU" \
        "$us us/request, wrk's core ${client}% busy"
      cpu[$s,$sc]=$(awk -v a="${cpu[$s,$sc]:-0}" -v b="$us" -v n="$rounds" 'BEGIN { print a + b / n }')
      rps[$s,$sc]=$(awk -v a="${rps[$s,$sc]:-0}" -v b="$r" -v n="$rounds" 'BEGIN { print a + b / n }')
      # wrk 4.1 can print a pipelined p99 of 0: its coordinated-omission correction
      # (stats_correct, with an interval computed per response, not per batch) adds
      # samples below the recorded minimum, where the percentile walk never looks. Such a
      # round has no p99; its maximum (real samples only) bounds the p99 from above.
      if ! awk -v b="$p" 'BEGIN { exit !(b > 0) }'; then
        maxlat[$s,$sc]=$(awk -v a="${maxlat[$s,$sc]:-0}" -v b="$max" 'BEGIN { print (b > a ? b : a) }')
      else
        p99sum[$s,$sc]=$(awk -v a="${p99sum[$s,$sc]:-0}" -v b="$p" 'BEGIN { print a + b }')
        p99n[$s,$sc]=$((${p99n[$s,$sc]:-0} + 1))
        p99[$s,$sc]=$(awk -v a="${p99sum[$s,$sc]}" -v n="${p99n[$s,$sc]}" 'BEGIN { print a / n }')
      fi
    done
    stop_server
  done
done

label() {
  case $1 in
    tornado-cpp) echo "tornado-cpp demos/hello" ;;
    python) echo "Python Tornado $(/usr/bin/python3 -c 'import tornado; print(tornado.version)')" ;;
    nginx) echo "$(nginx -v 2>&1 | sed 's/.*: //') (1 worker)" ;;
    h2o) echo "h2o $(h2o --version | awk 'NR == 1 { print $3 }') (1 thread)" ;;
  esac
}
echo "$(nproc) cores, $(date -u +%Y-%m-%d), servers on core 0, wrk -t1 on core 1," \
  "${seconds} s per measurement, mean of $rounds rotated rounds"
echo
echo "| server | req/s 64 conns | p99 ms | CPU us/req | req/s 1000 conns | p99 ms | CPU us/req | req/s pipelined 16 | p99 ms | CPU us/req |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for s in "${servers[@]}"; do
  row="| $(label "$s") |"
  for sc in "${scenarios[@]}"; do
    # p99: mean of the rounds that had one; else "<= max" from the rounds without one.
    row+=" $(awk -v a="${rps[$s,$sc]}" 'BEGIN { printf "%.0f", a }') | $(awk -v a="${p99[$s,$sc]:-0}" -v m="${maxlat[$s,$sc]:-0}" 'BEGIN { if (a > 0) printf "%.2f", a; else if (m > 0) printf "<= %.2f", m; else printf "n/a" }') | $(awk -v a="${cpu[$s,$sc]}" 'BEGIN { printf "%.2f", a }') |"
  done
  echo "$row"
done
echo
for peer in python nginx h2o; do
  [[ -n ${rps[tornado-cpp,c64]:-} && -n ${rps[$peer,c64]:-} ]] || continue
  row="tornado-cpp / $peer req/s:"
  for sc in "${scenarios[@]}"; do
    row+=" $sc $(awk -v a="${rps[tornado-cpp,$sc]}" -v b="${rps[$peer,$sc]}" 'BEGIN { printf "%.2fx", a / b }')"
  done
  echo "$row"
done
