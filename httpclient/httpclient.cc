#include "httpclient/httpclient.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "log/log.h"

namespace tornado::httpclient {

double HTTPRequest::wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string format_http_date(std::chrono::system_clock::time_point t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::FromChrono(t), absl::UTCTimeZone());
}

HTTPRequest HTTPRequest::resolve(const HTTPRequest* defaults) const {
  HTTPRequest r = *this;
  auto fill = [&](auto member, auto fallback) {
    if (!(r.*member)) {
      if (defaults != nullptr && (defaults->*member)) {
        r.*member = defaults->*member;
      } else {
        r.*member = fallback;
      }
    }
  };
  auto fill_opt = [&](auto member) {
    if (!(r.*member) && defaults != nullptr && (defaults->*member)) r.*member = defaults->*member;
  };
  fill(&HTTPRequest::connect_timeout, std::optional<double>(20.0));
  fill(&HTTPRequest::request_timeout, std::optional<double>(20.0));
  fill(&HTTPRequest::follow_redirects, std::optional<bool>(true));
  fill(&HTTPRequest::max_redirects, std::optional<int>(5));
  fill(&HTTPRequest::decompress_response, std::optional<bool>(true));
  fill(&HTTPRequest::proxy_password, std::optional<std::string>(""));
  fill(&HTTPRequest::allow_nonstandard_methods, std::optional<bool>(false));
  fill(&HTTPRequest::validate_cert, std::optional<bool>(true));
  fill_opt(&HTTPRequest::auth_username);
  fill_opt(&HTTPRequest::auth_password);
  fill_opt(&HTTPRequest::auth_mode);
  fill_opt(&HTTPRequest::if_modified_since);
  fill_opt(&HTTPRequest::user_agent);
  fill_opt(&HTTPRequest::network_interface);
  fill_opt(&HTTPRequest::streaming_callback);
  fill_opt(&HTTPRequest::header_callback);
  fill_opt(&HTTPRequest::proxy_host);
  fill_opt(&HTTPRequest::proxy_port);
  fill_opt(&HTTPRequest::proxy_username);
  fill_opt(&HTTPRequest::proxy_auth_mode);
  fill_opt(&HTTPRequest::ca_certs);
  fill_opt(&HTTPRequest::allow_ipv6);
  fill_opt(&HTTPRequest::client_key);
  fill_opt(&HTTPRequest::client_cert);
  fill_opt(&HTTPRequest::prepare_curl_callback);
  if (r.if_modified_since && !r.headers.contains("If-Modified-Since")) {
    r.headers.set("If-Modified-Since", format_http_date(*r.if_modified_since));
  }
  return r;
}

std::string_view reason_phrase(int code) {
  static const std::map<int, std::string_view> kReasons = {
      {100, "Continue"}, {101, "Switching Protocols"}, {200, "OK"}, {201, "Created"},
      {202, "Accepted"}, {203, "Non-Authoritative Information"}, {204, "No Content"},
      {205, "Reset Content"}, {206, "Partial Content"}, {300, "Multiple Choices"},
      {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"}, {304, "Not Modified"},
      {305, "Use Proxy"}, {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
      {400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"}, {403, "Forbidden"},
      {404, "Not Found"}, {405, "Method Not Allowed"}, {406, "Not Acceptable"},
      {407, "Proxy Authentication Required"}, {408, "Request Timeout"}, {409, "Conflict"},
      {410, "Gone"}, {411, "Length Required"}, {412, "Precondition Failed"},
      {413, "Content Too Large"}, {414, "URI Too Long"}, {415, "Unsupported Media Type"},
      {416, "Range Not Satisfiable"}, {417, "Expectation Failed"}, {421, "Misdirected Request"},
      {422, "Unprocessable Content"}, {426, "Upgrade Required"}, {428, "Precondition Required"},
      {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
      {503, "Service Unavailable"}, {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
  };
  auto it = kReasons.find(code);
  return it == kReasons.end() ? std::string_view("Unknown") : it->second;
}

namespace {
std::string error_message(int code, std::string message) {
  return message.empty() ? std::string(reason_phrase(code)) : message;
}
}  // namespace

HTTPClientError::HTTPClientError(int code, std::string message,
                                 std::shared_ptr<const HTTPResponse> response)
    : std::runtime_error(absl::StrCat("HTTP ", code, ": ", error_message(code, message))),
      code_(code),
      message_(error_message(code, std::move(message))),
      response_(std::move(response)) {}

HTTPResponse::HTTPResponse(RequestPtr request_, int code_, httputil::HTTPHeaders headers_,
                           std::string body_, std::string effective_url_, std::exception_ptr error_,
                           std::optional<double> request_time_,
                           std::map<std::string, double> time_info_, std::string reason_,
                           std::optional<double> start_time_)
    : request(std::move(request_)),
      code(code_),
      reason(reason_.empty() ? std::string(reason_phrase(code_)) : std::move(reason_)),
      headers(std::move(headers_)),
      body(std::move(body_)),
      effective_url(effective_url_.empty() && request ? request->url : std::move(effective_url_)),
      error(std::move(error_)),
      request_time(request_time_),
      start_time(start_time_),
      time_info(std::move(time_info_)) {
  if (!error && (code < 200 || code >= 300)) {
    error_is_response_code = true;
    auto copy = std::make_shared<HTTPResponse>(*this);
    error = std::make_exception_ptr(HTTPClientError(code, reason, std::move(copy)));
  }
}

void HTTPResponse::rethrow() const {
  if (error) std::rethrow_exception(error);
}

// ---- RequestQueue ---------------------------------------------------------------------

RequestQueue::RequestQueue(ioloop::IOLoop* io_loop, int max_clients, StartFn start)
    : io_loop_(io_loop), max_clients_(std::max(1, max_clients)), start_(std::move(start)) {}

RequestQueue::~RequestQueue() {
  *alive_ = false;
  clear();
}

void RequestQueue::clear() {
  for (auto& [key, w] : waiting_) {
    if (w.timeout.valid()) io_loop_->remove_timeout(w.timeout);
  }
  waiting_.clear();
  queue_.clear();
}

void RequestQueue::push(RequestPtr request, ResponseCallback callback) {
  const std::uint64_t key = next_key_++;
  Waiting w{std::move(request), std::move(callback), io_loop_->time(), {}};
  if (active_.size() >= static_cast<std::size_t>(max_clients_)) {
    // Tornado: min(connect_timeout, request_timeout); a non-positive one means none.
    double limit = -1;
    for (const auto& t : {w.request->connect_timeout, w.request->request_timeout}) {
      if (t && *t > 0) limit = limit < 0 ? *t : std::min(limit, *t);
    }
    if (limit > 0) {
      std::weak_ptr<bool> alive = alive_;
      w.timeout = io_loop_->call_at(w.queue_start_time + limit, [this, alive, key] {
        if (alive.lock() && *alive.lock()) on_timeout(key);
      });
    }
  }
  waiting_.emplace(key, std::move(w));
  queue_.push_back(key);
  process_queue();
  if (!queue_.empty()) {
    TORNADO_LOG_DEBUG(log::gen_log(),
                      "max_clients limit reached, request queued. {} active, {} queued requests.",
                      active_.size(), queue_.size());
  }
}

void RequestQueue::process_queue() {
  while (!queue_.empty() && active_.size() < static_cast<std::size_t>(max_clients_)) {
    const std::uint64_t key = queue_.front();
    queue_.pop_front();
    auto it = waiting_.find(key);
    if (it == waiting_.end()) continue;
    Waiting w = std::move(it->second);
    waiting_.erase(it);
    if (w.timeout.valid()) io_loop_->remove_timeout(w.timeout);
    active_.emplace(key, true);
    std::weak_ptr<bool> alive = alive_;
    auto released = std::make_shared<bool>(false);
    start_(std::move(w.request), std::move(w.callback), w.queue_start_time,
           [this, alive, key, released] {
             if (*released) return;
             *released = true;
             auto a = alive.lock();
             if (a && *a) release(key);
           });
  }
}

void RequestQueue::release(std::uint64_t key) {
  active_.erase(key);
  process_queue();
}

void RequestQueue::on_timeout(std::uint64_t key) {
  auto it = waiting_.find(key);
  if (it == waiting_.end()) return;
  Waiting w = std::move(it->second);
  waiting_.erase(it);
  queue_.erase(std::find(queue_.begin(), queue_.end(), key));
  const double request_time = io_loop_->time() - w.queue_start_time;
  HTTPResponse response(w.request, 599, {}, {}, {},
                        std::make_exception_ptr(HTTPTimeoutError("Timeout in request queue")),
                        request_time);
  io_loop_->add_callback([cb = std::move(w.callback), response = std::move(response)]() mutable {
    std::move(cb)(std::move(response));
  });
}

// ---- AsyncHTTPClient ------------------------------------------------------------------

namespace {
// Tornado's _async_clients(): the shared instance of each loop (weakly held). A loop
// is identified by its address and its RemoteScheduler: a loop destroyed and another
// made at the same address do not share an entry (the old scheduler's weak_ptr has
// expired or points elsewhere).
struct CacheEntry {
  std::weak_ptr<AsyncHTTPClient> client;
  std::weak_ptr<concurrent::RemoteScheduler> loop;
};
std::map<ioloop::IOLoop*, CacheEntry>& instance_cache() {
  thread_local std::map<ioloop::IOLoop*, CacheEntry> cache;
  return cache;
}

// Picks the default implementation when nothing was configured: the first registered
// of Tornado's default (simple) and curl. Keeps the kwargs of configure(nullptr, ...).
void choose_default_implementation() {
  if (AsyncHTTPClient::configured_class() != typeid(NoHTTPClientImplementation)) return;
  util::Kwargs saved = AsyncHTTPClient::save_configuration().kwargs;
  for (const char* name : {"simple", "curl"}) {
    if (AsyncHTTPClient::configure(name, saved).ok()) return;
  }
}
}  // namespace

NoHTTPClientImplementation::NoHTTPClientImplementation(const util::Kwargs& kwargs)
    : AsyncHTTPClient(kwargs) {
  throw std::logic_error(
      "no AsyncHTTPClient implementation is linked: depend on //curl_httpclient (it "
      "registers \"curl\") or call AsyncHTTPClient::configure<Impl>()");
}

AsyncHTTPClient::AsyncHTTPClient(const util::Kwargs& kwargs) : io_loop_(ioloop::IOLoop::current()) {
  if (const auto* d = kwargs.get<HTTPRequest>("defaults")) defaults_ = *d;
}

AsyncHTTPClient::~AsyncHTTPClient() {
  if (cached_) {
    auto& cache = instance_cache();
    auto it = cache.find(io_loop_);
    if (it != cache.end() && it->second.client.expired()) cache.erase(it);
  }
}

std::shared_ptr<AsyncHTTPClient> AsyncHTTPClient::instance(const util::Kwargs& kwargs,
                                                           bool force_instance) {
  ioloop::IOLoop* loop = ioloop::IOLoop::current();
  auto& cache = instance_cache();
  std::shared_ptr<concurrent::RemoteScheduler> identity = loop->remote();
  if (!force_instance) {
    auto it = cache.find(loop);
    if (it != cache.end()) {
      auto existing = it->second.client.lock();
      if (existing && it->second.loop.lock() == identity) return existing;
      cache.erase(it);  // a dead client, or one of a dead loop at the same address
    }
  }
  choose_default_implementation();
  std::shared_ptr<AsyncHTTPClient> client = create(kwargs);
  if (!force_instance) {
    client->cached_ = true;
    cache[loop] = CacheEntry{client, identity};
  }
  return client;
}

void AsyncHTTPClient::close() {
  if (closed_) return;
  closed_ = true;
  if (cached_) {
    auto& cache = instance_cache();
    auto it = cache.find(io_loop_);
    if (it != cache.end()) {
      auto held = it->second.client.lock();
      if (!held || held.get() == this) cache.erase(it);
    }
    cached_ = false;
  }
}

Future<HTTPResponse> AsyncHTTPClient::fetch(std::string url, bool raise_error) {
  return fetch(HTTPRequest(std::move(url)), raise_error);
}

Future<HTTPResponse> AsyncHTTPClient::fetch(HTTPRequest request, bool raise_error) {
  if (closed_) throw std::runtime_error("fetch() called on closed AsyncHTTPClient");
  auto resolved = std::make_shared<const HTTPRequest>(
      request.resolve(defaults_ ? &*defaults_ : nullptr));
  Future<HTTPResponse> future;
  fetch_impl(std::move(resolved), [future, raise_error](HTTPResponse response) {
    if (response.error && (raise_error || !response.error_is_response_code)) {
      concurrent::future_set_exception_unless_cancelled(future, response.error);
      return;
    }
    concurrent::future_set_result_unless_cancelled(future, std::move(response));
  });
  return future;
}

// ---- HTTPClient -----------------------------------------------------------------------

HTTPClient::HTTPClient(const util::Kwargs& kwargs) : io_loop_(std::make_unique<ioloop::IOLoop>()) {
  ioloop::IOLoop* previous = ioloop::IOLoop::current(false);
  if (previous != nullptr && previous->is_running()) {
    throw std::runtime_error("Cannot run HTTPClient in a thread with a running event loop");
  }
  io_loop_->make_current();
  try {
    async_client_ = AsyncHTTPClient::instance(kwargs, /*force_instance=*/true);
  } catch (...) {
    if (previous != nullptr) previous->make_current(); else ioloop::IOLoop::clear_current();
    throw;
  }
  if (previous != nullptr) previous->make_current(); else ioloop::IOLoop::clear_current();
}

HTTPClient::~HTTPClient() { close(); }

void HTTPClient::close() {
  if (closed_) return;
  closed_ = true;
  async_client_->close();
  async_client_.reset();
  io_loop_->close(false);
}

HTTPResponse HTTPClient::fetch(std::string url, bool raise_error) {
  return fetch(HTTPRequest(std::move(url)), raise_error);
}

HTTPResponse HTTPClient::fetch(HTTPRequest request, bool raise_error) {
  if (closed_) throw std::runtime_error("fetch() called on closed HTTPClient");
  ioloop::IOLoop* previous = ioloop::IOLoop::current(false);
  if (previous != nullptr && previous != io_loop_.get() && previous->is_running()) {
    throw std::runtime_error("Cannot run HTTPClient in a thread with a running event loop");
  }
  io_loop_->make_current();
  struct Restore {
    ioloop::IOLoop* previous;
    ~Restore() {
      if (previous != nullptr) previous->make_current(); else ioloop::IOLoop::clear_current();
    }
  } restore{previous};
  AsyncHTTPClient* client = async_client_.get();
  return io_loop_->run_sync([client, &request, raise_error] {
    return client->fetch(std::move(request), raise_error);
  });
}

}  // namespace tornado::httpclient
