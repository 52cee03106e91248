#!/bin/bash
# Smoke test of demos/hello with real clients: curl (keep-alive reuse, HTTP/1.0) and
# Python's http.client, against --port=0 (the bound port is read from stderr), in
# single-process and --processes=2 mode; then curl over HTTPS (--certfile/--keyfile).
set -euo pipefail
HELLO="$1"
# start NAME ARGS...: starts hello on a free port with ARGS; sets PID and port.
start() {
  local log="${TEST_TMPDIR:-/tmp}/hello.$1.log"
  shift
  "$HELLO" --port=0 --address=127.0.0.1 "$@" 2>"$log" &
  PID=$!
  trap 'kill $PID 2>/dev/null || true' EXIT
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/^hello: listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$log")
    [[ -n "$port" ]] && break
    sleep 0.05  # polling the server's log for its port; no fixed wait for a condition
  done
  [[ -n "$port" ]] || { echo "no port"; cat "$log"; exit 1; }
}
run() {
  local procs="$1"
  start "$procs" --processes="$procs"
  local url="http://127.0.0.1:$port/"
  local out
  for _ in $(seq 100); do  # forked workers may take a moment to accept
    out=$(curl -sS "$url" 2>/dev/null) && break || sleep 0.05
  done
  [[ "$out" == "Hello, world" ]] || { echo "got: $out"; exit 1; }
  out=$(curl -sS -v "$url" "$url" 2>&1)
  grep -q "Re-using existing connection" <<<"$out" || { echo "$out"; exit 1; }
  out=$(curl -sS -0 "$url")
  [[ "$out" == "Hello, world" ]] || { echo "HTTP/1.0 got: $out"; exit 1; }
  out=$(/usr/bin/python3 -c "
import http.client,sys
c=http.client.HTTPConnection('127.0.0.1',$port)
for i in range(3):
  c.request('GET','/x'); r=c.getresponse(); b=r.read()
  assert r.status==200 and b==b'Hello, world' and r.getheader('Date'), (r.status,b)
print('ok')")
  [[ "$out" == "ok" ]] || { echo "python: $out"; exit 1; }
  kill "$PID"
  wait "$PID" || true
}
run 1
run 2
# HTTPS with the test certificate (netutil/testdata): curl verifies it, keep-alive reuse.
testdata="${TEST_SRCDIR:-..}/${TEST_WORKSPACE:-tornado}/netutil/testdata"
start tls --certfile="$testdata/localhost.crt" --keyfile="$testdata/localhost.key"
url="https://localhost:$port/"
out=$(curl -sS -v --cacert "$testdata/ca.crt" --resolve "localhost:$port:127.0.0.1" "$url" "$url" 2>&1)
[[ $(grep -o "Hello, world" <<<"$out" | wc -l) == 2 ]] || { echo "TLS got: $out"; exit 1; }
grep -q "Re-using existing connection" <<<"$out" || { echo "TLS no reuse: $out"; exit 1; }
kill "$PID"
wait "$PID" || true
status=0
out=$("$HELLO" --port=0 --certfile="$testdata/localhost.crt" 2>&1) || status=$?
[[ $status == 2 && "$out" == *"needs both --certfile and --keyfile"* ]] ||
  { echo "certfile alone: status $status: $out"; exit 1; }
# A usage error is a message and exit status 2, not an abort.
status=0
out=$("$HELLO" --port 8888 2>&1) || status=$?
[[ $status == 2 && "$out" == *"Option 'port' requires a value"* ]] ||
  { echo "bad usage: status $status: $out"; exit 1; }
echo PASS
