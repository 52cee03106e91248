"""Python Tornado's hello world, the peer of demos/hello in bench/http/run.sh."""
import asyncio

import tornado.web
from tornado.options import define, options, parse_command_line

define("port", default=8888, type=int)


class MainHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, world")


async def main():
    parse_command_line()
    app = tornado.web.Application([(r"/", MainHandler)])
    app.listen(options.port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
