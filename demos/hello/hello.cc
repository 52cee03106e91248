// demos/hello: "Hello, world" over HTTPServer, the HTTP benchmark target.
//
//   bazel-bin/demos/hello/hello --port=8888 --processes=1 [--address=127.0.0.1]
//                               [--certfile=cert.pem --keyfile=key.pem]
//
// With --certfile and --keyfile it serves HTTPS (HTTPServer's ssl_options).
// --processes other than 1 forks that many workers (0: one per CPU) sharing the
// listening socket (TCPServer::start). Prints "hello: listening on <address>:<port>" on
// stderr once the socket is bound (--port=0 picks a free port, for tests).
#include <cstdio>
#include <string>

#include "httpserver/httpserver.h"
#include "httputil/httputil.h"
#include "ioloop/ioloop.h"
#include "netutil/netutil.h"
#include "options/options.h"

namespace opt = tornado::options;
using tornado::httputil::HTTPHeaders;
using tornado::httputil::HTTPServerRequest;
using tornado::httputil::ResponseStartLine;

int main(int argc, char** argv) {
  opt::define("port", {.default_value = 8888, .help = "TCP port to listen on"});
  opt::define("address", {.default_value = std::string(""), .help = "address to bind (all if empty)"});
  opt::define("processes", {.default_value = 1, .help = "worker processes (0: one per CPU)"});
  opt::define("certfile", {.default_value = std::string(""), .help = "TLS certificate chain (PEM)"});
  opt::define("keyfile", {.default_value = std::string(""), .help = "TLS private key (PEM)"});
  try {
    opt::parse_command_line(argc, argv);
  } catch (const opt::Error& e) {  // a usage error, not a crash (Tornado: a traceback)
    std::fprintf(stderr, "hello: %s (values go as --name=value; see --help)\n", e.what());
    return 2;
  }
  const auto certfile = opt::options().get<std::string>("certfile");
  const auto keyfile = opt::options().get<std::string>("keyfile");
  if (certfile.empty() != keyfile.empty()) {
    std::fprintf(stderr, "hello: HTTPS needs both --certfile and --keyfile\n");
    return 2;
  }
  tornado::httpserver::HTTPServerOptions server_options;
  if (!certfile.empty()) {
    tornado::netutil::SSLOptions ssl;
    ssl.certfile = certfile;
    ssl.keyfile = keyfile;
    server_options.ssl_options = ssl;
  }

  static const std::string kBody = "Hello, world";
  static const HTTPHeaders kHeaders{{"Content-Type", "text/plain"},
                                    {"Content-Length", std::to_string(kBody.size())}};
  static const ResponseStartLine kStatus{"HTTP/1.1", 200, "OK"};
  tornado::httpserver::HTTPServer server([](HTTPServerRequest& request) {
    (void)request.connection->write_headers(kStatus, kHeaders, kBody);
    request.connection->finish();
  }, server_options);
  server.bind(opt::options().get<int>("port"), opt::options().get<std::string>("address"));
  const auto local = tornado::netutil::SocketAddress::local_of(server.bound_sockets().at(0));
  std::fprintf(stderr, "hello: listening on %s\n", local.to_string().c_str());
  std::fflush(stderr);
  server.start(opt::options().get<int>("processes"));
  tornado::ioloop::IOLoop::current()->start();
  return 0;
}
