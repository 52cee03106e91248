"""The Python Tornado (Debian's 6.2) peer of simple_httpclient's tests: handlers of
Tornado's httpclient_test.py, plus /connections (connections accepted so far).

Usage: server.py [--certfile F --keyfile K]. Listens on 127.0.0.1 port 0, prints
"PORT <n>" once ready, exits when its stdin closes (the test died).
"""
import asyncio
import gzip
import sys

from tornado import gen, web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets

ACCEPTED = [0]


class CountingServer(HTTPServer):
    def handle_stream(self, stream, address):
        ACCEPTED[0] += 1
        return super().handle_stream(stream, address)


class Hello(web.RequestHandler):
    def get(self):
        self.finish("Hello %s!" % self.get_argument("name", "world"))


class Connections(web.RequestHandler):
    def get(self):
        self.finish(str(ACCEPTED[0]))


class EchoPost(web.RequestHandler):
    def post(self):
        self.write(self.request.body)

    put = post


class Countdown(web.RequestHandler):
    def get(self, count):
        count = int(count)
        if count > 0:
            self.redirect("/countdown/%d" % (count - 1))
        else:
            self.write("Zero")


class Chunk(web.RequestHandler):
    async def get(self):
        self.write("asdf")
        await self.flush()
        await gen.sleep(0.01)
        self.write("qwer")


class Gzip(web.RequestHandler):
    def get(self):
        body = b"asdf" * 1000
        if "gzip" in self.request.headers.get("Accept-Encoding", ""):
            self.set_header("Content-Encoding", "gzip")
            body = gzip.compress(body)
        self.write(body)


class Redirect(web.RequestHandler):
    def prepare(self):
        self.write("redirects can have bodies too")
        self.redirect(self.get_argument("url"), status=int(self.get_argument("status", "302")))


class Method(web.RequestHandler):
    SUPPORTED_METHODS = web.RequestHandler.SUPPORTED_METHODS + ("OTHER",)

    def method(self):
        self.write(self.request.method)

    get = head = post = put = delete = options = patch = other = method


class Headers(web.RequestHandler):
    def get(self):
        for k, v in self.request.headers.get_all():
            self.write("%s: %s\n" % (k, v))


class Auth(web.RequestHandler):
    def get(self):
        self.finish(self.request.headers.get("Authorization", ""))


class Hang(web.RequestHandler):
    async def get(self):
        await asyncio.sleep(3600)


class Large(web.RequestHandler):
    def get(self):
        self.write(b"x" * int(self.get_argument("n")))


@web.stream_request_body
class Continue(web.RequestHandler):
    def prepare(self):
        self.got = b""

    def data_received(self, chunk):
        self.got += chunk

    def post(self):
        self.write(self.got)


def main():
    args = sys.argv[1:]
    ssl_options = None
    if "--certfile" in args:
        ssl_options = {
            "certfile": args[args.index("--certfile") + 1],
            "keyfile": args[args.index("--keyfile") + 1],
        }
    app = web.Application([
        (r"/hello", Hello), (r"/connections", Connections), (r"/echopost", EchoPost),
        (r"/countdown/([0-9]+)", Countdown), (r"/chunk", Chunk), (r"/gzip", Gzip),
        (r"/redirect", Redirect), (r"/method", Method), (r"/headers", Headers), (r"/auth", Auth),
        (r"/hang", Hang), (r"/large", Large), (r"/continue", Continue),
    ])

    async def run():
        sockets = bind_sockets(0, "127.0.0.1")
        server = CountingServer(app, ssl_options=ssl_options)
        server.add_sockets(sockets)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        loop.add_reader(0, lambda: done.done() or (sys.stdin.buffer.read1(4096) or done.set_result(None)))
        print("PORT %d" % sockets[0].getsockname()[1], flush=True)
        await done

    asyncio.run(run())


if __name__ == "__main__":
    main()
