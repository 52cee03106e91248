// AsyncHTTPTestCase / AsyncHTTPSTestCase (Tornado's testing_test.py AsyncHTTPTestCaseTest
// and AsyncHTTPTestCaseSetUpTearDownTest).
#include "testing/async_http_test_case.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "httpclient/httpclient.h"
#include "httputil/httputil.h"
#include "simple_httpclient/simple_httpclient.h"

namespace tornado::testing {
namespace {

using httputil::HTTPHeaders;
using httputil::HTTPServerRequest;
using httputil::ResponseStartLine;

void respond(HTTPServerRequest& r, int code, const std::string& body) {
  (void)r.connection->write_headers(ResponseStartLine{"HTTP/1.1", code, code == 200 ? "OK" : "Not Found"},
                                    HTTPHeaders{{"Content-Length", std::to_string(body.size())}}, body);
  r.connection->finish();
}

void app(HTTPServerRequest& r) {
  if (r.path == "/path") return respond(r, 200, "forbidden fruit? " + r.protocol);
  if (r.path == "/echo") return respond(r, 200, r.method + " " + r.body);
  respond(r, 404, "no");
}

class HTTPTestCaseTest : public AsyncHTTPTestCase {
 protected:
  App get_app() override { return App::from_callback(app); }
};

TEST_F(HTTPTestCaseTest, FetchSegment) {
  // test_fetch_segment
  httpclient::HTTPResponse r = fetch("/path");
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "forbidden fruit? http");
  EXPECT_EQ(r.request->url, get_url("/path"));
}

TEST_F(HTTPTestCaseTest, FetchFullHTTPURL) {
  // test_fetch_full_http_url
  const std::string url = "http://localhost:" + std::to_string(get_http_port()) + "/path";
  httpclient::HTTPResponse r = fetch(url);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.request->url, url);
}

TEST_F(HTTPTestCaseTest, FetchOptionsAndErrors) {
  httpclient::HTTPRequest post;
  post.method = "POST";
  post.body = "data";
  EXPECT_EQ(fetch("/echo", post).body, "POST data");
  // Non-2xx: returned, or raised with raise_error (Tornado 6's fetch).
  EXPECT_EQ(fetch("/missing").code, 404);
  EXPECT_THROW(fetch("/missing", {}, true), httpclient::HTTPClientError);
}

TEST_F(HTTPTestCaseTest, Accessors) {
  EXPECT_NE(get_http_port(), 0);
  EXPECT_EQ(get_protocol(), "http");
  EXPECT_EQ(get_url("/x"), "http://127.0.0.1:" + std::to_string(get_http_port()) + "/x");
  ASSERT_NE(http_client(), nullptr);
  EXPECT_NE(dynamic_cast<simple_httpclient::SimpleAsyncHTTPClient*>(http_client()), nullptr);
  ASSERT_NE(http_server(), nullptr);
}

TEST_F(HTTPTestCaseTest, KeepAliveConnectionIsClosedAtTeardown) {
  // AsyncHTTPTestCaseSetUpTearDownTest: the client keeps its connection alive, and
  // TearDown still leaves no fd open (AsyncTestCase's leak check would fail).
  EXPECT_EQ(fetch("/path").code, 200);
  EXPECT_EQ(fetch("/path").code, 200);
  EXPECT_EQ(http_server()->connection_count(), 1u);
}

// The delegate form of get_app (e.g. a web::Application).
class CountingDelegate : public httputil::HTTPServerConnectionDelegate {
 public:
  class Message : public httputil::HTTPMessageDelegate {
   public:
    Message(CountingDelegate* owner, httputil::HTTPConnection* conn) : owner_(owner), conn_(conn) {}
    std::optional<concurrent::Future<void>> headers_received(const httputil::StartLine&,
                                                             HTTPHeaders) override {
      return std::nullopt;
    }
    std::optional<concurrent::Future<void>> data_received(std::string) override { return std::nullopt; }
    void finish() override {
      const std::string body = "request " + std::to_string(++owner_->requests);
      (void)conn_->write_headers(ResponseStartLine{"HTTP/1.1", 200, "OK"},
                                 HTTPHeaders{{"Content-Length", std::to_string(body.size())}}, body);
      conn_->finish();
    }
    void on_connection_close() override {}

   private:
    CountingDelegate* owner_;
    httputil::HTTPConnection* conn_;
  };
  std::unique_ptr<httputil::HTTPMessageDelegate> start_request(httputil::HTTPServerConnection*,
                                                               httputil::HTTPConnection* conn) override {
    return std::make_unique<Message>(this, conn);
  }
  int requests = 0;
};

class DelegateAppTest : public AsyncHTTPTestCase {
 protected:
  App get_app() override { return App::from_delegate(&delegate_); }
  CountingDelegate delegate_;
};

TEST_F(DelegateAppTest, ServesThroughTheDelegate) {
  EXPECT_EQ(fetch("/").body, "request 1");
  EXPECT_EQ(fetch("/").body, "request 2");
}

class HTTPSTestCaseTest : public AsyncHTTPSTestCase {
 protected:
  App get_app() override { return App::from_callback(app); }
};

TEST_F(HTTPSTestCaseTest, FetchOverTLS) {
  EXPECT_EQ(get_protocol(), "https");
  EXPECT_EQ(get_url("/path").rfind("https://127.0.0.1:", 0), 0u);
  httpclient::HTTPResponse r = fetch("/path");
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "forbidden fruit? https");
  EXPECT_EQ(fetch("/path").code, 200);
  EXPECT_EQ(http_server()->connection_count(), 1u);
}

}  // namespace
}  // namespace tornado::testing
