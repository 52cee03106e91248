"""Makes N connections to 127.0.0.1:PORT, each one GET / and then a reset (SO_LINGER 0),
the way a browser tab or a load balancer often ends one. Prints N.

usage: python3 reset_client.py PORT N
"""
import socket
import struct
import sys


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            response = b""
            while not response.endswith(b"Hello, world"):
                chunk = s.recv(4096)
                if not chunk:
                    sys.exit("connection closed before the response ended")
                response += chunk
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    print(count)


if __name__ == "__main__":
    main()
