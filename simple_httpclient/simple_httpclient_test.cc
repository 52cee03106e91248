// SimpleAsyncHTTPClient against our HTTPServer (in-process), scripted raw servers and a
// recording proxy. Ports of Tornado's simple_httpclient_test.py / httpclient_test.py.
#include "simple_httpclient/simple_httpclient.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "concurrent/future.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "httpclient/httpclient.h"
#include "httpserver/httpserver.h"
#include "httputil/httputil.h"
#include "ioloop/ioloop.h"
#include "netutil/netutil.h"
#include "simple_httpclient/decoder.h"
#include "simple_httpclient/test_support.h"
#include "testing/testing.h"

namespace tornado::simple_httpclient {
namespace {

using httpclient::AsyncHTTPClient;
using httpclient::HTTPClientError;
using httpclient::HTTPRequest;
using httpclient::HTTPResponse;
using httputil::HTTPHeaders;
using httputil::HTTPServerRequest;
using httputil::ResponseStartLine;
using test::CountingServer;
using test::RawServer;
using test::RecordingProxy;
using test::StreamPtr;

void respond(HTTPServerRequest& r, int code, const std::string& body, HTTPHeaders h = {}) {
  h.set("Content-Length", std::to_string(body.size()));
  (void)r.connection->write_headers(ResponseStartLine{"HTTP/1.1", code, std::string(httputil::reason_phrase(code))},
                                    h, r.method == "HEAD" ? std::string() : body);
  r.connection->finish();
}

std::string arg(const HTTPServerRequest& r, const std::string& name, const std::string& def = "") {
  auto it = r.query_arguments.find(name);
  if (it == r.query_arguments.end() || it->second.empty()) return def;
  return it->second[0];
}

const std::string kAsdf = [] {
  std::string s;
  for (int i = 0; i < 1000; ++i) s += "asdf";
  return s;
}();

// The handlers of Tornado's httpclient_test.py that the tests below use.
void app(HTTPServerRequest& r) {
  const std::string& p = r.path;
  if (p == "/hello") return respond(r, 200, "Hello " + arg(r, "name", "world") + "!");
  if (p == "/echopost") return respond(r, 200, r.body);
  if (p == "/method") return respond(r, 200, r.method + (r.body.empty() ? "" : " " + r.body));
  if (p == "/auth") return respond(r, 200, r.headers.get("Authorization", ""));
  if (p == "/user_agent") return respond(r, 200, r.headers.get("User-Agent", "User agent not set"));
  if (p == "/remote_ip") return respond(r, 200, r.remote_ip);
  if (p == "/headers") {
    std::string out;
    for (const auto& [k, v] : r.headers.get_all()) out += k + ": " + v + "\n";
    return respond(r, 200, out);
  }
  if (p == "/redirect") {
    return respond(r, std::stoi(arg(r, "status", "302")), "redirects can have bodies too",
                   {{"Location", arg(r, "url")}});
  }
  if (p.rfind("/countdown/", 0) == 0) {
    const int n = std::stoi(p.substr(11));
    if (n > 0) return respond(r, 302, "", {{"Location", "/countdown/" + std::to_string(n - 1)}});
    return respond(r, 200, "Zero");
  }
  if (p == "/chunk") {
    (void)r.connection->write_headers(ResponseStartLine{"HTTP/1.1", 200, "OK"}, HTTPHeaders{});
    (void)r.connection->write("asdf");
    (void)r.connection->write("qwer");
    r.connection->finish();
    return;
  }
  const std::string ae = r.headers.get("Accept-Encoding", "");
  if (p == "/gzip" && ae.find("gzip") != std::string::npos) {
    return respond(r, 200, test::gzip_compress(kAsdf), {{"Content-Encoding", "gzip"}});
  }
  if (p == "/deflate") return respond(r, 200, test::zlib_compress(kAsdf, 15), {{"Content-Encoding", "deflate"}});
  if (p == "/rawdeflate") return respond(r, 200, test::zlib_compress(kAsdf, -15), {{"Content-Encoding", "deflate"}});
  if (p == "/br") return respond(r, 200, test::brotli_compress(kAsdf), {{"Content-Encoding", "br"}});
  if (p == "/gzip") return respond(r, 200, kAsdf);
  if (p == "/bomb") {
    return respond(r, 200, test::gzip_compress(std::string(8 << 20, '\0')), {{"Content-Encoding", "gzip"}});
  }
  if (p == "/large") return respond(r, 200, std::string(std::stoul(arg(r, "n", "1000")), 'x'));
  if (p == "/304") return respond(r, 304, "", {{"Content-Encoding", "gzip"}});
  if (p == "/hang") return;  // never answered
  respond(r, 404, "not found");
}

class SimpleHTTPClientTest : public testing::AsyncTestCase {
 protected:
  void SetUp() override {
    AsyncTestCase::SetUp();
    server_ = std::make_unique<CountingServer>(app);
    port_ = server_->listen_local();
  }
  void TearDown() override {
    for (auto& c : clients_) c->close();
    clients_.clear();
    server_.reset();
    servers_.clear();
    AsyncTestCase::TearDown();
  }
  std::shared_ptr<SimpleAsyncHTTPClient> make_client(util::Kwargs kwargs = {}) {
    auto c = AsyncHTTPClient::instance(kwargs, true);
    auto s = std::dynamic_pointer_cast<SimpleAsyncHTTPClient>(c);
    clients_.push_back(s);
    return s;
  }
  std::string url(const std::string& path, int port = 0) {
    return "http://127.0.0.1:" + std::to_string(port ? port : port_) + path;
  }
  HTTPResponse fetch(std::shared_ptr<SimpleAsyncHTTPClient> c, HTTPRequest req, bool raise_error = false) {
    return test::run_fetch(io_loop(), *c, std::move(req), raise_error);
  }
  HTTPResponse fetch(HTTPRequest req, bool raise_error = false) {
    if (!client_) client_ = make_client();
    return fetch(client_, std::move(req), raise_error);
  }
  HTTPResponse fetch(const std::string& path) { return fetch(HTTPRequest(url(path))); }

  std::unique_ptr<CountingServer> server_;
  std::vector<std::unique_ptr<CountingServer>> servers_;
  std::vector<std::shared_ptr<SimpleAsyncHTTPClient>> clients_;
  std::shared_ptr<SimpleAsyncHTTPClient> client_;
  int port_ = 0;
};

template <typename E>
std::string error_text(const HTTPResponse& r) {
  try {
    r.rethrow();
  } catch (const E& e) {
    return e.what();
  } catch (...) {
    try {
      throw;
    } catch (const std::exception& e) {
      return std::string("other: ") + e.what();
    }
  }
  return "no error";
}

// ---- httpclient_test.py HTTPClientCommonTestCase ----------------------------------------

TEST_F(SimpleHTTPClientTest, HelloWorld) {
  HTTPResponse r = fetch("/hello");
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "Hello world!");
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.effective_url, url("/hello"));
  ASSERT_TRUE(r.request_time.has_value());
  EXPECT_GE(*r.request_time, 0);
  EXPECT_EQ(fetch("/hello?name=Ben").body, "Hello Ben!");
}

TEST_F(SimpleHTTPClientTest, DefaultImplementationIsSimple) {
  auto c = AsyncHTTPClient::instance();
  EXPECT_NE(dynamic_cast<SimpleAsyncHTTPClient*>(c.get()), nullptr);
  c->close();
}

TEST_F(SimpleHTTPClientTest, PostAndBodyRules) {
  HTTPRequest post(url("/echopost"), "POST");
  post.body = "arg1=foo&arg2=bar";
  EXPECT_EQ(fetch(post).body, "arg1=foo&arg2=bar");
  // test_body_sanity_checks: body must / must not be given.
  HTTPResponse r = fetch(HTTPRequest(url("/echopost"), "POST"));
  EXPECT_EQ(r.code, 599);
  EXPECT_NE(error_text<std::invalid_argument>(r).find("Body must not be None"), std::string::npos);
  HTTPRequest get(url("/method"));
  get.body = "data";
  EXPECT_NE(error_text<std::invalid_argument>(fetch(get)).find("Body must be None"), std::string::npos);
  get.allow_nonstandard_methods = true;
  EXPECT_EQ(fetch(get).body, "GET data");
  // test_all_methods / OTHER method.
  for (std::string m : {"DELETE", "HEAD", "OPTIONS", "OTHER"}) {
    HTTPRequest req(url("/method"), m);
    req.allow_nonstandard_methods = m == "OTHER";
    HTTPResponse resp = fetch(req);
    if (m == "OTHER") {
      EXPECT_EQ(resp.code, 200);
      EXPECT_EQ(resp.body, "OTHER");
    } else if (m == "HEAD") {
      EXPECT_EQ(resp.body, "");
    } else {
      EXPECT_EQ(resp.body, m);
    }
  }
  // fetch() raises std::invalid_argument for a bad request.
  EXPECT_THROW(fetch(HTTPRequest(url("/echopost"), "POST"), true), std::invalid_argument);
  EXPECT_THROW(fetch(HTTPRequest("ftp://127.0.0.1/x"), true), std::invalid_argument);
}

TEST_F(SimpleHTTPClientTest, BasicAuthAndUnsupportedDigest) {
  HTTPRequest req(url("/auth"));
  req.auth_username = "Aladdin";
  req.auth_password = "open sesame";
  EXPECT_EQ(fetch(req).body, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  // test_basic_auth_explicit_mode / credentials in the URL.
  EXPECT_EQ(fetch(HTTPRequest("http://Aladdin:open%20sesame@127.0.0.1:" + std::to_string(port_) + "/auth")).body,
            "Basic QWxhZGRpbjpvcGVuJTIwc2VzYW1l");
  // test_unsupported_auth_mode: digest is not supported by the simple client.
  req.auth_mode = "digest";
  HTTPResponse r = fetch(req);
  EXPECT_EQ(r.code, 599);
  EXPECT_EQ(error_text<std::invalid_argument>(r), "unsupported auth_mode digest");
}

TEST_F(SimpleHTTPClientTest, UserAgent) {
  EXPECT_EQ(fetch("/user_agent").body, std::string(kDefaultUserAgent));
  HTTPRequest req(url("/user_agent"));
  req.user_agent = "TestDefaultUserAgent";
  EXPECT_EQ(fetch(req).body, "TestDefaultUserAgent");
}

TEST_F(SimpleHTTPClientTest, FollowRedirect) {
  HTTPRequest no(url("/countdown/2"));
  no.follow_redirects = false;
  HTTPResponse r = fetch(no);
  EXPECT_EQ(r.code, 302);
  EXPECT_EQ(r.headers.get("Location", ""), "/countdown/1");
  r = fetch("/countdown/2");
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "Zero");
  EXPECT_EQ(r.effective_url, url("/countdown/0"));
  EXPECT_EQ(r.request->url, url("/countdown/2"));  // the original request
  // test_max_redirects: the last 302 comes back.
  HTTPRequest few(url("/countdown/5"));
  few.max_redirects = 3;
  r = fetch(few);
  EXPECT_EQ(r.code, 302);
  EXPECT_EQ(r.effective_url, url("/countdown/2"));
  EXPECT_THROW(fetch(few, true), HTTPClientError);
}

TEST_F(SimpleHTTPClientTest, RedirectMethodRules) {
  // test_303_redirect / test_302_post_becomes_get / 307 keeps POST.
  for (auto [status, method, expect] : std::vector<std::tuple<int, std::string, std::string>>{
           {303, "POST", "GET"}, {302, "POST", "GET"}, {301, "POST", "GET"}, {307, "POST", "POST body"},
           {308, "POST", "POST body"}, {303, "PUT", "GET"}, {302, "PUT", "PUT body"}}) {
    HTTPRequest req(url("/redirect?status=" + std::to_string(status) + "&url=/method"), method);
    req.body = "body";
    HTTPResponse r = fetch(req);
    EXPECT_EQ(r.code, 200) << status << method;
    EXPECT_EQ(r.body, expect) << status << method;
  }
  // 303 after HEAD stays HEAD.
  HTTPResponse r = fetch(HTTPRequest(url("/redirect?status=303&url=/method"), "HEAD"));
  EXPECT_EQ(r.code, 200);
  // Relative Location resolved against the request URL.
  EXPECT_EQ(fetch("/redirect?url=hello%3Fname%3Drel").body, "Hello rel!");
}

TEST_F(SimpleHTTPClientTest, CrossOriginRedirectStripsCredentials) {
  auto other = std::make_unique<CountingServer>(app);
  const int other_port = other->listen_local();
  servers_.push_back(std::move(other));
  auto make = [&](const std::string& target) {
    HTTPRequest req(url("/redirect?url=" + target));
    req.headers.add("Authorization", "Bearer secret");
    req.headers.add("Cookie", "session=1");
    req.headers.add("Proxy-Authorization", "Basic cHJveHk=");
    return req;
  };
  // Same origin: kept.
  std::string same = fetch(make("/headers")).body;
  EXPECT_NE(same.find("Authorization: Bearer secret"), std::string::npos) << same;
  EXPECT_NE(same.find("Cookie: session=1"), std::string::npos);
  // Another port: another origin.
  std::string cross = fetch(make("http://127.0.0.1:" + std::to_string(other_port) + "/headers")).body;
  EXPECT_EQ(cross.find("Authorization"), std::string::npos) << cross;
  EXPECT_EQ(cross.find("Cookie"), std::string::npos) << cross;
  EXPECT_NE(cross.find("Host: 127.0.0.1:" + std::to_string(other_port)), std::string::npos) << cross;
  // auth_username does not follow either.
  HTTPRequest basic(url("/redirect?url=http://localhost:" + std::to_string(port_) + "/auth"));
  basic.auth_username = "me";
  basic.auth_password = "pw";
  EXPECT_EQ(fetch(basic).body, "");
  basic.url = url("/redirect?url=/auth");
  EXPECT_EQ(fetch(basic).body, "Basic bWU6cHc=");
}

TEST_F(SimpleHTTPClientTest, KeepAliveReusesOneConnection) {
  auto c = make_client();
  for (int i = 0; i < 5; ++i) {
    HTTPResponse r = fetch(c, HTTPRequest(url("/hello")));
    EXPECT_EQ(r.body, "Hello world!");
  }
  HTTPRequest post(url("/echopost"), "POST");
  post.body = "x";
  EXPECT_EQ(fetch(c, post).body, "x");
  EXPECT_EQ(fetch(c, HTTPRequest(url("/chunk"))).body, "asdfqwer");
  EXPECT_EQ(server_->accepted, 1);
  EXPECT_EQ(c->connections_opened(), 1u);
  EXPECT_EQ(c->idle_connection_count(), 1u);
  // A response with Connection: close is not reused.
  HTTPRequest closing(url("/hello"));
  closing.headers.add("Connection", "close");
  EXPECT_EQ(fetch(c, closing).code, 200);
  EXPECT_EQ(c->idle_connection_count(), 0u);
  EXPECT_EQ(fetch(c, HTTPRequest(url("/hello"))).code, 200);
  EXPECT_EQ(server_->accepted, 2);
}

TEST_F(SimpleHTTPClientTest, NoReuseWhenDisabledOrErrored) {
  auto c = make_client({{"max_idle_connections", 0}});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(fetch(c, HTTPRequest(url("/headers"))).body.find("Connection: close") != std::string::npos, true);
  EXPECT_EQ(server_->accepted, 3);
  // A request that timed out leaves no connection to reuse.
  auto d = make_client();
  HTTPRequest hang(url("/hang"));
  hang.request_timeout = 0.05;
  EXPECT_EQ(fetch(d, hang).code, 599);
  EXPECT_EQ(d->idle_connection_count(), 0u);
}

TEST_F(SimpleHTTPClientTest, IdleConnectionTimesOut) {
  auto c = make_client({{"idle_connection_timeout", 0.05}});
  EXPECT_EQ(fetch(c, HTTPRequest(url("/hello"))).code, 200);
  EXPECT_EQ(c->idle_connection_count(), 1u);
  // A timer due after the idle timeout: the loop runs timers in deadline order.
  io_loop()->call_later(0.1, [this] { stop(); });
  wait();
  EXPECT_EQ(c->idle_connection_count(), 0u);
  EXPECT_EQ(fetch(c, HTTPRequest(url("/hello"))).code, 200);
  EXPECT_EQ(server_->accepted, 2);
}

TEST_F(SimpleHTTPClientTest, StaleKeepAliveConnectionIsRetried) {
  // Answers one request per connection with keep-alive, then closes it.
  RawServer raw([](StreamPtr s) -> concurrent::Future<void> {
    try {
      concurrent::Future<std::string> rf = s->read_until("\r\n\r\n");
      co_await rf;
      concurrent::Future<void> w = s->write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      co_await w;
    } catch (...) {
    }
    s->close();
  });
  auto c = make_client();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(fetch(c, HTTPRequest(url("/", raw.port()))).body, "ok");
  EXPECT_EQ(raw.accepted, 3);
}

TEST_F(SimpleHTTPClientTest, StreamingAndHeaderCallbacks) {
  // test_streaming_callback / test_header_callback.
  std::vector<std::string> chunks, lines;
  HTTPRequest req(url("/chunk"));
  req.streaming_callback = [&](std::string_view c) { chunks.emplace_back(c); };
  req.header_callback = [&](std::string_view l) { lines.emplace_back(l); };
  HTTPResponse r = fetch(req);
  EXPECT_EQ(r.body, "");
  std::string all;
  for (auto& c : chunks) all += c;
  EXPECT_EQ(all, "asdfqwer");
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.front(), "HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(lines.back(), "\r\n");
  bool chunked = false;
  for (auto& l : lines) chunked |= l == "Transfer-Encoding: chunked\r\n";
  EXPECT_TRUE(chunked);
}

TEST_F(SimpleHTTPClientTest, BodyProducerAndExpect100Continue) {
  HTTPRequest req(url("/echopost"), "POST");
  req.body_producer = [](HTTPRequest::BodyWriter write) -> concurrent::Future<void> {
    concurrent::Future<void> a = write("1234");
    co_await a;
    concurrent::Future<void> b = write("5678");
    co_await b;
  };
  EXPECT_EQ(fetch(req).body, "12345678");
  // test_100_continue: the body goes out after the server's 100 Continue.
  HTTPRequest cont(url("/echopost"), "POST");
  cont.body = "expected";
  cont.expect_100_continue = true;
  HTTPResponse r = fetch(cont);
  EXPECT_EQ(r.code, 200) << error_text<std::exception>(r);
  EXPECT_EQ(r.body, "expected");
}

TEST_F(SimpleHTTPClientTest, Decompression) {
  for (std::string path : {"/gzip", "/deflate", "/rawdeflate", "/br"}) {
    HTTPResponse r = fetch(path);
    EXPECT_EQ(r.body, kAsdf) << path;
    EXPECT_FALSE(r.headers.contains("Content-Encoding")) << path;
    EXPECT_TRUE(r.headers.contains("X-Consumed-Content-Encoding")) << path;
  }
  // decompress_response=false: no Accept-Encoding, the body as sent.
  HTTPRequest raw(url("/br"));
  raw.decompress_response = false;
  HTTPResponse r = fetch(raw);
  EXPECT_EQ(r.headers.get("Content-Encoding", ""), "br");
  EXPECT_EQ(r.body, test::brotli_compress(kAsdf));
  HTTPRequest plain(url("/gzip"));
  plain.decompress_response = false;
  EXPECT_EQ(fetch(plain).body, kAsdf);  // server saw no Accept-Encoding
  // 304 with Content-Encoding and no body.
  EXPECT_EQ(fetch("/304").code, 304);
  // A gzip bomb stops at max_body_size.
  auto small = make_client({{"max_body_size", std::size_t{1 << 20}}});
  r = fetch(small, HTTPRequest(url("/bomb")));
  EXPECT_EQ(r.code, 599);
  EXPECT_NE(error_text<HTTPClientError>(r).find("too large"), std::string::npos);
}

TEST_F(SimpleHTTPClientTest, MaxBodyAndBufferSize) {
  // test_large_body (max_body_size) -> HTTPStreamClosedError.
  auto c = make_client({{"max_body_size", std::size_t{1024 * 64}}});
  HTTPResponse r = fetch(c, HTTPRequest(url("/large?n=1048576")));
  EXPECT_EQ(r.code, 599);
  EXPECT_NE(error_text<httpclient::HTTPStreamClosedError>(r).find("HTTP 599"), std::string::npos);
  EXPECT_EQ(fetch(c, HTTPRequest(url("/large?n=65536"))).body.size(), 65536u);
  // test_small_body with a streaming callback under max_buffer_size.
  auto d = make_client({{"max_buffer_size", std::size_t{1024 * 64}}, {"max_body_size", std::size_t{1 << 22}}});
  std::size_t got = 0;
  HTTPRequest req(url("/large?n=2097152"));
  req.streaming_callback = [&](std::string_view chunk) { got += chunk.size(); };
  EXPECT_EQ(fetch(d, req).code, 200);
  EXPECT_EQ(got, 2097152u);
}

TEST_F(SimpleHTTPClientTest, Timeouts) {
  // test_request_timeout.
  HTTPRequest req(url("/hang"));
  req.request_timeout = 0.1;
  const double start = io_loop()->time();
  HTTPResponse r = fetch(req);
  EXPECT_EQ(r.code, 599);
  EXPECT_EQ(error_text<httpclient::HTTPTimeoutError>(r), "HTTP 599: Timeout during request");
  EXPECT_GE(io_loop()->time() - start, 0.09);
  // test_connect_timeout: a resolver that never answers.
  class NeverResolver : public netutil::Resolver {
   public:
    concurrent::Future<std::vector<netutil::ResolvedAddress>> resolve(std::string, int, int) override {
      return pending;
    }
    concurrent::Future<std::vector<netutil::ResolvedAddress>> pending;
  };
  auto resolver = std::make_shared<NeverResolver>();
  auto c = make_client({{"resolver", std::shared_ptr<netutil::Resolver>(resolver)}});
  HTTPRequest slow("http://never.test/");
  slow.connect_timeout = 0.1;
  r = fetch(c, slow);
  EXPECT_EQ(r.code, 599);
  EXPECT_EQ(error_text<httpclient::HTTPTimeoutError>(r), "HTTP 599: Timeout while connecting");
  resolver->pending.set_exception(std::make_exception_ptr(std::runtime_error("done")));
}

TEST_F(SimpleHTTPClientTest, ConnectionRefused) {
  auto sock = testing::bind_unused_port();
  const int port = sock.port;
  ::close(sock.fd);
  HTTPResponse r = fetch(HTTPRequest(url("/", port)));
  EXPECT_EQ(r.code, 599);
  EXPECT_NE(error_text<std::system_error>(r).find("refused"), std::string::npos) << error_text<std::system_error>(r);
}

TEST_F(SimpleHTTPClientTest, HostnameMappingAndNetworkInterface) {
  auto c = make_client({{"hostname_mapping", std::map<std::string, std::string>{{"www.example.com", "127.0.0.1"}}}});
  HTTPRequest req("http://www.example.com:" + std::to_string(port_) + "/remote_ip");
  req.network_interface = "127.0.0.1";
  HTTPResponse r = fetch(c, req);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "127.0.0.1");
}

TEST_F(SimpleHTTPClientTest, MaxClientsQueue) {
  // test_max_clients / test_queue_timeout with the shared RequestQueue.
  auto c = make_client({{"max_clients", 1}});
  HTTPRequest hang(url("/hang"));
  hang.request_timeout = 0.3;
  auto first = c->fetch(hang, false);
  HTTPRequest queued(url("/hello"));
  queued.connect_timeout = 0.05;  // expires in the queue
  auto second = c->fetch(queued, false);
  auto third = c->fetch(HTTPRequest(url("/hello")), false);
  auto wait_done = [&](concurrent::Future<HTTPResponse> f) -> HTTPResponse {
    try {
      return io_loop()->run_sync([f] { return f; }, 5.0);
    } catch (const httpclient::HTTPTimeoutError& e) {
      HTTPResponse r;
      r.code = 599;
      r.error = std::current_exception();
      return r;
    }
  };
  HTTPResponse r2 = wait_done(second);
  EXPECT_EQ(error_text<httpclient::HTTPTimeoutError>(r2), "HTTP 599: Timeout in request queue");
  EXPECT_FALSE(third.done());  // still waiting for the slot
  HTTPResponse r1 = wait_done(first);
  EXPECT_EQ(error_text<httpclient::HTTPTimeoutError>(r1), "HTTP 599: Timeout during request");
  EXPECT_EQ(wait_done(third).body, "Hello world!");
}

TEST(URLJoinTest, AdversarialInputsStayLinear) {
  // Location headers are untrusted: long runs of "../" and "/" segments.
  std::string dots;
  for (int i = 0; i < 200000; ++i) dots += "../";
  EXPECT_EQ(urljoin("http://a/b/c", dots + "x"), "http://a/x");
  std::string slashes(1 << 20, '/');
  EXPECT_EQ(urljoin("http://a/b", "/x" + slashes).size(), std::string("http://a/x").size() + slashes.size());
  std::mt19937 rng(7);
  const char alphabet[] = "/.?#:@a%[]";
  for (int i = 0; i < 2000; ++i) {
    std::string loc;
    const int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) loc += alphabet[rng() % (sizeof(alphabet) - 1)];
    (void)urljoin("http://h:1/p/q?r#s", loc);
  }
}

// ---- Bad servers ------------------------------------------------------------------------

RawServer::Handler scripted(std::string response, bool close_after = true) {
  return [response, close_after](StreamPtr s) -> concurrent::Future<void> {
    try {
      concurrent::Future<std::string> rf = s->read_until("\r\n\r\n");
      co_await rf;
      concurrent::Future<void> w = s->write(response);
      co_await w;
    } catch (...) {
    }
    if (close_after) s->close();
  };
}

TEST_F(SimpleHTTPClientTest, GarbageResponse) {
  RawServer raw(scripted("garbage that is not HTTP\r\n\r\n"));
  HTTPResponse r = fetch(HTTPRequest(url("/", raw.port())));
  EXPECT_EQ(r.code, 599);
  RawServer raw2(scripted("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"));
  EXPECT_EQ(fetch(HTTPRequest(url("/", raw2.port()))).code, 599);
  RawServer raw3(scripted("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"));
  EXPECT_EQ(fetch(HTTPRequest(url("/", raw3.port()))).code, 599);
}

TEST_F(SimpleHTTPClientTest, CloseMidBody) {
  RawServer raw(scripted("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"));
  HTTPResponse r = fetch(HTTPRequest(url("/", raw.port())));
  EXPECT_EQ(r.code, 599);
  // Closing before any response.
  RawServer raw2(scripted(""));
  EXPECT_EQ(fetch(HTTPRequest(url("/", raw2.port()))).code, 599);
  // Without a length the body ends at close (HTTP/1.0 style).
  RawServer raw3(scripted("HTTP/1.0 200 OK\r\n\r\nuntil close"));
  EXPECT_EQ(fetch(HTTPRequest(url("/", raw3.port()))).body, "until close");
}

TEST_F(SimpleHTTPClientTest, HeaderTooLarge) {
  RawServer raw(scripted("HTTP/1.1 200 OK\r\nX-Big: " + std::string(200000, 'a') + "\r\nContent-Length: 0\r\n\r\n"));
  auto c = make_client({{"max_header_size", std::size_t{1024}}});
  EXPECT_EQ(fetch(c, HTTPRequest(url("/", raw.port()))).code, 599);
}

TEST_F(SimpleHTTPClientTest, InterimResponsesAreSkipped) {
  RawServer raw(scripted(
      "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  std::vector<std::string> lines;
  HTTPRequest req(url("/", raw.port()));
  req.header_callback = [&](std::string_view l) { lines.emplace_back(l); };
  HTTPResponse r = fetch(req);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "ok");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "HTTP/1.1 102 Processing\r\n");
}

// ---- Proxies ------------------------------------------------------------------------------

TEST_F(SimpleHTTPClientTest, HTTPProxyAbsoluteForm) {
  RecordingProxy proxy;
  HTTPRequest req(url("/hello?name=proxy"));
  req.proxy_host = "127.0.0.1";
  req.proxy_port = proxy.port();
  req.proxy_username = "user";
  req.proxy_password = "pass";
  req.headers.add("Connection", "close");
  HTTPResponse r = fetch(req);
  EXPECT_EQ(r.body, "Hello proxy!");
  ASSERT_EQ(proxy.heads.size(), 1u);
  EXPECT_EQ(proxy.heads[0].rfind("GET " + url("/hello?name=proxy") + " HTTP/1.1\r\n", 0), 0u) << proxy.heads[0];
  EXPECT_NE(proxy.heads[0].find("Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"), std::string::npos);
  proxy.stop();
}

TEST_F(SimpleHTTPClientTest, HTTPSProxyConnectTunnel) {
  httpserver::HTTPServerOptions options;
  options.ssl_options = netutil::SSLOptions{};
  options.ssl_options->certfile = test::runfile("netutil/testdata/localhost.crt");
  options.ssl_options->keyfile = test::runfile("netutil/testdata/localhost.key");
  auto tls = std::make_unique<CountingServer>(app, options);
  const int tls_port = tls->listen_local();
  servers_.push_back(std::move(tls));
  RecordingProxy proxy;
  const std::string target = "https://localhost:" + std::to_string(tls_port) + "/hello";
  HTTPRequest req(target);
  req.proxy_host = "127.0.0.1";
  req.proxy_port = proxy.port();
  req.proxy_username = "user";
  req.proxy_password = "pass";
  req.ca_certs = test::runfile("netutil/testdata/ca.crt");
  auto c = make_client();
  HTTPResponse r = fetch(c, req);
  EXPECT_EQ(r.code, 200) << error_text<std::exception>(r);
  EXPECT_EQ(r.body, "Hello world!");
  ASSERT_EQ(proxy.heads.size(), 1u);
  EXPECT_EQ(proxy.heads[0].rfind("CONNECT localhost:" + std::to_string(tls_port) + " HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(proxy.heads[0].find("Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"), std::string::npos);
  // The tunnel is kept alive and reused.
  EXPECT_EQ(fetch(c, req).code, 200);
  EXPECT_EQ(proxy.heads.size(), 1u);
  c->close();
  proxy.stop();
}

// ---- TLS ----------------------------------------------------------------------------------

TEST_F(SimpleHTTPClientTest, TLSValidation) {
  httpserver::HTTPServerOptions options;
  options.ssl_options = netutil::SSLOptions{};
  options.ssl_options->certfile = test::runfile("netutil/testdata/localhost.crt");
  options.ssl_options->keyfile = test::runfile("netutil/testdata/localhost.key");
  auto tls = std::make_unique<CountingServer>(app, options);
  const int tls_port = tls->listen_local();
  CountingServer* server = tls.get();
  servers_.push_back(std::move(tls));
  const std::string base = "https://localhost:" + std::to_string(tls_port);
  // test_ssl_options / validate against our CA (SNI "localhost").
  HTTPRequest ok(base + "/hello");
  ok.ca_certs = test::runfile("netutil/testdata/ca.crt");
  auto c = make_client();
  EXPECT_EQ(fetch(c, ok).body, "Hello world!");
  EXPECT_EQ(fetch(c, ok).body, "Hello world!");
  EXPECT_EQ(server->accepted, 1);
  // test_ssl_context_handshake_fail: the system CAs do not know ours.
  HTTPResponse bad = fetch(c, HTTPRequest(base + "/hello"));
  EXPECT_EQ(bad.code, 599);
  // Wrong host name for the certificate.
  auto mapped = make_client({{"hostname_mapping", std::map<std::string, std::string>{{"other.test", "127.0.0.1"}}}});
  HTTPRequest wrong("https://other.test:" + std::to_string(tls_port) + "/hello");
  wrong.ca_certs = ok.ca_certs;
  EXPECT_EQ(fetch(mapped, wrong).code, 599);
  // validate_cert=false accepts anything.
  HTTPRequest any(base + "/hello");
  any.validate_cert = false;
  EXPECT_EQ(fetch(c, any).body, "Hello world!");
}

// ---- Units --------------------------------------------------------------------------------

TEST(URLJoinTest, Cases) {
  EXPECT_EQ(urljoin("http://a/b/c?q", "http://x/y"), "http://x/y");
  EXPECT_EQ(urljoin("https://a/b/c", "//x/y"), "https://x/y");
  EXPECT_EQ(urljoin("http://a:8/b/c?q", "/d?e"), "http://a:8/d?e");
  EXPECT_EQ(urljoin("http://a/b/c", "d"), "http://a/b/d");
  EXPECT_EQ(urljoin("http://a/b/c/", "../d"), "http://a/b/d");
  EXPECT_EQ(urljoin("http://a/b/c", "./d/"), "http://a/b/d/");
  EXPECT_EQ(urljoin("http://a/b/c?x", "?y"), "http://a/b/c?y");
  EXPECT_EQ(urljoin("http://a", "d"), "http://a/d");
  EXPECT_EQ(urljoin("http://a/b", "/../../x"), "http://a/x");
}

TEST(DecoderTest, FuzzNeverCrashesAndStaysBounded) {
  std::mt19937 rng(1234);
  const std::string samples[] = {test::gzip_compress(kAsdf), test::zlib_compress(kAsdf, 15),
                                 test::brotli_compress(kAsdf)};
  const char* names[] = {"gzip", "deflate", "br"};
  for (int round = 0; round < 300; ++round) {
    for (int k = 0; k < 3; ++k) {
      std::string input = samples[k];
      const int mutations = 1 + static_cast<int>(rng() % 8);
      for (int m = 0; m < mutations; ++m) input[rng() % input.size()] = static_cast<char>(rng());
      if (round % 3 == 0) input += std::string(rng() % 100, static_cast<char>(rng()));
      auto d = ContentDecoder::create(names[k]);
      std::string out;
      std::size_t pos = 0;
      absl::Status st;
      while (pos < input.size() && st.ok()) {
        const std::size_t n = std::min<std::size_t>(1 + rng() % 64, input.size() - pos);
        st = d->decode(std::string_view(input).substr(pos, n), out, 100000);
        pos += n;
      }
      if (st.ok()) (void)d->finish();
      EXPECT_LE(out.size(), 100000u + 65536u);
    }
  }
  // Unknown codings are left alone.
  EXPECT_EQ(ContentDecoder::create("compress"), nullptr);
  EXPECT_NE(ContentDecoder::create(" GZIP "), nullptr);
}

TEST(DecoderTest, BombIsCapped) {
  const std::string bomb = test::gzip_compress(std::string(64 << 20, '\0'));
  auto d = ContentDecoder::create("gzip");
  std::string out;
  absl::Status st = d->decode(bomb, out, 1 << 20);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LE(out.size(), (1u << 20) + 65536u);
}

}  // namespace
}  // namespace tornado::simple_httpclient
