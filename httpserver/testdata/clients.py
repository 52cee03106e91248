"""Real HTTP clients against an echo server answering "<method> <uri> <body>".

Usage: clients.py MODE PORT. Prints one line per response; exits non-zero on error.
MODE tls_reset makes one request over TLS, then resets the idle keep-alive connection.
Run with Debian's /usr/bin/python3 (python3-requests, python3-h11).
"""
import http.client
import socket
import ssl
import struct
import sys


def http_client(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for method, path, body in [("GET", "/a", None), ("POST", "/b", b"xyz"), ("GET", "/c?q=1", None)]:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        data = resp.read()
        print(resp.status, data.decode())
    sock_reused = conn.sock is not None
    # A chunked upload through http.client (encode_chunked).
    conn.request("PUT", "/chunked", body=iter([b"ab", b"cd"]), encode_chunked=True,
                 headers={"Transfer-Encoding": "chunked"})
    resp = conn.getresponse()
    print(resp.status, resp.read().decode())
    print("reused" if sock_reused else "not reused")
    conn.close()


def requests_client(port):
    import requests
    s = requests.Session()
    base = "http://127.0.0.1:%d" % port
    r = s.get(base + "/r1")
    print(r.status_code, r.text)
    r = s.post(base + "/r2", data=b"payload")
    print(r.status_code, r.text)
    r = s.post(base + "/r3", data=(c for c in [b"gen", b"erated"]))  # chunked upload
    print(r.status_code, r.text)
    r = s.get(base + "/chunked-response")
    print(r.status_code, r.text, r.headers.get("Transfer-Encoding"))


def h11_client(port):
    import h11
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn = h11.Connection(our_role=h11.CLIENT)

    def roundtrip(events):
        for ev in events:
            sock.sendall(conn.send(ev))
        status, body = None, b""
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
                continue
            if isinstance(ev, h11.Response):
                status = ev.status_code
                names = [n.lower() for n, _ in ev.headers]
                assert b"date" in names, names
            elif isinstance(ev, h11.Data):
                body += ev.data
            elif isinstance(ev, h11.EndOfMessage):
                return status, body.decode()

    host = [("Host", "127.0.0.1")]
    print(*roundtrip([h11.Request(method="GET", target="/h1", headers=host), h11.EndOfMessage()]))
    conn.start_next_cycle()
    print(*roundtrip([h11.Request(method="POST", target="/h2",
                                  headers=host + [("Transfer-Encoding", "chunked")]),
                      h11.Data(data=b"chu"), h11.Data(data=b"nked"), h11.EndOfMessage()]))
    conn.start_next_cycle()
    print(*roundtrip([h11.Request(method="GET", target="/chunked-response", headers=host),
                      h11.EndOfMessage()]))
    conn.start_next_cycle()
    print(*roundtrip([h11.Request(method="HEAD", target="/h4", headers=host),
                      h11.EndOfMessage()]))
    print("states", conn.our_state, conn.their_state)
    sock.close()


def tls_reset(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the certificate is not what this is about
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10)) as s:
        s.sendall(b"GET /info HTTP/1.1\r\nHost: x\r\n\r\n")
        response = b""
        while not response.endswith(b"https"):
            response += s.recv(1000)
        print(response.split(b"\r\n")[0].decode(), response.split(b"\r\n\r\n")[1].decode())
        # Closing with SO_LINGER 0 sends a reset; Python sends no close_notify first.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


if __name__ == "__main__":
    {"http_client": http_client, "requests": requests_client, "h11": h11_client,
     "tls_reset": tls_reset}[sys.argv[1]](int(sys.argv[2]))
