#include "curl_httpclient/curl_httpclient.h"

#include <curl/curl.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "httputil/httputil.h"
#include "log/log.h"

extern "C" const char* tornado_libssh2_stub(void);  // libssh2_stub.c

namespace tornado::curl_httpclient {

using httpclient::HTTPRequest;
using httpclient::HTTPResponse;
using httpclient::RequestPtr;
using httpclient::ResponseCallback;

bool libssh2_stub_loaded() {
  // The stub's marker, and libcurl's libssh2_init resolving to the stub's definition.
  void* marker = ::dlsym(RTLD_DEFAULT, "tornado_libssh2_stub");
  void* init = ::dlsym(RTLD_DEFAULT, "libssh2_init");
  Dl_info a{}, b{};
  if (marker == nullptr || init == nullptr) return false;
  if (::dladdr(marker, &a) == 0 || ::dladdr(init, &b) == 0) return false;
  return a.dli_fbase == b.dli_fbase && tornado_libssh2_stub() != nullptr;
}

namespace {
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!libssh2_stub_loaded()) {
      TORNADO_LOG_WARNING(log::gen_log(),
                          "curl_httpclient: the real libssh2 is loaded; OpenSSL may clash with BoringSSL");
    }
    const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
      throw std::runtime_error(absl::StrCat("curl_global_init: ", curl_easy_strerror(rc)));
    }
  });
}

// Registers "curl" with AsyncHTTPClient (the library is alwayslink).
const bool kRegistered = [] {
  httpclient::AsyncHTTPClient::register_implementation<CurlAsyncHTTPClient>("curl");
  return true;
}();

void check(CURLcode rc, const char* what) {
  if (rc != CURLE_OK) {
    throw std::invalid_argument(absl::StrCat("curl_easy_setopt(", what, "): ", curl_easy_strerror(rc)));
  }
}
#define SETOPT(curl, opt, value) check(curl_easy_setopt((curl), opt, value), #opt)
}  // namespace

// One request on one easy handle (Tornado's curl.info dict).
struct CurlAsyncHTTPClient::Transfer {
  CurlAsyncHTTPClient* client = nullptr;
  CURL* curl = nullptr;
  RequestPtr request;
  ResponseCallback callback;
  std::function<void()> release;
  httputil::HTTPHeaders headers;
  std::string reason;
  std::string buffer;
  double queue_start_time = 0;
  double curl_start_time = 0;         // wall clock
  double curl_start_ioloop_time = 0;  // loop clock
  curl_slist* header_list = nullptr;
  std::string upload;
  size_t upload_pos = 0;
  size_t header_bytes = 0;  // every header line of every response of this transfer
  bool header_overflow = false;
  char error_buffer[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (header_list != nullptr) curl_slist_free_all(header_list);
  }
};

void parse_header_line(std::string_view line, httputil::HTTPHeaders& headers, std::string& reason) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ' ||
                           line.back() == '\t')) {
    line.remove_suffix(1);
  }
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect, a 100 Continue or a 401 challenge).
    headers = httputil::HTTPHeaders();
    reason.clear();
    auto start = httputil::parse_response_start_line(line);
    if (start.ok()) reason = start->reason;
    return;
  }
  if (line.empty()) return;
  (void)headers.parse_line(line);  // Tornado raises; a malformed field is dropped here
}

// The C callbacks libcurl calls; they forward to the client.
struct CurlCallbacks {
  static int socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    static_cast<CurlAsyncHTTPClient*>(userp)->handle_socket(what, fd);
    return 0;
  }
  static int timer(CURLM*, long timeout_ms, void* userp) {
    static_cast<CurlAsyncHTTPClient*>(userp)->set_timeout(timeout_ms);
    return 0;
  }
  static size_t write(char* data, size_t size, size_t nmemb, void* userp) {
    auto* t = static_cast<CurlAsyncHTTPClient::Transfer*>(userp);
    const size_t n = size * nmemb;
    if (t->request->streaming_callback) {
      // Tornado: io_loop.add_callback(streaming_callback, chunk)
      t->client->io_loop()->add_callback(
          [cb = t->request->streaming_callback, request = t->request, chunk = std::string(data, n)] {
            cb(chunk);
          });
    } else {
      t->buffer.append(data, n);
    }
    return n;
  }
  // Tornado's _curl_header_callback.
  static size_t header(char* data, size_t size, size_t nitems, void* userp) {
    auto* t = static_cast<CurlAsyncHTTPClient::Transfer*>(userp);
    const size_t n = size * nitems;
    std::string_view line(data, n);
    // A peer sending headers without end: fail the transfer (curl: CURLE_WRITE_ERROR).
    t->header_bytes += n;
    if (t->header_bytes > t->client->max_header_size_) {
      t->header_overflow = true;
      return 0;
    }
    if (t->request->header_callback) {
      t->client->io_loop()->add_callback(
          [cb = t->request->header_callback, request = t->request, copy = std::string(line)] {
            cb(copy);
          });
    }
    parse_header_line(line, t->headers, t->reason);
    return n;
  }
  static size_t read(char* buffer, size_t size, size_t nitems, void* userp) {
    auto* t = static_cast<CurlAsyncHTTPClient::Transfer*>(userp);
    const size_t n = std::min(size * nitems, t->upload.size() - t->upload_pos);
    std::memcpy(buffer, t->upload.data() + t->upload_pos, n);
    t->upload_pos += n;
    return n;
  }
  static int seek(void* userp, curl_off_t offset, int origin) {
    auto* t = static_cast<CurlAsyncHTTPClient::Transfer*>(userp);
    if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->upload.size()) {
      return CURL_SEEKFUNC_CANTSEEK;
    }
    t->upload_pos = static_cast<size_t>(offset);
    return CURL_SEEKFUNC_OK;
  }
};

CurlAsyncHTTPClient::CurlAsyncHTTPClient(const util::Kwargs& kwargs) : AsyncHTTPClient(kwargs) {
  global_init();
  const int max_clients = kwargs.get_or<int>("max_clients", 10);
  max_header_size_ = static_cast<size_t>(kwargs.get_or<int>("max_header_size", 1 << 20));
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlCallbacks::socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlCallbacks::timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  for (int i = 0; i < std::max(1, max_clients); ++i) {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
    curls_.push_back(curl);
    free_list_.push_back(curl);
  }
  queue_ = std::make_unique<httpclient::RequestQueue>(
      io_loop(), static_cast<int>(curls_.size()),
      [this](RequestPtr request, ResponseCallback callback, double queue_start_time,
             std::function<void()> release) {
        start(std::move(request), std::move(callback), queue_start_time, std::move(release));
      });
  // Tornado: "libcurl has bugs that sometimes cause it to not report all relevant file
  // descriptors and timeouts to TIMERFUNCTION/SOCKETFUNCTION", hence a 1 s poll.
  force_timeout_callback_ = std::make_unique<ioloop::PeriodicCallback>([this] { handle_force_timeout(); }, 1000);
  force_timeout_callback_->start();
}

CurlAsyncHTTPClient::~CurlAsyncHTTPClient() { close(); }

void CurlAsyncHTTPClient::close() {
  if (closing_) return;
  closing_ = true;
  force_timeout_callback_->stop();
  if (timeout_.valid()) io_loop()->remove_timeout(timeout_);
  timeout_ = {};
  queue_->clear();
  for (auto& [fd, events] : fds_) io_loop()->remove_handler(fd);
  fds_.clear();
  for (auto& [curl, transfer] : active_) curl_multi_remove_handle(multi_, curl);
  active_.clear();
  for (void* curl : curls_) curl_easy_cleanup(curl);
  curls_.clear();
  free_list_.clear();
  curl_multi_cleanup(multi_);
  multi_ = nullptr;
  AsyncHTTPClient::close();
}

void CurlAsyncHTTPClient::fetch_impl(RequestPtr request, ResponseCallback callback) {
  queue_->push(std::move(request), std::move(callback));
  set_timeout(0);
}

// Tornado's _process_queue body for one request: the queue guarantees a free handle.
void CurlAsyncHTTPClient::start(RequestPtr request, ResponseCallback callback,
                                double queue_start_time, std::function<void()> release) {
  CURL* curl = free_list_.back();
  free_list_.pop_back();
  auto t = std::make_unique<Transfer>();
  t->client = this;
  t->curl = curl;
  t->request = std::move(request);
  t->release = std::move(release);
  t->queue_start_time = queue_start_time;
  t->curl_start_time = HTTPRequest::wall_time();
  t->curl_start_ioloop_time = io_loop()->time();
  try {
    setup_request(*t);
    const CURLMcode rc = curl_multi_add_handle(multi_, curl);
    if (rc != CURLM_OK) throw std::runtime_error(absl::StrCat("curl_multi_add_handle: ", curl_multi_strerror(rc)));
  } catch (...) {
    free_list_.push_back(curl);
    HTTPResponse response(t->request, 599, {}, {}, {}, std::current_exception());
    auto release_fn = std::move(t->release);
    std::move(callback)(std::move(response));
    release_fn();
    return;
  }
  t->callback = std::move(callback);
  active_.emplace(curl, std::move(t));
}

// Tornado's _curl_setup_request.
void CurlAsyncHTTPClient::setup_request(Transfer& t) {
  CURL* curl = t.curl;
  const HTTPRequest& r = *t.request;
  curl_easy_reset(curl);
  SETOPT(curl, CURLOPT_PRIVATE, &t);
  SETOPT(curl, CURLOPT_ERRORBUFFER, t.error_buffer);
  SETOPT(curl, CURLOPT_NOSIGNAL, 1L);
  SETOPT(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  SETOPT(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  SETOPT(curl, CURLOPT_URL, r.url.c_str());

  if (r.body_producer) {
    throw std::invalid_argument("body_producer is not supported by curl_httpclient");
  }
  // Request headers; curl adds "Expect: 100-continue" and "Pragma" unless told not to.
  httputil::HTTPHeaders headers = r.headers;
  if (!headers.contains("Expect")) headers.set("Expect", r.expect_100_continue ? "100-continue" : "");
  if (!headers.contains("Pragma")) headers.set("Pragma", "");
  for (const auto& [name, value] : headers.get_all()) {
    // "Name:" removes a header curl would add; "Name;" sends it empty.
    std::string line = value.empty() ? absl::StrCat(name, ":") : absl::StrCat(name, ": ", value);
    curl_slist* next = curl_slist_append(t.header_list, line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    t.header_list = next;
  }
  SETOPT(curl, CURLOPT_HTTPHEADER, t.header_list);
  SETOPT(curl, CURLOPT_HEADERFUNCTION, &CurlCallbacks::header);
  SETOPT(curl, CURLOPT_HEADERDATA, &t);
  SETOPT(curl, CURLOPT_WRITEFUNCTION, &CurlCallbacks::write);
  SETOPT(curl, CURLOPT_WRITEDATA, &t);
  SETOPT(curl, CURLOPT_FOLLOWLOCATION, *r.follow_redirects ? 1L : 0L);
  SETOPT(curl, CURLOPT_MAXREDIRS, static_cast<long>(*r.max_redirects));
  SETOPT(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(1000 * *r.connect_timeout));
  SETOPT(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(1000 * *r.request_timeout));
  SETOPT(curl, CURLOPT_USERAGENT,
         r.user_agent ? r.user_agent->c_str() : "Mozilla/5.0 (compatible; tornado-cpp curl_httpclient)");
  if (r.network_interface) SETOPT(curl, CURLOPT_INTERFACE, r.network_interface->c_str());
  SETOPT(curl, CURLOPT_ACCEPT_ENCODING, *r.decompress_response ? "gzip,deflate" : nullptr);
  if (r.proxy_host && r.proxy_port) {
    SETOPT(curl, CURLOPT_PROXY, r.proxy_host->c_str());
    SETOPT(curl, CURLOPT_PROXYPORT, static_cast<long>(*r.proxy_port));
    if (r.proxy_username) {
      SETOPT(curl, CURLOPT_PROXYUSERNAME, r.proxy_username->c_str());
      SETOPT(curl, CURLOPT_PROXYPASSWORD, r.proxy_password->c_str());
      const std::string mode = r.proxy_auth_mode.value_or("basic");
      if (mode == "basic") {
        SETOPT(curl, CURLOPT_PROXYAUTH, static_cast<long>(CURLAUTH_BASIC));
      } else if (mode == "digest") {
        SETOPT(curl, CURLOPT_PROXYAUTH, static_cast<long>(CURLAUTH_DIGEST));
      } else {
        throw std::invalid_argument("Unsupported proxy_auth_mode " + mode);
      }
    }
  } else {
    SETOPT(curl, CURLOPT_PROXY, "");  // also ignores http_proxy & co. in the environment
  }
  if (*r.validate_cert) {
    SETOPT(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  } else {
    SETOPT(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    SETOPT(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (r.ca_certs) SETOPT(curl, CURLOPT_CAINFO, r.ca_certs->c_str());
  SETOPT(curl, CURLOPT_IPRESOLVE,
         (r.allow_ipv6 && !*r.allow_ipv6) ? static_cast<long>(CURL_IPRESOLVE_V4)
                                          : static_cast<long>(CURL_IPRESOLVE_WHATEVER));
  if (r.client_cert) SETOPT(curl, CURLOPT_SSLCERT, r.client_cert->c_str());
  if (r.client_key) SETOPT(curl, CURLOPT_SSLKEY, r.client_key->c_str());

  // The method (Tornado's curl_options / custom_methods).
  const std::string& m = r.method;
  if (m == "GET") {
    SETOPT(curl, CURLOPT_HTTPGET, 1L);
  } else if (m == "POST") {
    SETOPT(curl, CURLOPT_POST, 1L);
  } else if (m == "PUT") {
    SETOPT(curl, CURLOPT_UPLOAD, 1L);
  } else if (m == "HEAD") {
    SETOPT(curl, CURLOPT_NOBODY, 1L);
  } else if (m == "DELETE" || m == "OPTIONS" || m == "PATCH" || *r.allow_nonstandard_methods) {
    if (!httputil::is_token(m)) throw std::invalid_argument("invalid method " + m);
    SETOPT(curl, CURLOPT_CUSTOMREQUEST, m.c_str());
  } else {
    throw std::invalid_argument("unknown method " + m);
  }
  const bool body_expected = m == "POST" || m == "PATCH" || m == "PUT";
  const bool body_present = r.body.has_value();
  if (!*r.allow_nonstandard_methods &&
      ((body_expected && !body_present) || (body_present && !body_expected))) {
    throw std::invalid_argument(absl::StrCat("Body must ", body_expected ? "not " : "",
                                             "be None for method ", m,
                                             " (unless allow_nonstandard_methods is true)"));
  }
  if (body_expected || body_present) {
    if (m == "GET") throw std::invalid_argument("Body must be None for GET request");
    t.upload = r.body.value_or("");
    t.upload_pos = 0;
    SETOPT(curl, CURLOPT_READFUNCTION, &CurlCallbacks::read);
    SETOPT(curl, CURLOPT_READDATA, &t);
    SETOPT(curl, CURLOPT_SEEKFUNCTION, &CurlCallbacks::seek);
    SETOPT(curl, CURLOPT_SEEKDATA, &t);
    if (m == "POST") {
      SETOPT(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.upload.size()));
    } else {
      SETOPT(curl, CURLOPT_UPLOAD, 1L);
      SETOPT(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.upload.size()));
    }
  }

  if (r.auth_username) {
    const std::string mode = r.auth_mode.value_or("basic");
    if (mode == "basic") {
      SETOPT(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    } else if (mode == "digest") {
      SETOPT(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_DIGEST));
    } else {
      throw std::invalid_argument("Unsupported auth_mode " + mode);
    }
    SETOPT(curl, CURLOPT_USERNAME, r.auth_username->c_str());
    SETOPT(curl, CURLOPT_PASSWORD, r.auth_password.value_or("").c_str());
  }
  if (r.prepare_curl_callback) r.prepare_curl_callback(curl);
}

// Tornado's _handle_socket.
void CurlAsyncHTTPClient::handle_socket(int what, int fd) {
  if (closing_) return;
  if (what == CURL_POLL_REMOVE) {
    if (fds_.erase(fd) > 0) io_loop()->remove_handler(fd);
    return;
  }
  std::uint32_t events = ioloop::IOLoop::NONE;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= ioloop::IOLoop::READ;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= ioloop::IOLoop::WRITE;
  // Tornado: curl may close a socket and open another with the same number without a
  // POLL_REMOVE in between, and epoll forgets closed fds; so re-add rather than update.
  if (fds_.contains(fd)) io_loop()->remove_handler(fd);
  io_loop()->add_handler(fd, [this](int fd, std::uint32_t events) { handle_events(fd, events); }, events);
  fds_[fd] = events;
}

// Tornado's _set_timeout.
void CurlAsyncHTTPClient::set_timeout(long msecs) {
  if (closing_) return;
  if (timeout_.valid()) io_loop()->remove_timeout(timeout_);
  timeout_ = {};
  if (msecs < 0) return;  // curl: delete the timer
  timeout_ = io_loop()->call_later(static_cast<double>(msecs) / 1000.0, [this] { handle_timeout(); });
}

// Tornado's _handle_events.
void CurlAsyncHTTPClient::handle_events(int fd, std::uint32_t events) {
  int action = 0;
  if (events & ioloop::IOLoop::READ) action |= CURL_CSELECT_IN;
  if (events & ioloop::IOLoop::WRITE) action |= CURL_CSELECT_OUT;
  if (events & ioloop::IOLoop::ERROR) action |= CURL_CSELECT_ERR;
  int running = 0;
  while (curl_multi_socket_action(multi_, fd, action, &running) == CURLM_CALL_MULTI_PERFORM) {
  }
  finish_pending_requests();
}

// Tornado's _handle_timeout.
void CurlAsyncHTTPClient::handle_timeout() {
  timeout_ = {};
  int running = 0;
  while (curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running) == CURLM_CALL_MULTI_PERFORM) {
  }
  finish_pending_requests();
  if (closing_) return;
  // Tornado: curl sometimes needs a new timeout although it did not say so.
  long new_timeout = -1;
  curl_multi_timeout(multi_, &new_timeout);
  if (new_timeout >= 0) set_timeout(new_timeout);
}

void CurlAsyncHTTPClient::handle_force_timeout() {
  if (closing_) return;
  int running = 0;
  // Tornado calls socket_all (deprecated in libcurl); a timeout action does the same job.
  while (curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running) == CURLM_CALL_MULTI_PERFORM) {
  }
  finish_pending_requests();
}

// Tornado's _finish_pending_requests.
void CurlAsyncHTTPClient::finish_pending_requests() {
  while (!closing_) {
    int queued = 0;
    CURLMsg* msg = curl_multi_info_read(multi_, &queued);
    if (msg == nullptr) break;
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;
    finish(easy, result);
  }
}

// Tornado's _finish.
void CurlAsyncHTTPClient::finish(void* easy, int curl_code) {
  auto it = active_.find(easy);
  if (it == active_.end()) return;
  std::unique_ptr<Transfer> t = std::move(it->second);
  active_.erase(it);
  curl_multi_remove_handle(multi_, easy);
  std::exception_ptr error;
  int code = 599;
  std::string effective_url;
  std::string body;
  if (curl_code != CURLE_OK) {
    std::string message = t->error_buffer[0] != '\0' ? std::string(t->error_buffer)
                                                      : curl_easy_strerror(static_cast<CURLcode>(curl_code));
    if (t->header_overflow) message = absl::StrCat("Response headers exceed max_header_size (", max_header_size_, " bytes)");
    error = std::make_exception_ptr(CurlError(curl_code, std::move(message)));
  } else {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    code = static_cast<int>(status);
    char* url = nullptr;
    curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
    if (url != nullptr) effective_url = url;
    body = std::move(t->buffer);
  }
  std::map<std::string, double> time_info;
  time_info["queue"] = t->curl_start_ioloop_time - t->queue_start_time;
  const std::pair<const char*, CURLINFO> kTimes[] = {
      {"namelookup", CURLINFO_NAMELOOKUP_TIME}, {"connect", CURLINFO_CONNECT_TIME},
      {"appconnect", CURLINFO_APPCONNECT_TIME}, {"pretransfer", CURLINFO_PRETRANSFER_TIME},
      {"starttransfer", CURLINFO_STARTTRANSFER_TIME}, {"total", CURLINFO_TOTAL_TIME},
      {"redirect", CURLINFO_REDIRECT_TIME}};
  for (const auto& [name, info] : kTimes) {
    double v = 0;
    if (curl_easy_getinfo(easy, info, &v) == CURLE_OK) time_info[name] = v;
  }
  free_list_.push_back(easy);
  HTTPResponse response(t->request, code, std::move(t->headers), std::move(body), std::move(effective_url),
                        error, io_loop()->time() - t->curl_start_ioloop_time, std::move(time_info),
                        t->reason, t->curl_start_time);
  auto callback = std::move(t->callback);
  auto release = std::move(t->release);
  t.reset();
  try {
    std::move(callback)(std::move(response));
  } catch (...) {
    TORNADO_LOG_EXCEPTION(log::app_log(), "Exception in HTTP callback");
  }
  release();
}

}  // namespace tornado::curl_httpclient
