#!/usr/bin/env bash
# testssl.sh against tornado-cpp's TLS server: builds bench/tls:tls_echo_server with
# -c opt, starts it on a free 127.0.0.1 port with netutil/testdata/localhost.{crt,key},
# runs `testssl.sh --quiet --color 0 --protocols` against it and prints the protocol
# verdict (exit 1 if SSLv2/SSLv3/TLS 1.0/TLS 1.1 are offered or TLS 1.2/1.3 are not).
# Installs Debian's testssl.sh when missing (as root); Debian names the command `testssl`.
#
# With --full: testssl.sh's complete scan instead (`--full`, i.e. the default run --
# protocols, cipher categories, forward secrecy, server preferences, server defaults,
# HTTP headers, all vulnerability checks, client simulation -- plus cipher-per-protocol
# and implementation-bug checks), with --openssl pointing to the system openssl. It takes
# several minutes. Prints the ciphers offered per protocol and every finding of severity
# LOW or above from testssl.sh's JSON (plus WARN lines), and keeps the full log and JSON
# under $TESTSSL_OUT (default /tmp/tornado-testssl). The test CA is added (--add-ca) for
# the chain check; findings about the test certificate itself are listed but marked.
# Exit 1 if anything else MEDIUM or above is flagged.
#
# usage: bench/tls/run.sh [--full]
set -euo pipefail
mode=protocols
[[ ${1:-} == --full ]] && mode=full
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."

if ! command -v testssl.sh >/dev/null && ! command -v testssl >/dev/null; then
  if ((EUID != 0)); then
    echo "bench/tls: needs testssl.sh; as root run: apt-get install -y testssl.sh" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq testssl.sh >/dev/null
fi
testssl=$(command -v testssl.sh || command -v testssl)

./bazelw build -c opt //bench/tls:tls_echo_server 2>/dev/null
server=$(./bazelw info -c opt bazel-bin 2>/dev/null)/bench/tls/tls_echo_server
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Start the server; its "listening on" line on stderr says it is ready.
exec {server_out}< <(exec "$server" --port="$port" --certfile=netutil/testdata/localhost.crt \
  --keyfile=netutil/testdata/localhost.key --logging=none 2>&1)
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
read -r -u "$server_out" line
case $line in
  *"listening on 127.0.0.1:$port"*) ;;
  *) echo "bench/tls: server did not start: $line" >&2; exit 1 ;;
esac

version=$(dpkg-query -W -f '${Version}' testssl.sh 2>/dev/null || echo unknown)
if [[ $mode == full ]]; then
  outdir=${TESTSSL_OUT:-/tmp/tornado-testssl}
  mkdir -p "$outdir"
  rm -f "$outdir/scan.log" "$outdir/scan.json"
  openssl=$(command -v openssl)
  echo "\$ $(basename "$testssl") --quiet --color 0 --warnings batch --openssl $openssl --full --add-ca netutil/testdata/ca.crt 127.0.0.1:$port   ($(date -u '+%Y-%m-%d %H:%M UTC'), testssl.sh $version, $($openssl version))"
  "$testssl" --quiet --color 0 --warnings batch --openssl "$openssl" --full \
    --add-ca netutil/testdata/ca.crt \
    --logfile "$outdir/scan.log" --jsonfile "$outdir/scan.json" "127.0.0.1:$port" >/dev/null 2>&1 || true
  [[ -s $outdir/scan.json ]] || { echo "bench/tls: testssl.sh wrote no JSON; see $outdir/scan.log" >&2; exit 1; }
  echo "--- protocols and ciphers offered (testssl.sh -E section)"
  sed -n '/^ Testing protocols/,/^ Testing cipher categories/p' "$outdir/scan.log" | grep -E '^ *(SSLv|TLS)' || true
  sed -n '/^ Testing ciphers per protocol/,/^ Running client simulation/p' "$outdir/scan.log" | grep -E '^ *(x[0-9a-f]+|SSLv|TLS)' || true
  echo "--- findings LOW or above, and warnings (id: severity: finding)"
  /usr/bin/python3 - "$outdir/scan.json" <<'PY'
import json, sys
rank = {"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
worst = 0
for f in json.load(open(sys.argv[1])):
    sev = f.get("severity", "")
    if sev in rank or sev == "WARN":
        # Findings about the certificate are about netutil/testdata's self-signed test
        # certificate (100-year validity, no CRL/OCSP, no DNS CAA for 127.0.0.1): a
        # deployment brings its own, so they do not count against the server's defaults.
        cert = f["id"].startswith(("cert_", "DNS_CAArecord", "OCSP"))
        note = "   [test certificate: not a server default]" if cert else ""
        print(f"{f['id']}: {sev}: {f['finding']}{note}")
        if not cert:
            worst = max(worst, rank.get(sev, 0))
print("verdict:", "FAIL (MEDIUM or above flagged)" if worst >= 2 else
      "PASS (nothing MEDIUM or above beyond the test certificate)")
sys.exit(1 if worst >= 2 else 0)
PY
  exit $?
fi

echo "\$ $(basename "$testssl") --quiet --color 0 --protocols 127.0.0.1:$port   ($(date -u '+%Y-%m-%d %H:%M UTC'), testssl.sh $version)"
out=$("$testssl" --quiet --color 0 --protocols "127.0.0.1:$port" 2>&1) || true
protocols=$(grep -E '^ *(SSLv2|SSLv3|TLS 1(\.[0-3])?) ' <<<"$out" || true)
if [[ -z $protocols ]]; then
  echo "$out"
  echo "bench/tls: no protocol lines in testssl.sh's output" >&2
  exit 1
fi
echo "$protocols"

ok=1
for p in 'SSLv2' 'SSLv3' 'TLS 1' 'TLS 1.1'; do
  grep -qE "^ *$p +not offered" <<<"$protocols" || { echo "verdict: FAIL, $p is offered" >&2; ok=0; }
done
for p in 'TLS 1.2' 'TLS 1.3'; do
  grep -qE "^ *$p +offered" <<<"$protocols" || { echo "verdict: FAIL, $p is not offered" >&2; ok=0; }
done
if ((ok)); then
  echo "verdict: PASS (SSLv2, SSLv3, TLS 1.0, TLS 1.1 not offered; TLS 1.2, TLS 1.3 offered)"
else
  exit 1
fi
