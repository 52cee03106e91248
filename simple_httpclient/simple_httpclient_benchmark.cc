// Sequential GETs from SimpleAsyncHTTPClient to an in-process HTTPServer on loopback:
// keep-alive reuse (max_idle_connections 4) against a connection per request (0,
// Tornado's behaviour), plain and over TLS.
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "httpclient/httpclient.h"
#include "httpserver/httpserver.h"
#include "httputil/httputil.h"
#include "ioloop/ioloop.h"
#include "netutil/netutil.h"
#include "simple_httpclient/simple_httpclient.h"

namespace tornado::simple_httpclient {
namespace {

std::string runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

void hello(httputil::HTTPServerRequest& r) {
  (void)r.connection->write_headers(httputil::ResponseStartLine{"HTTP/1.1", 200, "OK"},
                                    httputil::HTTPHeaders{{"Content-Length", "12"}}, "Hello world!");
  r.connection->finish();
}

void BM_SequentialGets(benchmark::State& state) {
  const int max_idle = static_cast<int>(state.range(0));
  const bool tls = state.range(1) != 0;
  ioloop::IOLoop loop;
  loop.make_current();
  {
    httpserver::HTTPServerOptions options;
    if (tls) {
      options.ssl_options = netutil::SSLOptions{};
      options.ssl_options->certfile = runfile("netutil/testdata/localhost.crt");
      options.ssl_options->keyfile = runfile("netutil/testdata/localhost.key");
    }
    httpserver::HTTPServer server(hello, options);
    auto fds = netutil::bind_sockets(0, "127.0.0.1", AF_INET);
    const int port = netutil::SocketAddress::local_of(fds[0]).port();
    server.add_sockets(fds);
    httpclient::HTTPRequest defaults;
    defaults.validate_cert = false;
    auto client = std::make_shared<SimpleAsyncHTTPClient>(
        util::Kwargs{{"max_idle_connections", max_idle}, {"defaults", defaults}});
    const std::string url = std::string(tls ? "https" : "http") + "://localhost:" + std::to_string(port) + "/";
    for (auto _ : state) {
      httpclient::HTTPResponse r = loop.run_sync([&] { return client->fetch(url); });
      benchmark::DoNotOptimize(r.body);
    }
    state.counters["connections"] = static_cast<double>(client->connections_opened());
    client->close();
    server.stop();
    loop.run_sync([&] { return server.close_all_connections(); });
  }
  ioloop::IOLoop::clear_current();
}
BENCHMARK(BM_SequentialGets)
    ->ArgNames({"max_idle", "tls"})
    ->Args({0, 0})
    ->Args({4, 0})
    ->Args({0, 1})
    ->Args({4, 1})
    ->UseRealTime();

}  // namespace
}  // namespace tornado::simple_httpclient
