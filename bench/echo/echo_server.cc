// tornado-cpp echo server for bench/echo: a TCPServer whose handle_stream loops
// read_bytes(65536, partial=true) then write. Port from --port (options module), logging
// through the options module's logging flags (--logging=none to silence).
#include <cstdio>
#include <memory>
#include <string>

#include "ioloop/ioloop.h"
#include "iostream/iostream.h"
#include "netutil/netutil.h"
#include "options/options.h"
#include "tcpserver/tcpserver.h"

namespace opt = tornado::options;
using tornado::concurrent::Future;
using tornado::iostream::IOStream;
using tornado::iostream::StreamClosedError;

class EchoServer : public tornado::tcpserver::TCPServer {
  Future<void> handle_stream(std::shared_ptr<IOStream> stream,
                             tornado::netutil::SocketAddress address) override {
    try {
      for (;;) {
        std::string data = co_await stream->read_bytes(65536, true);
        co_await stream->write(std::move(data));
      }
    } catch (const StreamClosedError&) {
    }
  }
};

int main(int argc, char** argv) {
  opt::define("port", {.default_value = 8888, .help = "TCP port to listen on (127.0.0.1)"});
  opt::parse_command_line(argc, argv);
  int port = opt::options().get<int>("port");
  EchoServer server;
  server.listen(port, "127.0.0.1");
  std::fprintf(stderr, "echo_server: listening on 127.0.0.1:%d\n", port);
  tornado::ioloop::IOLoop::current()->start();
  return 0;
}
