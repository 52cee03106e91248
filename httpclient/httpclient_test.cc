// The AsyncHTTPClient interface with a fake implementation (no network): request
// defaults (Tornado's _RequestProxy), HTTPResponse/HTTPClientError, fetch's raise_error
// rules, the instance cache, configuration, RequestQueue ordering and queue timeout.
// The real implementation is tested against a real server in //curl_httpclient.
#include "httpclient/httpclient.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "testing/testing.h"

namespace tornado::httpclient {
namespace {

using concurrent::Future;

// Answers each request from a table; "/hold" requests wait until release_held().
class FakeHTTPClient : public AsyncHTTPClient {
 public:
  explicit FakeHTTPClient(const util::Kwargs& kwargs)
      : AsyncHTTPClient(kwargs),
        queue_(io_loop(), kwargs.get_or<int>("max_clients", 10),
               [this](RequestPtr request, ResponseCallback callback, double, std::function<void()> release) {
                 started.push_back(request->url);
                 if (request->url == "/hold") {
                   held_.push_back({std::move(request), std::move(callback), std::move(release)});
                   return;
                 }
                 respond(std::move(request), std::move(callback));
                 release();
               }) {}

  void release_held() {
    auto held = std::move(held_);
    for (auto& h : held) {
      respond(h.request, std::move(h.callback));
      h.release();
    }
  }

  std::vector<std::string> started;
  RequestQueue& queue() { return queue_; }

 protected:
  void fetch_impl(RequestPtr request, ResponseCallback callback) override {
    queue_.push(std::move(request), std::move(callback));
  }

 private:
  struct Held {
    RequestPtr request;
    ResponseCallback callback;
    std::function<void()> release;
  };
  void respond(RequestPtr request, ResponseCallback callback) {
    if (request->url == "/404") {
      std::move(callback)(HTTPResponse(request, 404, {}, "nope"));
    } else if (request->url == "/network") {
      std::move(callback)(HTTPResponse(request, 599, {}, {}, {},
                                       std::make_exception_ptr(HTTPStreamClosedError("Stream closed"))));
    } else {
      std::move(callback)(HTTPResponse(request, 200, {}, "ok " + request->url));
    }
  }
  RequestQueue queue_;
  std::vector<Held> held_;
};

class HTTPClientTest : public testing::AsyncTestCase {
 protected:
  void SetUp() override {
    AsyncTestCase::SetUp();
    saved_ = AsyncHTTPClient::save_configuration();
  }
  void TearDown() override {
    AsyncHTTPClient::restore_configuration(saved_);
    AsyncTestCase::TearDown();
  }
  AsyncHTTPClient::Configuration saved_;
};

TEST(HTTPRequestTest, TornadoDefaultsAndClientDefaults) {
  HTTPRequest request("http://example.com/");
  HTTPRequest r = request.resolve(nullptr);
  EXPECT_EQ(*r.connect_timeout, 20.0);
  EXPECT_EQ(*r.request_timeout, 20.0);
  EXPECT_TRUE(*r.follow_redirects);
  EXPECT_EQ(*r.max_redirects, 5);
  EXPECT_TRUE(*r.decompress_response);
  EXPECT_EQ(*r.proxy_password, "");
  EXPECT_FALSE(*r.allow_nonstandard_methods);
  EXPECT_TRUE(*r.validate_cert);
  EXPECT_FALSE(r.user_agent.has_value());
  EXPECT_EQ(r.method, "GET");

  HTTPRequest defaults;
  defaults.user_agent = "agent";
  defaults.request_timeout = 3;
  HTTPRequest own("http://example.com/");
  own.request_timeout = 7;
  HTTPRequest d = own.resolve(&defaults);
  EXPECT_EQ(*d.user_agent, "agent");
  EXPECT_EQ(*d.request_timeout, 7.0);  // the request's own value wins
  EXPECT_EQ(*d.connect_timeout, 20.0);
}

TEST(HTTPRequestTest, IfModifiedSince) {
  HTTPRequest request("http://example.com/");
  request.if_modified_since = std::chrono::system_clock::from_time_t(784111777);
  EXPECT_EQ(request.resolve(nullptr).headers.get("If-Modified-Since", ""), "Sun, 06 Nov 1994 08:49:37 GMT");
}

// Tornado's HTTPResponseTestCase / HTTPErrorTestCase
TEST(HTTPResponseTest, ErrorsFromCodes) {
  auto request = std::make_shared<const HTTPRequest>(HTTPRequest("http://example.com/"));
  HTTPResponse ok(request, 200, {}, "body");
  EXPECT_FALSE(ok.error);
  EXPECT_EQ(ok.reason, "OK");
  EXPECT_EQ(ok.effective_url, "http://example.com/");
  EXPECT_NO_THROW(ok.rethrow());

  HTTPResponse missing(request, 404, {}, "body");
  ASSERT_TRUE(missing.error);
  EXPECT_TRUE(missing.error_is_response_code);
  try {
    missing.rethrow();
    FAIL() << "no exception";
  } catch (const HTTPClientError& e) {
    EXPECT_EQ(e.code(), 404);
    EXPECT_STREQ(e.what(), "HTTP 404: Not Found");
    ASSERT_NE(e.response(), nullptr);
    EXPECT_EQ(e.response()->body, "body");
  }
  EXPECT_STREQ(HTTPClientError(403).what(), "HTTP 403: Forbidden");
  EXPECT_STREQ(HTTPClientError(299).what(), "HTTP 299: Unknown");
  EXPECT_STREQ(HTTPClientError(599, "Timeout").what(), "HTTP 599: Timeout");
  EXPECT_EQ(HTTPTimeoutError("Timeout").code(), 599);
}

ASYNC_TEST_F(HTTPClientTest, FetchRaiseErrorRules) {
  FakeHTTPClient client({});
  HTTPResponse ok = co_await client.fetch("/a");
  EXPECT_EQ(ok.body, "ok /a");
  EXPECT_EQ(*ok.request->request_timeout, 20.0);  // resolved

  int code = 0;
  try {
    co_await client.fetch("/404");
  } catch (const HTTPClientError& e) {
    code = e.code();
  }
  EXPECT_EQ(code, 404);
  HTTPResponse not_found = co_await client.fetch("/404", /*raise_error=*/false);
  EXPECT_EQ(not_found.code, 404);

  // Errors without a response code raise even with raise_error=false (Tornado 6).
  code = 0;
  try {
    co_await client.fetch("/network", /*raise_error=*/false);
  } catch (const HTTPStreamClosedError& e) {
    code = e.code();
  }
  EXPECT_EQ(code, 599);

  client.close();
  EXPECT_THROW(client.fetch("/a"), std::runtime_error);
}

ASYNC_TEST_F(HTTPClientTest, QueueOrderAndTimeout) {
  FakeHTTPClient client({{"max_clients", 2}});
  Future<HTTPResponse> h1 = client.fetch("/hold");
  Future<HTTPResponse> h2 = client.fetch("/hold");
  Future<HTTPResponse> a = client.fetch("/a");
  Future<HTTPResponse> b = client.fetch("/b");
  HTTPRequest timed("/c");
  timed.connect_timeout = 0.05;
  Future<HTTPResponse> c = client.fetch(std::move(timed));
  EXPECT_EQ(client.queue().active(), 2u);
  EXPECT_EQ(client.queue().queued(), 3u);
  EXPECT_EQ(client.started, (std::vector<std::string>{"/hold", "/hold"}));
  std::string message;
  try {
    co_await c;
  } catch (const HTTPTimeoutError& e) {
    message = e.message();
  }
  EXPECT_EQ(message, "Timeout in request queue");
  EXPECT_EQ(client.queue().queued(), 2u);
  client.release_held();
  HTTPResponse ra = co_await a;
  HTTPResponse rb = co_await b;
  EXPECT_EQ(ra.body, "ok /a");
  EXPECT_EQ(rb.body, "ok /b");
  EXPECT_EQ(client.started, (std::vector<std::string>{"/hold", "/hold", "/a", "/b"}));
  EXPECT_TRUE(h1.done() && h2.done());
  EXPECT_EQ(client.queue().active(), 0u);
}

TEST_F(HTTPClientTest, ConfigureAndInstanceCache) {
  // Nothing linked registers an implementation in this test: instance() says so.
  AsyncHTTPClient::configure(nullptr);
  EXPECT_THROW(AsyncHTTPClient::instance(), std::logic_error);
  AsyncHTTPClient::configure<FakeHTTPClient>({{"max_clients", 3}});
  auto a = AsyncHTTPClient::instance();
  auto b = AsyncHTTPClient::instance();
  EXPECT_EQ(a, b);
  auto* fake = dynamic_cast<FakeHTTPClient*>(a.get());
  ASSERT_NE(fake, nullptr);
  EXPECT_EQ(fake->queue().max_clients(), 3);
  auto forced = AsyncHTTPClient::instance({}, true);
  EXPECT_NE(forced, a);
  a->close();
  EXPECT_NE(AsyncHTTPClient::instance(), a);
  // Registered names work too (what curl_httpclient does at static-init time).
  AsyncHTTPClient::register_implementation<FakeHTTPClient>("fake");
  EXPECT_TRUE(AsyncHTTPClient::configure("fake").ok());
  EXPECT_FALSE(AsyncHTTPClient::configure("nonexistent").ok());
}

// A client cached for a loop that is gone is never handed to a new loop, even one
// made at the same address.
TEST_F(HTTPClientTest, InstanceCacheDoesNotOutliveItsLoop) {
  AsyncHTTPClient::configure<FakeHTTPClient>();
  ioloop::IOLoop* test_loop = io_loop();
  std::shared_ptr<AsyncHTTPClient> old_client;
  {
    auto loop = std::make_unique<ioloop::IOLoop>();
    loop->make_current();
    old_client = AsyncHTTPClient::instance();
    EXPECT_EQ(old_client->io_loop(), loop.get());
    loop->close();
    loop.reset();
    auto next = std::make_unique<ioloop::IOLoop>();
    next->make_current();
    std::shared_ptr<AsyncHTTPClient> fresh = AsyncHTTPClient::instance();
    EXPECT_NE(fresh, old_client);
    EXPECT_EQ(fresh->io_loop(), next.get());
    fresh->close();
    next->close();
  }
  test_loop->make_current();
}

}  // namespace
}  // namespace tornado::httpclient
