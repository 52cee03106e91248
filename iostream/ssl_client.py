"""A second TLS peer for ssl_iostream_test: Python's ssl (OpenSSL) client.

Usage: ssl_client.py PORT CA_FILE SERVER_HOSTNAME [reset]
Connects with ALPN ["h2", "http/1.1"], verifies the certificate and hostname, sends
"hello python\\n", prints the reply line, the ALPN protocol and the TLS version. With
"reset", it then ends the connection with a TCP reset (no close_notify)."""
import socket
import ssl
import struct
import sys

port, ca, hostname = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.set_alpn_protocols(["h2", "http/1.1"])
with socket.create_connection(("127.0.0.1", port)) as raw:
    with ctx.wrap_socket(raw, server_hostname=hostname) as s:
        s.sendall(b"hello python\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            buf += chunk
        print(buf.decode().strip(), s.selected_alpn_protocol(), s.version())
        if sys.argv[4:] == ["reset"]:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
