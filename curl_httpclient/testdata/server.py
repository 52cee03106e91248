"""The peer of curl_httpclient's tests: a Python Tornado (Debian's 6.2) application
with the handlers of Tornado's httpclient_test.py and curl_httpclient_test.py.

Usage: server.py [--certfile F --keyfile K [--client-ca CA]] [--ipv6] [--proxy].
Listens on 127.0.0.1 (--ipv6: ::1) port 0 and prints "PORT <n>" once it is ready.
--client-ca requires a client certificate signed by CA; --proxy serves as a forward
proxy that answers every absolute-form request itself. Exits when its stdin closes
(the test died).
"""
import asyncio
import gzip
import sys
import ssl
from hashlib import md5

from tornado import gen, web
from tornado.escape import utf8
from tornado.ioloop import IOLoop
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets


class HelloWorldHandler(web.RequestHandler):
    def get(self):
        name = self.get_argument("name", "world")
        self.set_header("Content-Type", "text/plain")
        self.finish("Hello %s!" % name)


class PostHandler(web.RequestHandler):
    def post(self):
        self.finish("Post arg1: %s, arg2: %s" % (self.get_argument("arg1"), self.get_argument("arg2")))


class PutHandler(web.RequestHandler):
    def put(self):
        self.write("Put body: ")
        self.write(self.request.body)


class ChunkHandler(web.RequestHandler):
    @gen.coroutine
    def get(self):
        self.write("asdf")
        self.flush()
        yield gen.sleep(0.01)
        self.write("qwer")


class AuthHandler(web.RequestHandler):
    def get(self):
        self.finish(self.request.headers.get("Authorization", ""))


class CountdownHandler(web.RequestHandler):
    def get(self, count):
        count = int(count)
        if count > 0:
            self.redirect(self.reverse_url("countdown", count - 1))
        else:
            self.write("Zero")


class EchoPostHandler(web.RequestHandler):
    def post(self):
        self.write(self.request.body)


class UserAgentHandler(web.RequestHandler):
    def get(self):
        self.write(self.request.headers.get("User-Agent", "User agent not set"))


class HeaderEchoHandler(web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        for k, v in self.request.headers.get_all():
            self.write("%s: %s\n" % (k, v))


class AllMethodsHandler(web.RequestHandler):
    SUPPORTED_METHODS = web.RequestHandler.SUPPORTED_METHODS + ("OTHER",)

    def method(self):
        assert self.request.method is not None
        self.write(self.request.method)

    get = head = post = put = delete = options = patch = other = method  # type: ignore


class SetHeaderHandler(web.RequestHandler):
    def get(self):
        for k, v in self.request.arguments.items():
            self.set_header(k, v[0].decode())


class StatusHandler(web.RequestHandler):
    def get(self, code):
        self.set_status(int(code))
        self.finish("status %s" % code)


class CustomReasonHandler(web.RequestHandler):
    def get(self):
        self.set_status(200, "Custom reason")


class CustomFailReasonHandler(web.RequestHandler):
    def get(self):
        self.set_status(400, "Custom reason")


class RedirectHandler(web.RequestHandler):
    def prepare(self):
        self.write("redirects can have bodies too")
        self.redirect(self.get_argument("url"), status=int(self.get_argument("status", "302")))


class GzipHandler(web.RequestHandler):
    def get(self):
        body = b"asdf" * 1000
        if "gzip" in self.request.headers.get("Accept-Encoding", ""):
            self.set_header("Content-Encoding", "gzip")
            body = gzip.compress(body)
        self.write(body)


class SlowHandler(web.RequestHandler):
    async def get(self):
        await asyncio.sleep(float(self.get_argument("delay", "0.5")))
        self.write("slow %s" % self.get_argument("id", ""))


class HangHandler(web.RequestHandler):
    async def get(self):
        await asyncio.sleep(3600)


class DigestAuthHandler(web.RequestHandler):
    def initialize(self, username, password):
        self.username = username
        self.password = password

    def get(self):
        realm = "test"
        opaque = "asdf"
        nonce = "1234"  # real implementations would use a random nonce
        auth_header = self.request.headers.get("Authorization", None)
        if auth_header is not None:
            auth_mode, params = auth_header.split(" ", 1)
            assert auth_mode == "Digest"
            param_dict = {}
            for pair in params.split(","):
                k, v = pair.strip().split("=", 1)
                if v[0] == '"' and v[-1] == '"':
                    v = v[1:-1]
                param_dict[k] = v
            assert param_dict["realm"] == realm
            assert param_dict["opaque"] == opaque
            assert param_dict["nonce"] == nonce
            assert param_dict["username"] == self.username
            assert param_dict["uri"] == self.request.path
            h1 = md5(utf8("%s:%s:%s" % (self.username, realm, self.password))).hexdigest()
            h2 = md5(utf8("%s:%s" % (self.request.method, self.request.path))).hexdigest()
            digest = md5(utf8("%s:%s:%s" % (h1, nonce, h2))).hexdigest()
            self.write("ok" if digest == param_dict["response"] else "fail")
        else:
            self.set_status(401)
            self.set_header(
                "WWW-Authenticate",
                'Digest realm="%s", nonce="%s", opaque="%s"' % (realm, nonce, opaque),
            )


class ManyHeadersHandler(web.RequestHandler):
    def get(self):
        for i in range(int(self.get_argument("n"))):
            self.add_header("X-H-%d" % i, "v" * 16)
        self.write("many")


class NotModifiedHandler(web.RequestHandler):
    def get(self):
        # Tornado's 304_with_content_length: a 304 may carry the Content-Length of the
        # representation without a body.
        self.set_status(304)
        self.set_header("Content-Length", 42)

    def _check_xsrf_cookie(self):
        pass


class ClientCertHandler(web.RequestHandler):
    def get(self):
        cert = self.request.get_ssl_certificate()
        subject = dict(x[0] for x in cert["subject"]) if cert else {}
        self.write("client cert CN=%s" % subject.get("commonName", "none"))


class ProxyHandler(web.RequestHandler):
    """A forward proxy's view: the request line carries the absolute URL."""

    def get(self):
        self.write("proxied %s auth=%s" % (self.request.uri,
                                            self.request.headers.get("Proxy-Authorization", "none")))


def make_app():
    return web.Application(
        [
            web.url("/hello", HelloWorldHandler),
            web.url("/post", PostHandler),
            web.url("/put", PutHandler),
            web.url("/chunk", ChunkHandler),
            web.url("/auth", AuthHandler),
            web.url(r"/countdown/([0-9]+)", CountdownHandler, name="countdown"),
            web.url("/echopost", EchoPostHandler),
            web.url("/user_agent", UserAgentHandler),
            web.url("/header_echo", HeaderEchoHandler),
            web.url("/all_methods", AllMethodsHandler),
            web.url("/set_header", SetHeaderHandler),
            web.url(r"/status/([0-9]+)", StatusHandler),
            web.url("/custom_reason", CustomReasonHandler),
            web.url("/custom_fail_reason", CustomFailReasonHandler),
            web.url("/redirect", RedirectHandler),
            web.url("/gzip", GzipHandler),
            web.url("/slow", SlowHandler),
            web.url("/hang", HangHandler),
            web.url("/many_headers", ManyHeadersHandler),
            web.url("/client_cert", ClientCertHandler),
            web.url("/304_with_content_length", NotModifiedHandler),
            web.url("/digest", DigestAuthHandler, dict(username="foo", password="bar")),
        ]
    )


async def main():
    ssl_ctx = None
    if "--certfile" in sys.argv:
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_ctx.load_cert_chain(sys.argv[sys.argv.index("--certfile") + 1],
                                sys.argv[sys.argv.index("--keyfile") + 1])
        if "--client-ca" in sys.argv:
            ssl_ctx.verify_mode = ssl.CERT_REQUIRED
            ssl_ctx.load_verify_locations(sys.argv[sys.argv.index("--client-ca") + 1])
    sockets = bind_sockets(0, "::1" if "--ipv6" in sys.argv else "127.0.0.1")
    app = web.Application([(r".*", ProxyHandler)]) if "--proxy" in sys.argv else make_app()
    server = HTTPServer(app, ssl_options=ssl_ctx)
    server.add_sockets(sockets)
    print("PORT %d" % sockets[0].getsockname()[1], flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), lambda: (sys.stdin.buffer.read1(1) or done.set()))
    await done.wait()


if __name__ == "__main__":
    asyncio.run(main())
