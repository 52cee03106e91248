"""Python Tornado TCPServer echo for bench/echo: read_bytes(65536, partial=True), write."""
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError
from tornado.options import define, options, parse_command_line
from tornado.tcpserver import TCPServer

define("port", default=8888, help="TCP port to listen on (127.0.0.1)")


class EchoServer(TCPServer):
    async def handle_stream(self, stream, address):
        try:
            while True:
                data = await stream.read_bytes(65536, partial=True)
                await stream.write(data)
        except StreamClosedError:
            pass


if __name__ == "__main__":
    parse_command_line()
    EchoServer().listen(options.port, address="127.0.0.1")
    IOLoop.current().start()
