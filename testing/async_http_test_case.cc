#include "testing/async_http_test_case.h"

#include <cstdlib>
#include <utility>
#include <vector>

#include "simple_httpclient/simple_httpclient.h"
#include "testing/bind_unused_port.h"

namespace tornado::testing {

std::string runfile_path(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

void AsyncHTTPTestCase::SetUp() {
  AsyncTestCase::SetUp();
  http_client_ = get_http_client();
  app_ = get_app();
  http_server_ = get_http_server();
  BoundSocket sock = bind_unused_port();
  port_ = sock.port;
  http_server_->add_sockets({sock.fd});
}

void AsyncHTTPTestCase::TearDown() {
  if (http_server_) {
    http_server_->stop();
    try {
      io_loop()->run_sync([server = http_server_.get()] { return server->close_all_connections(); },
                          get_async_test_timeout());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "closing the server's connections: " << e.what();
    }
  }
  if (http_client_) http_client_->close();
  http_server_.reset();
  http_client_.reset();
  AsyncTestCase::TearDown();
}

httpserver::HTTPServerOptions AsyncHTTPTestCase::get_httpserver_options() { return {}; }

std::shared_ptr<httpclient::AsyncHTTPClient> AsyncHTTPTestCase::get_http_client() {
  return std::make_shared<simple_httpclient::SimpleAsyncHTTPClient>(util::Kwargs{});
}

std::unique_ptr<httpserver::HTTPServer> AsyncHTTPTestCase::get_http_server() {
  if (app_.delegate != nullptr) {
    return std::make_unique<httpserver::HTTPServer>(app_.delegate, get_httpserver_options());
  }
  return std::make_unique<httpserver::HTTPServer>(app_.callback, get_httpserver_options());
}

std::string AsyncHTTPTestCase::get_url(std::string_view path) const {
  return get_protocol() + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

httpclient::HTTPResponse AsyncHTTPTestCase::fetch(std::string_view path, httpclient::HTTPRequest request,
                                                  bool raise_error) {
  const std::string p(path);
  const bool absolute = p.rfind("http://", 0) == 0 || p.rfind("https://", 0) == 0 ||
                        p.rfind("HTTP://", 0) == 0 || p.rfind("HTTPS://", 0) == 0;
  request.url = absolute ? p : get_url(path);
  auto client = http_client_;
  return io_loop()->run_sync(
      [client, request = std::move(request), raise_error]() mutable {
        return client->fetch(std::move(request), raise_error);
      },
      get_async_test_timeout());
}

httpserver::HTTPServerOptions AsyncHTTPSTestCase::get_httpserver_options() {
  httpserver::HTTPServerOptions options;
  options.ssl_options = get_ssl_options();
  return options;
}

std::shared_ptr<httpclient::AsyncHTTPClient> AsyncHTTPSTestCase::get_http_client() {
  httpclient::HTTPRequest defaults;
  defaults.validate_cert = false;
  return std::make_shared<simple_httpclient::SimpleAsyncHTTPClient>(util::Kwargs{{"defaults", defaults}});
}

netutil::SSLOptions AsyncHTTPSTestCase::get_ssl_options() {
  netutil::SSLOptions options;
  options.certfile = runfile_path("netutil/testdata/localhost.crt");
  options.keyfile = runfile_path("netutil/testdata/localhost.key");
  return options;
}

}  // namespace tornado::testing
