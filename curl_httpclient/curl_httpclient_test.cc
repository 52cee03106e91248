// CurlAsyncHTTPClient against a real peer: Python Tornado 6.2 (testdata/server.py).
// Ports of Tornado's httpclient_test.py (HTTPClientCommonTestCase) and
// curl_httpclient_test.py; README.md has the map.
#include "curl_httpclient/curl_httpclient.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "curl_httpclient/test_server.h"
#include "gtest/gtest.h"
#include "gen/gen.h"
#include "httpclient/httpclient.h"
#include "httputil/httputil.h"
#include "testing/testing.h"

namespace tornado::curl_httpclient {
namespace {

using httpclient::AsyncHTTPClient;
using httpclient::HTTPClientError;
using httpclient::HTTPRequest;
using httpclient::HTTPResponse;
using httpclient::HTTPTimeoutError;
using concurrent::Future;

class CurlHTTPClientTest : public testing::AsyncTestCase {
 protected:
  static void SetUpTestSuite() {
    server_ = new test::PeerServer();
    server_->start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    AsyncTestCase::SetUp();
    client_ = std::make_unique<CurlAsyncHTTPClient>(util::Kwargs{});
  }
  void TearDown() override {
    client_->close();
    client_.reset();
    AsyncTestCase::TearDown();
  }
  static std::string url(std::string_view path) {
    return absl::StrCat("http://127.0.0.1:", server_->port(), std::string(path));
  }
  Future<HTTPResponse> fetch(std::string_view path) { return client_->fetch(url(path)); }

  static test::PeerServer* server_;
  std::unique_ptr<CurlAsyncHTTPClient> client_;
};
test::PeerServer* CurlHTTPClientTest::server_ = nullptr;

// test_hello_world
ASYNC_TEST_F(CurlHTTPClientTest, HelloWorld) {
  HTTPResponse response = co_await fetch("/hello");
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.reason, "OK");
  EXPECT_EQ(response.headers.get("Content-Type", ""), "text/plain");
  EXPECT_EQ(response.body, "Hello world!");
  EXPECT_EQ(response.effective_url, url("/hello"));
  CO_ASSERT_TRUE(response.request_time.has_value());
  EXPECT_GT(*response.request_time, 0);
  EXPECT_LT(*response.request_time, 5);
  CO_ASSERT_TRUE(response.start_time.has_value());
  EXPECT_GE(*response.start_time, response.request->start_time);
  EXPECT_TRUE(response.time_info.contains("total"));
  EXPECT_TRUE(response.time_info.contains("queue"));
  EXPECT_FALSE(response.error);
  response.rethrow();  // no-op

  HTTPResponse named = co_await fetch("/hello?name=Ben");
  EXPECT_EQ(named.body, "Hello Ben!");
}

// test_post
ASYNC_TEST_F(CurlHTTPClientTest, Post) {
  HTTPRequest request(url("/post"), "POST");
  request.body = "arg1=foo&arg2=bar";
  HTTPResponse response = co_await client_->fetch(std::move(request));
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.body, "Post arg1: foo, arg2: bar");
}

// test_put_307-like: PUT with a body, and an empty body
ASYNC_TEST_F(CurlHTTPClientTest, PutWithBody) {
  HTTPRequest request(url("/put"), "PUT");
  request.body = "hello";
  HTTPResponse response = co_await client_->fetch(std::move(request));
  EXPECT_EQ(response.body, "Put body: hello");
  HTTPRequest empty(url("/put"), "PUT");
  empty.body = "";
  HTTPResponse empty_response = co_await client_->fetch(std::move(empty));
  EXPECT_EQ(empty_response.body, "Put body: ");
}

// test_streaming_callback, test_chunked
ASYNC_TEST_F(CurlHTTPClientTest, StreamingCallback) {
  HTTPResponse plain = co_await fetch("/chunk");
  EXPECT_EQ(plain.body, "asdfqwer");
  auto chunks = std::make_shared<std::vector<std::string>>();
  HTTPRequest request(url("/chunk"));
  request.streaming_callback = [chunks](std::string_view chunk) { chunks->emplace_back(chunk); };
  HTTPResponse response = co_await client_->fetch(std::move(request));
  std::string joined;
  for (const auto& c : *chunks) joined += c;
  EXPECT_EQ(joined, "asdfqwer");
  EXPECT_EQ(response.body, "");
}

// test_header_callback
ASYNC_TEST_F(CurlHTTPClientTest, HeaderCallback) {
  auto lines = std::make_shared<std::vector<std::string>>();
  HTTPRequest request(url("/chunk"));
  request.header_callback = [lines](std::string_view line) { lines->emplace_back(line); };
  HTTPResponse response = co_await client_->fetch(std::move(request));
  CO_ASSERT_GE(lines->size(), 3u);
  EXPECT_EQ(lines->front(), "HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(lines->back(), "\r\n");
  bool saw_content_type = false;
  for (const auto& l : *lines) saw_content_type |= absl::StartsWith(l, "Content-Type: ");
  EXPECT_TRUE(saw_content_type);
  EXPECT_EQ(response.body, "asdfqwer");
}

// test_basic_auth
ASYNC_TEST_F(CurlHTTPClientTest, BasicAuth) {
  HTTPRequest request(url("/auth"));
  request.auth_username = "Aladdin";
  request.auth_password = "open sesame";
  HTTPResponse response = co_await client_->fetch(std::move(request));
  EXPECT_EQ(response.body, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  HTTPRequest explicit_mode(url("/auth"));
  explicit_mode.auth_username = "Aladdin";
  explicit_mode.auth_password = "open sesame";
  explicit_mode.auth_mode = "basic";
  HTTPResponse r2 = co_await client_->fetch(std::move(explicit_mode));
  EXPECT_EQ(r2.body, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

// test_unsupported_auth_mode
ASYNC_TEST_F(CurlHTTPClientTest, UnsupportedAuthMode) {
  HTTPRequest request(url("/auth"));
  request.auth_username = "Aladdin";
  request.auth_password = "open sesame";
  request.auth_mode = "asdf";
  bool raised = false;
  try {
    co_await client_->fetch(std::move(request));
  } catch (const std::invalid_argument& e) {
    raised = true;
    EXPECT_STREQ(e.what(), "Unsupported auth_mode asdf");
  }
  EXPECT_TRUE(raised);
}

// curl_httpclient_test: test_digest_auth
ASYNC_TEST_F(CurlHTTPClientTest, DigestAuth) {
  HTTPRequest request(url("/digest"));
  request.auth_mode = "digest";
  request.auth_username = "foo";
  request.auth_password = "bar";
  HTTPResponse response = co_await client_->fetch(std::move(request));
  EXPECT_EQ(response.body, "ok");
}

// test_follow_redirect
ASYNC_TEST_F(CurlHTTPClientTest, FollowRedirect) {
  HTTPRequest no_follow(url("/countdown/2"));
  no_follow.follow_redirects = false;
  HTTPResponse response = co_await client_->fetch(std::move(no_follow), /*raise_error=*/false);
  EXPECT_EQ(response.code, 302);
  EXPECT_TRUE(absl::EndsWith(response.headers.get("Location", ""), "/countdown/1"));

  HTTPResponse followed = co_await fetch("/countdown/2");
  EXPECT_EQ(followed.code, 200);
  EXPECT_TRUE(absl::EndsWith(followed.effective_url, "/countdown/0")) << followed.effective_url;
  EXPECT_EQ(followed.body, "Zero");
}

// test_max_redirects: curl fails the transfer (CURLE_TOO_MANY_REDIRECTS) where
// simple_httpclient returns the last 302.
ASYNC_TEST_F(CurlHTTPClientTest, MaxRedirects) {
  HTTPRequest request(url("/countdown/5"));
  request.max_redirects = 3;
  int code = 0;
  std::string message;
  try {
    co_await client_->fetch(std::move(request), /*raise_error=*/false);
  } catch (const CurlError& e) {
    code = e.code();
    message = e.message();
  }
  EXPECT_EQ(code, 599);
  EXPECT_TRUE(absl::StrContains(message, "redirect")) << message;
}

// test_gzip
ASYNC_TEST_F(CurlHTTPClientTest, Gzip) {
  HTTPResponse response = co_await fetch("/gzip");
  EXPECT_EQ(response.headers.get("Content-Encoding", ""), "gzip");
  std::string expected;
  for (int i = 0; i < 1000; ++i) expected += "asdf";
  EXPECT_EQ(response.body, expected);

  HTTPRequest raw(url("/gzip"));
  raw.decompress_response = false;
  HTTPResponse raw_response = co_await client_->fetch(std::move(raw));
  EXPECT_FALSE(raw_response.headers.contains("Content-Encoding"));  // none was asked for
  EXPECT_EQ(raw_response.body, expected);
}

// test_future_http_error, test_future_http_error_no_raise
ASYNC_TEST_F(CurlHTTPClientTest, HTTPErrorRaiseOrNot) {
  int code = 0;
  std::string body;
  std::string what;
  try {
    co_await fetch("/status/404");
  } catch (const HTTPClientError& e) {
    code = e.code();
    what = e.what();
    if (e.response()) body = e.response()->body;
  }
  EXPECT_EQ(code, 404);
  EXPECT_EQ(what, "HTTP 404: Not Found");
  EXPECT_EQ(body, "status 404");

  HTTPResponse response = co_await client_->fetch(url("/status/404"), /*raise_error=*/false);
  EXPECT_EQ(response.code, 404);
  EXPECT_TRUE(response.error);
  EXPECT_THROW(response.rethrow(), HTTPClientError);
}

// test_custom_reason, test_custom_fail_reason (curl_httpclient_test)
ASYNC_TEST_F(CurlHTTPClientTest, CustomReason) {
  HTTPResponse response = co_await fetch("/custom_reason");
  EXPECT_EQ(response.reason, "Custom reason");
  EXPECT_FALSE(response.headers.contains("X-Http-Reason"));
  std::string what;
  try {
    co_await fetch("/custom_fail_reason");
  } catch (const HTTPClientError& e) {
    what = e.what();
  }
  EXPECT_EQ(what, "HTTP 400: Custom reason");
}

// test_request_timeout: 599 with curl's message
ASYNC_TEST_F(CurlHTTPClientTest, RequestTimeout) {
  HTTPRequest request(url("/hang"));
  request.request_timeout = 0.2;
  int code = 0;
  std::string message;
  try {
    co_await client_->fetch(std::move(request));
  } catch (const CurlError& e) {
    code = e.code();
    message = e.message();
  }
  EXPECT_EQ(code, 599);
  EXPECT_TRUE(absl::StrContains(message, "timed out")) << message;
}

// test_connect_timeout: a listener whose accept queue is full drops further SYNs, so
// the connect never completes.
ASYNC_TEST_F(CurlHTTPClientTest, ConnectTimeout) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  CO_ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  CO_ASSERT_EQ(::listen(listener, 0), 0);
  CO_ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  // Fill the accept queue (backlog 0 holds one connection) without accepting.
  std::vector<int> fillers;
  for (int i = 0; i < 2; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    (void)::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(c);
  }
  HTTPRequest request(absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/"));
  request.connect_timeout = 0.2;
  request.request_timeout = 10;
  int code = 0;
  int curl_code = 0;
  std::string message;
  try {
    co_await client_->fetch(std::move(request));
  } catch (const CurlError& e) {
    code = e.code();
    curl_code = e.errno_code();
    message = e.message();
  }
  for (int c : fillers) ::close(c);
  ::close(listener);
  EXPECT_EQ(code, 599);
  EXPECT_EQ(curl_code, 28) << message;  // CURLE_OPERATION_TIMEDOUT
  // libcurl words it by where the deadline hit: "Failed to connect to ... after 200 ms"
  // or "Connection timeout after 200 ms" (seen under ASan); both name the connect phase.
  EXPECT_TRUE(absl::StrContains(absl::AsciiStrToLower(message), "connect")) << message;
}

// test_connection_refused
ASYNC_TEST_F(CurlHTTPClientTest, ConnectionRefused) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  CO_ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  CO_ASSERT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(s);  // bound, never listened: nobody is there
  int code = 0;
  try {
    co_await client_->fetch(absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/"));
  } catch (const CurlError& e) {
    code = e.code();
  }
  EXPECT_EQ(code, 599);
}

// test_all_methods, test_body_sanity_checks
ASYNC_TEST_F(CurlHTTPClientTest, Methods) {
  for (const char* method : {"GET", "DELETE", "OPTIONS"}) {
    HTTPResponse response = co_await client_->fetch(HTTPRequest(url("/all_methods"), method));
    EXPECT_EQ(response.body, method);
  }
  HTTPResponse head = co_await client_->fetch(HTTPRequest(url("/all_methods"), "HEAD"));
  EXPECT_EQ(head.body, "");
  for (const char* method : {"POST", "PUT", "PATCH"}) {
    HTTPRequest request(url("/all_methods"), method);
    request.body = "";
    HTTPResponse response = co_await client_->fetch(std::move(request));
    EXPECT_EQ(response.body, method);
  }
  HTTPRequest other(url("/all_methods"), "OTHER");
  other.allow_nonstandard_methods = true;
  HTTPResponse other_response = co_await client_->fetch(std::move(other));
  EXPECT_EQ(other_response.body, "OTHER");

  // Body sanity checks.
  std::vector<HTTPRequest> bad;
  bad.emplace_back(url("/all_methods"), "POST");  // no body
  bad.emplace_back(url("/all_methods"), "GET");
  bad.back().body = "data";
  bad.emplace_back(url("/all_methods"), "OTHER");  // unknown method
  for (auto& request : bad) {
    bool raised = false;
    try {
      co_await client_->fetch(std::move(request));
    } catch (const std::invalid_argument&) {
      raised = true;
    }
    EXPECT_TRUE(raised);
  }
}

// test_default_user_agent / test_user_agent, test_header_types, if_modified_since
ASYNC_TEST_F(CurlHTTPClientTest, RequestHeaders) {
  HTTPRequest ua(url("/user_agent"));
  ua.user_agent = "TestDefaultUserAgent";
  HTTPResponse r1 = co_await client_->fetch(std::move(ua));
  EXPECT_EQ(r1.body, "TestDefaultUserAgent");

  HTTPRequest echo(url("/header_echo"));
  echo.headers.add("X-Custom", "one");
  echo.headers.add("X-Custom", "two");
  echo.if_modified_since = std::chrono::system_clock::from_time_t(784111777);
  HTTPResponse r2 = co_await client_->fetch(std::move(echo));
  EXPECT_TRUE(absl::StrContains(r2.body, "X-Custom: one\n")) << r2.body;
  EXPECT_TRUE(absl::StrContains(r2.body, "X-Custom: two\n")) << r2.body;
  EXPECT_TRUE(absl::StrContains(r2.body, "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\n")) << r2.body;
  EXPECT_FALSE(absl::StrContains(r2.body, "Expect:")) << r2.body;
  EXPECT_FALSE(absl::StrContains(r2.body, "Pragma:")) << r2.body;
}

// prepare_curl_callback: the caller sets curl options of its own
ASYNC_TEST_F(CurlHTTPClientTest, PrepareCurlCallback) {
  HTTPRequest request(url("/user_agent"));
  request.prepare_curl_callback = [](void* curl) {
    curl_easy_setopt(static_cast<CURL*>(curl), CURLOPT_USERAGENT, "FromPrepareCurlCallback");
  };
  HTTPResponse response = co_await client_->fetch(std::move(request));
  EXPECT_EQ(response.body, "FromPrepareCurlCallback");
}

// test_303_redirect (POST -> GET) and a 307 that keeps method and body (curl rewinds
// the body through the seek callback)
ASYNC_TEST_F(CurlHTTPClientTest, RedirectMethods) {
  HTTPRequest see_other(url("/redirect?url=/all_methods&status=303"), "POST");
  see_other.body = "body";
  HTTPResponse r303 = co_await client_->fetch(std::move(see_other));
  EXPECT_EQ(r303.body, "GET");
  HTTPRequest temporary(url("/redirect?url=/echopost&status=307"), "POST");
  temporary.body = "kept body";
  HTTPResponse r307 = co_await client_->fetch(std::move(temporary));
  EXPECT_EQ(r307.body, "kept body");
}

// test_304_with_content_length
ASYNC_TEST_F(CurlHTTPClientTest, NotModifiedWithContentLength) {
  HTTPResponse response = co_await client_->fetch(url("/304_with_content_length"), /*raise_error=*/false);
  EXPECT_EQ(response.code, 304);
  EXPECT_EQ(response.headers.get("Content-Length", ""), "42");
  EXPECT_EQ(response.body, "");
}

// test_reuse_request_from_response
ASYNC_TEST_F(CurlHTTPClientTest, ReuseRequestFromResponse) {
  HTTPResponse first = co_await fetch("/hello");
  HTTPResponse second = co_await client_->fetch(*first.request);
  EXPECT_EQ(second.body, "Hello world!");
}

// Many response headers are fine; an endless stream of them fails the transfer at
// max_header_size instead of growing without bound.
ASYNC_TEST_F(CurlHTTPClientTest, HeaderVolume) {
  HTTPResponse many = co_await fetch("/many_headers?n=5000");
  EXPECT_EQ(many.body, "many");
  EXPECT_EQ(many.headers.get("X-H-4999", ""), std::string(16, 'v'));
  EXPECT_GE(many.headers.size(), 5000u);

  CurlAsyncHTTPClient small(util::Kwargs{{"max_header_size", 64 * 1024}});
  std::string message;
  try {
    co_await small.fetch(url("/many_headers?n=20000"));
  } catch (const CurlError& e) {
    message = e.message();
  }
  EXPECT_EQ(message, "Response headers exceed max_header_size (65536 bytes)");
  small.close();
}

// close() with a transfer in flight: its future never completes, nothing crashes, the
// connection is closed (the fixture's fd-leak check).
ASYNC_TEST_F(CurlHTTPClientTest, CloseWithTransferInFlight) {
  auto client = std::make_unique<CurlAsyncHTTPClient>(util::Kwargs{});
  Future<HTTPResponse> pending = client->fetch(url("/hang"));
  Future<HTTPResponse> done = client->fetch(url("/hello"));
  HTTPResponse hello = co_await done;
  EXPECT_EQ(hello.body, "Hello world!");
  client->close();
  EXPECT_EQ(client->registered_fds(), 0u);
  client.reset();
  co_await gen::sleep(std::chrono::milliseconds(50));  // a window for stray callbacks
  EXPECT_FALSE(pending.done());
}

// Client defaults (Tornado's defaults= kwarg and _RequestProxy)
ASYNC_TEST_F(CurlHTTPClientTest, ClientDefaults) {
  HTTPRequest defaults;
  defaults.user_agent = "FromDefaults";
  CurlAsyncHTTPClient client(util::Kwargs{{"defaults", defaults}});
  HTTPResponse response = co_await client.fetch(url("/user_agent"));
  EXPECT_EQ(response.body, "FromDefaults");
  EXPECT_EQ(*response.request->connect_timeout, 20.0);
  client.close();
}

// max_clients: requests beyond it wait and start in FIFO order
ASYNC_TEST_F(CurlHTTPClientTest, MaxClientsQueueOrder) {
  CurlAsyncHTTPClient client(util::Kwargs{{"max_clients", 1}});
  auto order = std::make_shared<std::vector<std::string>>();
  std::vector<Future<HTTPResponse>> futures;
  for (int i = 0; i < 4; ++i) {
    futures.push_back(client.fetch(url(absl::StrCat("/slow?delay=0.02&id=", i))));
    futures.back().add_done_callback([order](Future<HTTPResponse> f) { order->push_back(f.result().body); });
  }
  for (auto& f : futures) co_await f;
  EXPECT_EQ(*order, (std::vector<std::string>{"slow 0", "slow 1", "slow 2", "slow 3"}));
  for (auto& f : futures) EXPECT_LT(f.result().time_info.at("queue"), 5);
  EXPECT_GT(futures[3].result().time_info.at("queue"), futures[1].result().time_info.at("queue"));
  client.close();
}

// Queue timeout (SimpleAsyncHTTPClient's "Timeout in request queue")
ASYNC_TEST_F(CurlHTTPClientTest, QueueTimeout) {
  CurlAsyncHTTPClient client(util::Kwargs{{"max_clients", 1}});
  HTTPRequest hang(url("/hang"));
  hang.request_timeout = 1;
  Future<HTTPResponse> first = client.fetch(std::move(hang));
  HTTPRequest queued(url("/hello"));
  queued.connect_timeout = 0.1;
  queued.request_timeout = 5;
  std::string message;
  int code = 0;
  try {
    co_await client.fetch(std::move(queued));
  } catch (const HTTPTimeoutError& e) {
    code = e.code();
    message = e.message();
  }
  EXPECT_EQ(code, 599);
  EXPECT_EQ(message, "Timeout in request queue");
  EXPECT_FALSE(first.done());
  client.close();
}

// The instance cache and the default implementation ("curl", registered by linking)
TEST_F(CurlHTTPClientTest, InstanceIsCurlAndCachedPerLoop) {
  std::shared_ptr<AsyncHTTPClient> a = AsyncHTTPClient::instance();
  std::shared_ptr<AsyncHTTPClient> b = AsyncHTTPClient::instance();
  EXPECT_EQ(a, b);
  EXPECT_NE(dynamic_cast<CurlAsyncHTTPClient*>(a.get()), nullptr);
  std::shared_ptr<AsyncHTTPClient> forced = AsyncHTTPClient::instance({}, /*force_instance=*/true);
  EXPECT_NE(forced, a);
  forced->close();
  a->close();
  std::shared_ptr<AsyncHTTPClient> c = AsyncHTTPClient::instance();
  EXPECT_NE(c, a);  // close() removed it from the cache
  c->close();
  EXPECT_THROW(c->fetch(url("/hello")), std::runtime_error);
  EXPECT_TRUE(libssh2_stub_loaded());
  EXPECT_TRUE(absl::StrContains(curl_version(), "libssh2/none(tornado-cpp-stub)")) << curl_version();
}

// HTTPClient (blocking), Tornado's HTTPClientTestCase/SyncHTTPClientTest
TEST_F(CurlHTTPClientTest, BlockingHTTPClient) {
  httpclient::HTTPClient client;
  HTTPResponse response = client.fetch(url("/hello"));
  EXPECT_EQ(response.body, "Hello world!");
  EXPECT_THROW(client.fetch(url("/status/404")), HTTPClientError);
  HTTPResponse no_raise = client.fetch(url("/status/404"), /*raise_error=*/false);
  EXPECT_EQ(no_raise.code, 404);
  client.close();
}

// HTTPS against a Python TLS server with the test CA (netutil/testdata), and a
// verification failure without it.
TEST_F(CurlHTTPClientTest, Https) {
  test::PeerServer tls;
  tls.start({"--certfile", test::runfile("netutil/testdata/localhost.crt"), "--keyfile",
             test::runfile("netutil/testdata/localhost.key")});
  const std::string https = absl::StrCat("https://localhost:", tls.port(), "/hello");
  HTTPRequest ok(https);
  ok.ca_certs = test::runfile("netutil/testdata/ca.crt");
  client_->fetch(std::move(ok)).add_done_callback([this](Future<HTTPResponse> f) { stop(std::move(f)); });
  Future<HTTPResponse> f = wait_for<Future<HTTPResponse>>();
  EXPECT_EQ(f.result().body, "Hello world!");

  client_->fetch(https).add_done_callback([this](Future<HTTPResponse> f) { stop(std::move(f)); });
  Future<HTTPResponse> bad = wait_for<Future<HTTPResponse>>();
  EXPECT_THROW(bad.result(), CurlError);

  HTTPRequest unverified(https);
  unverified.validate_cert = false;
  client_->fetch(std::move(unverified)).add_done_callback([this](Future<HTTPResponse> f) { stop(std::move(f)); });
  Future<HTTPResponse> f3 = wait_for<Future<HTTPResponse>>();
  EXPECT_EQ(f3.result().body, "Hello world!");
}

// The header-line parser on untrusted input: known cases, a 1 MiB line and random bytes
// (deterministic seed). It must never throw or crash, and stays linear.
TEST(ParseHeaderLineTest, CasesAndAdversarialInput) {
  httputil::HTTPHeaders headers;
  std::string reason;
  parse_header_line("HTTP/1.1 200 Fine Thanks\r\n", headers, reason);
  EXPECT_EQ(reason, "Fine Thanks");
  parse_header_line("Content-Type: text/plain\r\n", headers, reason);
  parse_header_line("X-Multi: a\r\n", headers, reason);
  parse_header_line("X-Multi: b\r\n", headers, reason);
  parse_header_line("no colon here\r\n", headers, reason);
  parse_header_line(" folded: continuation\r\n", headers, reason);
  parse_header_line("\r\n", headers, reason);
  EXPECT_EQ(headers.get("Content-Type", ""), "text/plain");
  EXPECT_EQ(headers.get_list("X-Multi"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(headers.size(), 3u);
  parse_header_line("HTTP/1.1 302 Found\r\n", headers, reason);  // next response
  EXPECT_TRUE(headers.empty());
  EXPECT_EQ(reason, "Found");
  parse_header_line("HTTP/2 200\r\n", headers, reason);  // not an HTTP/1 line: no reason
  EXPECT_EQ(reason, "");

  const std::string huge_value = "X-Big: " + std::string(1 << 20, 'a') + "\r\n";
  parse_header_line(huge_value, headers, reason);
  EXPECT_EQ(headers.get("X-Big", "").size(), size_t{1} << 20);
  const std::string huge_junk(1 << 20, ':');
  parse_header_line(huge_junk, headers, reason);

  std::mt19937 rng(42);
  const std::string alphabet = std::string("HTP/1. 0:\r\n\t\x01\x7f\xff") + "abcXY-";
  for (int i = 0; i < 20000; ++i) {
    std::string line;
    const int len = static_cast<int>(rng() % 64);
    for (int j = 0; j < len; ++j) line.push_back(alphabet[rng() % alphabet.size()]);
    if (i % 7 == 0) line = "HTTP/" + line;
    parse_header_line(line, headers, reason);
  }
  for (const auto& [name, value] : headers.get_all()) {
    EXPECT_TRUE(httputil::is_token(name)) << name;
  }
}

// Proxy fields: curl sends the absolute URL to the proxy (here a Python app that
// answers itself) with basic Proxy-Authorization.
TEST_F(CurlHTTPClientTest, Proxy) {
  test::PeerServer proxy;
  proxy.start({"--proxy"});
  HTTPRequest request("http://example.invalid/some/path?q=1");
  request.proxy_host = "127.0.0.1";
  request.proxy_port = proxy.port();
  request.proxy_username = "Aladdin";
  request.proxy_password = "open sesame";
  client_->fetch(std::move(request)).add_done_callback([this](Future<HTTPResponse> f) { stop(std::move(f)); });
  Future<HTTPResponse> f = wait_for<Future<HTTPResponse>>();
  EXPECT_EQ(f.result().body,
            "proxied http://example.invalid/some/path?q=1 auth=Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

  HTTPRequest bad_mode("http://example.invalid/");
  bad_mode.proxy_host = "127.0.0.1";
  bad_mode.proxy_port = proxy.port();
  bad_mode.proxy_username = "u";
  bad_mode.proxy_auth_mode = "ntlm";
  client_->fetch(std::move(bad_mode)).add_done_callback([this](Future<HTTPResponse> f) { stop(std::move(f)); });
  Future<HTTPResponse> f2 = wait_for<Future<HTTPResponse>>();
  EXPECT_THROW(f2.result(), std::invalid_argument);
}

// client_cert / client_key against a server that requires a certificate from the test CA
TEST_F(CurlHTTPClientTest, ClientCertificate) {
  test::PeerServer tls;
  tls.start({"--certfile", test::runfile("netutil/testdata/localhost.crt"), "--keyfile",
             test::runfile("netutil/testdata/localhost.key"), "--client-ca",
             test::runfile("netutil/testdata/ca.crt")});
  const std::string https = absl::StrCat("https://localhost:", tls.port(), "/client_cert");
  HTTPRequest with_cert(https);
  with_cert.ca_certs = test::runfile("netutil/testdata/ca.crt");
  with_cert.client_cert = test::runfile("netutil/testdata/other.example.crt");
  with_cert.client_key = test::runfile("netutil/testdata/other.example.key");
  client_->fetch(std::move(with_cert)).add_done_callback([this](Future<HTTPResponse> f) { stop(std::move(f)); });
  Future<HTTPResponse> f = wait_for<Future<HTTPResponse>>();
  EXPECT_EQ(f.result().body, "client cert CN=other.example");

  HTTPRequest without(https);
  without.ca_certs = test::runfile("netutil/testdata/ca.crt");
  client_->fetch(std::move(without)).add_done_callback([this](Future<HTTPResponse> f) { stop(std::move(f)); });
  Future<HTTPResponse> f2 = wait_for<Future<HTTPResponse>>();
  EXPECT_THROW(f2.result(), CurlError);
}

// test_ipv6: a server on ::1 only; allow_ipv6=false cannot reach it.
TEST_F(CurlHTTPClientTest, IPv6) {
  test::PeerServer v6;
  v6.start({"--ipv6"});
  const std::string v6_url = absl::StrCat("http://[::1]:", v6.port(), "/hello");
  client_->fetch(v6_url).add_done_callback([this](Future<HTTPResponse> f) { stop(std::move(f)); });
  Future<HTTPResponse> f = wait_for<Future<HTTPResponse>>();
  EXPECT_EQ(f.result().body, "Hello world!");
  HTTPRequest v4_only(v6_url);
  v4_only.allow_ipv6 = false;
  client_->fetch(std::move(v4_only)).add_done_callback([this](Future<HTTPResponse> f) { stop(std::move(f)); });
  Future<HTTPResponse> f2 = wait_for<Future<HTTPResponse>>();
  EXPECT_THROW(f2.result(), CurlError);
}

}  // namespace
}  // namespace tornado::curl_httpclient
