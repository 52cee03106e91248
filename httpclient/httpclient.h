// tornado::httpclient, Tornado's tornado.httpclient: HTTPRequest, HTTPResponse,
// HTTPClientError, the configurable AsyncHTTPClient interface (one instance per IOLoop),
// RequestQueue (the max_clients queue with its queue timeout, Tornado's
// SimpleAsyncHTTPClient logic, shared by implementations) and the blocking HTTPClient.
//
// Implementations live in other packages (curl_httpclient now, simple_httpclient later)
// and register themselves by name; see AsyncHTTPClient below for how the default is
// chosen.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "concurrent/future.h"
#include "httputil/httputil.h"
#include "ioloop/ioloop.h"
#include "util/configurable.h"

namespace tornado::httpclient {

using concurrent::Future;

struct HTTPResponse;

// An HTTP request (Tornado's HTTPRequest). Fields left unset (nullopt / empty function)
// take the client's `defaults` and then Tornado's defaults (Tornado's _RequestProxy):
// connect_timeout 20, request_timeout 20, follow_redirects true, max_redirects 5,
// decompress_response true, proxy_password "", allow_nonstandard_methods false,
// validate_cert true. resolve() applies them.
struct HTTPRequest {
  // Called with each chunk of the body instead of collecting it in HTTPResponse::body.
  using StreamingCallback = std::function<void(std::string_view chunk)>;
  // Called with each raw header line, including the start line and the final "\r\n".
  using HeaderCallback = std::function<void(std::string_view line)>;
  // Writes one chunk of a streamed request body (Tornado's body_producer's `write`).
  using BodyWriter = std::function<Future<void>(std::string chunk)>;
  using BodyProducer = std::function<Future<void>(BodyWriter write)>;

  HTTPRequest() : start_time(wall_time()) {}
  explicit HTTPRequest(std::string url_, std::string method_ = "GET")
      : url(std::move(url_)), method(std::move(method_)), start_time(wall_time()) {}

  std::string url;
  std::string method = "GET";
  httputil::HTTPHeaders headers;
  std::optional<std::string> body;  // Tornado: body=None vs b""
  std::optional<std::string> auth_username;
  std::optional<std::string> auth_password;
  std::optional<std::string> auth_mode;  // "basic" (default) or "digest"
  std::optional<double> connect_timeout;  // seconds
  std::optional<double> request_timeout;  // seconds
  // Sends If-Modified-Since (Tornado sets the header in the constructor; we set it when
  // the request is resolved, so assigning the field later works too).
  std::optional<std::chrono::system_clock::time_point> if_modified_since;
  std::optional<bool> follow_redirects;
  std::optional<int> max_redirects;
  std::optional<std::string> user_agent;
  std::optional<bool> decompress_response;  // Tornado's use_gzip is its old name
  std::optional<std::string> network_interface;
  StreamingCallback streaming_callback;
  HeaderCallback header_callback;
  std::optional<std::string> proxy_host;
  std::optional<int> proxy_port;
  std::optional<std::string> proxy_username;
  std::optional<std::string> proxy_password;
  std::optional<std::string> proxy_auth_mode;  // "basic" (default) or "digest"
  std::optional<bool> allow_nonstandard_methods;
  std::optional<bool> validate_cert;
  std::optional<std::string> ca_certs;  // PEM file
  std::optional<bool> allow_ipv6;
  std::optional<std::string> client_key;
  std::optional<std::string> client_cert;
  BodyProducer body_producer;
  // curl_httpclient only: called with the CURL* easy handle after every option is set,
  // so the caller can set more with curl_easy_setopt (Tornado's prepare_curl_callback).
  std::function<void(void* curl)> prepare_curl_callback;
  bool expect_100_continue = false;
  // Wall-clock seconds since the epoch when the request was created (time.time()).
  double start_time;

  // A copy with every unset field filled from `defaults` and then Tornado's defaults,
  // and If-Modified-Since added to the headers (Tornado's _RequestProxy).
  HTTPRequest resolve(const HTTPRequest* defaults) const;

  static double wall_time();
};

using RequestPtr = std::shared_ptr<const HTTPRequest>;

// An HTTP error (Tornado's HTTPClientError, also exported as HTTPError): `code` is the
// status code, 599 for network errors and timeouts. what() is "HTTP <code>: <message>".
class HTTPClientError : public std::runtime_error {
 public:
  // message "" becomes the standard reason phrase for `code` ("Unknown" if none).
  HTTPClientError(int code, std::string message = "",
                  std::shared_ptr<const HTTPResponse> response = nullptr);
  int code() const { return code_; }
  const std::string& message() const { return message_; }
  // The response that carried this status, if any (a copy without its `error`).
  const std::shared_ptr<const HTTPResponse>& response() const { return response_; }

 private:
  int code_;
  std::string message_;
  std::shared_ptr<const HTTPResponse> response_;
};
using HTTPError = HTTPClientError;

// A 599 for a timeout: "Timeout", "Timeout in request queue", ... (Tornado's
// HTTPTimeoutError).
class HTTPTimeoutError : public HTTPClientError {
 public:
  explicit HTTPTimeoutError(std::string message) : HTTPClientError(599, std::move(message)) {}
};

// A 599 for a connection closed early (Tornado's HTTPStreamClosedError).
class HTTPStreamClosedError : public HTTPClientError {
 public:
  explicit HTTPStreamClosedError(std::string message) : HTTPClientError(599, std::move(message)) {}
};

// The standard reason phrase of an HTTP status code, "Unknown" if none (Tornado's
// httputil.responses.get(code, "Unknown")). TODO(dedup): httputil's table once it links.
std::string_view reason_phrase(int code);

// An HTTP response (Tornado's HTTPResponse).
struct HTTPResponse {
  HTTPResponse() = default;
  // Tornado's constructor: `reason` "" means the standard phrase for `code`; an `error`
  // is kept, otherwise a non-2xx code makes one (HTTPClientError(code, reason, *this)).
  HTTPResponse(RequestPtr request, int code, httputil::HTTPHeaders headers = {},
               std::string body = {}, std::string effective_url = {},
               std::exception_ptr error = nullptr, std::optional<double> request_time = std::nullopt,
               std::map<std::string, double> time_info = {}, std::string reason = {},
               std::optional<double> start_time = std::nullopt);

  RequestPtr request;  // the resolved request (defaults applied)
  int code = 0;
  std::string reason;
  httputil::HTTPHeaders headers;
  std::string body;           // empty when a streaming_callback took the body
  std::string effective_url;  // after redirects; the request's url if unknown
  std::exception_ptr error;   // null on success
  std::optional<double> request_time;  // seconds from start to end
  std::optional<double> start_time;    // wall-clock seconds when the request started
  std::map<std::string, double> time_info;  // implementation-specific timings

  // Rethrows `error`, if any (Tornado's rethrow()).
  void rethrow() const;
  // True when `error` is the HTTPClientError made from a non-2xx code (Tornado's
  // _error_is_response_code): fetch(raise_error=false) returns such responses.
  bool error_is_response_code = false;
};

using ResponseCallback = absl::AnyInvocable<void(HTTPResponse) &&>;

// Runs requests so that at most `max_clients` are active; the others wait in a FIFO and
// fail with HTTPTimeoutError("Timeout in request queue") (599) when
// min(connect_timeout, request_timeout) (the positive ones) passes before they start.
// This is Tornado's SimpleAsyncHTTPClient queue, reusable by any implementation.
// Loop thread only.
class RequestQueue {
 public:
  // Starts `request`; the implementation must call `release()` exactly once when the
  // slot is free again (before or after calling `callback`).
  using StartFn = std::function<void(RequestPtr request, ResponseCallback callback,
                                     double queue_start_time, std::function<void()> release)>;

  RequestQueue(ioloop::IOLoop* io_loop, int max_clients, StartFn start);
  ~RequestQueue();
  RequestQueue(const RequestQueue&) = delete;
  RequestQueue& operator=(const RequestQueue&) = delete;

  // Queues `request` (fetch_impl's queue half) and starts what fits.
  void push(RequestPtr request, ResponseCallback callback);
  std::size_t active() const { return active_.size(); }
  std::size_t queued() const { return waiting_.size(); }
  int max_clients() const { return max_clients_; }
  // Drops the waiting requests without calling their callbacks and cancels their
  // timeouts (client close()).
  void clear();

 private:
  struct Waiting {
    RequestPtr request;
    ResponseCallback callback;
    double queue_start_time;
    ioloop::TimeoutHandle timeout;
  };
  void process_queue();
  void on_timeout(std::uint64_t key);
  void release(std::uint64_t key);

  ioloop::IOLoop* io_loop_;
  int max_clients_;
  StartFn start_;
  std::uint64_t next_key_ = 0;
  std::deque<std::uint64_t> queue_;
  absl::flat_hash_map<std::uint64_t, Waiting> waiting_;
  absl::flat_hash_map<std::uint64_t, bool> active_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class NoHTTPClientImplementation;

// A non-blocking HTTP client (Tornado's AsyncHTTPClient).
//
//   auto client = AsyncHTTPClient::instance();          // Tornado: AsyncHTTPClient()
//   HTTPResponse r = co_await client->fetch("http://example.com/");
//
// Configurable: AsyncHTTPClient::configure<curl_httpclient::CurlAsyncHTTPClient>(kwargs)
// or configure("curl", kwargs). Keyword arguments every implementation takes:
// "max_clients" (int, default 10) and "defaults" (HTTPRequest whose set fields are the
// defaults of every request).
//
// The default implementation (Tornado: simple_httpclient) is the first registered of
// "simple", then "curl": linking //curl_httpclient registers "curl". With none linked,
// instance() throws std::logic_error. A configure() call always wins.
class AsyncHTTPClient : public util::Configurable<AsyncHTTPClient> {
 public:
  using ConfigurableDefault = NoHTTPClientImplementation;

  explicit AsyncHTTPClient(const util::Kwargs& kwargs);
  ~AsyncHTTPClient() override;

  // The current IOLoop's shared client, made on first use and kept while anyone holds
  // it (Tornado's AsyncHTTPClient()); a new unshared one with force_instance (Tornado's
  // force_instance=True). `kwargs` only matter when a client is made. The client must
  // not outlive its loop.
  static std::shared_ptr<AsyncHTTPClient> instance(const util::Kwargs& kwargs = {},
                                                   bool force_instance = false);

  // Fetches `request` (defaults applied). Completes with the HTTPResponse; fails with
  // HTTPClientError for a non-2xx code when raise_error (else returns the response) and
  // always for errors without a response (599: network, timeout; std::invalid_argument
  // for a bad request). Throws std::runtime_error if the client is closed. Loop thread.
  Future<HTTPResponse> fetch(HTTPRequest request, bool raise_error = true);
  Future<HTTPResponse> fetch(std::string url, bool raise_error = true);

  // Frees the client's resources and removes it from the instance cache. Later fetch()
  // calls throw. Idempotent.
  virtual void close();
  bool closed() const { return closed_; }

  ioloop::IOLoop* io_loop() const { return io_loop_; }
  const std::optional<HTTPRequest>& defaults() const { return defaults_; }

 protected:
  // Starts `request` (resolved) and calls `callback` exactly once with its response,
  // an error response (code 599 and `error`) included. Never throws for a bad request:
  // it reports it through `callback` instead.
  virtual void fetch_impl(RequestPtr request, ResponseCallback callback) = 0;

 private:
  ioloop::IOLoop* io_loop_;
  std::optional<HTTPRequest> defaults_;
  bool closed_ = false;
  bool cached_ = false;
};

// The ConfigurableDefault while no implementation is linked: constructing it throws
// std::logic_error naming what to link. Not for direct use.
class NoHTTPClientImplementation : public AsyncHTTPClient {
 public:
  explicit NoHTTPClientImplementation(const util::Kwargs& kwargs);

 protected:
  void fetch_impl(RequestPtr, ResponseCallback) override {}
};

// A blocking HTTP client (Tornado's HTTPClient): runs its own IOLoop on the calling
// thread for each fetch (IOLoop::run_sync), with a forced AsyncHTTPClient instance.
// Must not be used on a thread whose current loop is running.
class HTTPClient {
 public:
  explicit HTTPClient(const util::Kwargs& kwargs = {});
  ~HTTPClient();
  HTTPClient(const HTTPClient&) = delete;
  HTTPClient& operator=(const HTTPClient&) = delete;

  // Fetches and returns the response; throws as AsyncHTTPClient::fetch fails.
  HTTPResponse fetch(HTTPRequest request, bool raise_error = true);
  HTTPResponse fetch(std::string url, bool raise_error = true);
  void close();

 private:
  std::unique_ptr<ioloop::IOLoop> io_loop_;
  std::shared_ptr<AsyncHTTPClient> async_client_;
  bool closed_ = false;
};

// RFC 7231 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). TODO(dedup): httputil's
// format_timestamp once it links on every branch.
std::string format_http_date(std::chrono::system_clock::time_point t);

}  // namespace tornado::httpclient
