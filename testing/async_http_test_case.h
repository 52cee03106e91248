// tornado::testing::AsyncHTTPTestCase / AsyncHTTPSTestCase, Tornado's
// tornado.testing.AsyncHTTPTestCase and AsyncHTTPSTestCase: an AsyncTestCase that starts
// an HTTPServer for the test's application on an unused port and gives the test an HTTP
// client (a SimpleAsyncHTTPClient) and fetch(path).
//
// Separate target //testing:async_http_test_case (not in testing.h): it links
// httpserver and simple_httpclient, which registers itself as the default
// AsyncHTTPClient; tests of other clients should not get it by linking //testing.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "httpclient/httpclient.h"
#include "httpserver/httpserver.h"
#include "netutil/netutil.h"
#include "testing/async_test_case.h"

namespace tornado::testing {

// A test case that starts an HTTP server (Tornado's AsyncHTTPTestCase).
//
//   class HelloTest : public testing::AsyncHTTPTestCase {
//     App get_app() override { return App::callback(hello); }
//   };
//   TEST_F(HelloTest, Get) { EXPECT_EQ(fetch("/").body, "Hello"); }
//
// SetUp (after AsyncTestCase's): http_client() = get_http_client(), the application =
// get_app(), http_server() = get_http_server() (get_httpserver_options()) listening on
// bind_unused_port(). TearDown: stops the server, closes its connections (run on the
// loop), closes the client, destroys server and client, then AsyncTestCase's teardown
// (so the fd leak check sees them closed).
class AsyncHTTPTestCase : public AsyncTestCase {
 public:
  // The application under test (Tornado's get_app() result): a request callback, or a
  // delegate (e.g. web::Application) that must outlive the test's server (keep it in the
  // fixture).
  struct App {
    httpserver::HTTPServer::RequestCallback callback;
    httputil::HTTPServerConnectionDelegate* delegate = nullptr;
    static App from_callback(httpserver::HTTPServer::RequestCallback cb) { return App{std::move(cb), nullptr}; }
    static App from_delegate(httputil::HTTPServerConnectionDelegate* d) { return App{nullptr, d}; }
  };

 protected:
  void SetUp() override;
  void TearDown() override;

  // The application to serve (Tornado's get_app). Required.
  virtual App get_app() = 0;
  // HTTPServer options (Tornado's get_httpserver_options); default none.
  virtual httpserver::HTTPServerOptions get_httpserver_options();
  // The client (Tornado's get_http_client): a new SimpleAsyncHTTPClient
  // (force_instance).
  virtual std::shared_ptr<httpclient::AsyncHTTPClient> get_http_client();
  // The server (Tornado's get_http_server) for get_app() and get_httpserver_options().
  virtual std::unique_ptr<httpserver::HTTPServer> get_http_server();
  // "http" (Tornado's get_protocol).
  virtual std::string get_protocol() const { return "http"; }

  // The server's port (Tornado's get_http_port).
  int get_http_port() const { return port_; }
  // "<protocol>://127.0.0.1:<port><path>" (Tornado's get_url).
  std::string get_url(std::string_view path) const;

  // Fetches `path` (a path, or an absolute http(s) URL) and runs the loop until the
  // response arrives (Tornado's fetch, with run_sync under get_async_test_timeout()).
  // `request` gives everything but the URL (method, body, headers, ...). Returns
  // non-2xx responses unless raise_error; errors without a response (599, bad
  // requests) are thrown as in Tornado 6. Throws ioloop::TimeoutError on timeout.
  httpclient::HTTPResponse fetch(std::string_view path, httpclient::HTTPRequest request = {},
                                 bool raise_error = false);

  httpclient::AsyncHTTPClient* http_client() const { return http_client_.get(); }
  httpserver::HTTPServer* http_server() const { return http_server_.get(); }

 private:
  App app_;
  std::shared_ptr<httpclient::AsyncHTTPClient> http_client_;
  std::unique_ptr<httpserver::HTTPServer> http_server_;
  int port_ = 0;
};

// AsyncHTTPTestCase over TLS (Tornado's AsyncHTTPSTestCase): the server uses
// get_ssl_options() (netutil/testdata's localhost certificate), the client does not
// validate certificates, get_protocol() is "https".
class AsyncHTTPSTestCase : public AsyncHTTPTestCase {
 protected:
  httpserver::HTTPServerOptions get_httpserver_options() override;
  std::shared_ptr<httpclient::AsyncHTTPClient> get_http_client() override;
  std::string get_protocol() const override { return "https"; }
  // The server's TLS options (Tornado's get_ssl_options): localhost.crt / localhost.key
  // from //netutil:testdata.
  virtual netutil::SSLOptions get_ssl_options();
};

// A path under the test's runfiles (TEST_SRCDIR/TEST_WORKSPACE/<path>), or `path` itself
// outside bazel test.
std::string runfile_path(const std::string& path);

}  // namespace tornado::testing
