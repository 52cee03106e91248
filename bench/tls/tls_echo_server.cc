// TLS echo server for bench/tls: a TCPServer with SSLOptions (netutil's defaults, so
// TLS 1.2 minimum) whose handle_stream echoes what it reads. Port from --port,
// certificate and key from --certfile / --keyfile (options module).
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

class TLSEchoServer : public tornado::tcpserver::TCPServer {
 public:
  using TCPServer::TCPServer;
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
  opt::define("port", {.default_value = 8443, .help = "TCP port to listen on (127.0.0.1)"});
  opt::define("certfile", {.default_value = std::string(), .help = "PEM certificate chain"});
  opt::define("keyfile", {.default_value = std::string(), .help = "PEM private key"});
  opt::parse_command_line(argc, argv);
  tornado::netutil::SSLOptions ssl;
  ssl.certfile = opt::options().get<std::string>("certfile");
  ssl.keyfile = opt::options().get<std::string>("keyfile");
  const int port = opt::options().get<int>("port");
  TLSEchoServer server(ssl);
  server.listen(port, "127.0.0.1");
  std::fprintf(stderr, "tls_echo_server: listening on 127.0.0.1:%d\n", port);
  tornado::ioloop::IOLoop::current()->start();
  return 0;
}
