#include "simple_httpclient/simple_httpclient.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <type_traits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "gen/gen.h"
#include "http1connection/http1connection.h"
#include "httputil/httputil.h"
#include "ioloop/ioloop.h"
#include "iostream/iostream.h"
#include "log/log.h"
#include "netutil/netutil.h"
#include "simple_httpclient/decoder.h"
#include "tcpclient/tcpclient.h"

namespace tornado::simple_httpclient {

using httpclient::HTTPClientError;
using httpclient::HTTPRequest;
using httpclient::HTTPResponse;
using httpclient::HTTPStreamClosedError;
using httpclient::HTTPTimeoutError;
using httpclient::RequestPtr;
using httpclient::ResponseCallback;
using iostream::StreamClosedError;
using StreamPtr = std::shared_ptr<iostream::IOStream>;

namespace {

// String concatenation over std::string_view, strings and integers (Debian's abseil
// takes only its own string_view).
inline void append_one(std::string& out, std::string_view v) { out.append(v.data(), v.size()); }
inline void append_one(std::string& out, const char* v) { out.append(v); }
inline void append_one(std::string& out, const std::string& v) { out.append(v); }
inline void append_one(std::string& out, char v) { out.push_back(v); }
template <typename T>
  requires std::is_arithmetic_v<T>
inline void append_one(std::string& out, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    out.push_back(v ? '1' : '0');
  } else {
    out.append(std::to_string(v));
  }
}
template <typename... Args>
void str_append(std::string& out, const Args&... args) {
  (append_one(out, args), ...);
}
template <typename... Args>
std::string str_cat(const Args&... args) {
  std::string out;
  str_append(out, args...);
  return out;
}

const bool kRegistered = [] {
  httpclient::AsyncHTTPClient::register_implementation<SimpleAsyncHTTPClient>("simple");
  return true;
}();

constexpr std::size_t kDefaultMaxBufferSize = 104857600;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}


// The parts of an http(s) URL (urllib.parse.urlsplit, for what the client needs).
struct ParsedURL {
  std::string scheme;    // lower case
  std::string netloc;    // userinfo@host:port as written
  std::string hostport;  // netloc without userinfo
  std::string host;      // brackets of an IPv6 literal removed
  int port = 0;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::string path;   // "" if none
  std::string query;  // without "?"
};

// std::invalid_argument for what Tornado raises ValueError for.
ParsedURL parse_url(std::string_view url) {
  ParsedURL p;
  const std::size_t colon = url.find(':');
  if (colon == std::string_view::npos) throw std::invalid_argument(str_cat("Unsupported url scheme: ", url));
  p.scheme = to_lower(url.substr(0, colon));
  if (p.scheme != "http" && p.scheme != "https") {
    throw std::invalid_argument(str_cat("Unsupported url scheme: ", url));
  }
  std::string_view rest = url.substr(colon + 1);
  if (rest.substr(0, 2) != "//") throw std::invalid_argument(str_cat("URL has no host: ", url));
  rest.remove_prefix(2);
  const std::size_t frag = rest.find('#');
  if (frag != std::string_view::npos) rest = rest.substr(0, frag);
  const std::size_t end = rest.find_first_of("/?");
  p.netloc = std::string(rest.substr(0, end));
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  const std::size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    p.path = std::string(rest.substr(0, q));
    p.query = std::string(rest.substr(q + 1));
  } else {
    p.path = std::string(rest);
  }
  std::string_view hostport = p.netloc;
  const std::size_t at = hostport.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = hostport.substr(0, at);
    hostport = hostport.substr(at + 1);
    const std::size_t c = userinfo.find(':');
    p.username = std::string(userinfo.substr(0, c));
    if (c != std::string_view::npos) p.password = std::string(userinfo.substr(c + 1));
  }
  p.hostport = std::string(hostport);
  auto hp = httputil::split_host_and_port(hostport);
  if (!hp.ok() || hp->first.empty()) throw std::invalid_argument(str_cat("Bad host in URL: ", url));
  p.host = hp->first;
  if (p.host.size() >= 2 && p.host.front() == '[' && p.host.back() == ']') {
    p.host = p.host.substr(1, p.host.size() - 2);
  }
  p.port = hp->second.value_or(p.scheme == "https" ? 443 : 80);
  if (p.port <= 0 || p.port > 65535) throw std::invalid_argument(str_cat("Bad port in URL: ", url));
  return p;
}

std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  const bool absolute = !path.empty() && path[0] == '/';
  bool trailing = false;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    const std::string_view seg = path.substr(i, j - i);
    trailing = false;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing = true;
    } else if (seg == ".") {
      trailing = true;
    } else if (!(seg.empty() && i == 0 && absolute)) {
      out.push_back(seg);
    }
    i = j + 1;
  }
  std::string result = absolute ? "/" : "";
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (k > 0) result += '/';
    result += out[k];
  }
  if (trailing && (result.empty() || result.back() != '/')) result += '/';
  return result;
}

std::string basic_auth(std::string_view user, std::string_view password) {
  return str_cat("Basic ", absl::Base64Escape(httputil::encode_username_password(user, password)));
}

std::exception_ptr stream_error(const std::exception_ptr& e) {
  // Tornado's _handle_exception: a StreamClosedError becomes its real_error, or
  // HTTPStreamClosedError("Stream closed").
  try {
    std::rethrow_exception(e);
  } catch (const StreamClosedError& s) {
    if (s.real_error()) return s.real_error();
    return std::make_exception_ptr(HTTPStreamClosedError("Stream closed"));
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace

std::string urljoin(std::string_view base, std::string_view location) {
  // Scheme present: absolute.
  const std::size_t colon = location.find(':');
  const std::size_t slash = location.find_first_of("/?#");
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash) && colon > 0) {
    return std::string(location);
  }
  const std::size_t sep = base.find("://");
  const std::string_view scheme = base.substr(0, sep == std::string_view::npos ? 0 : sep);
  if (location.substr(0, 2) == "//") return str_cat(scheme, ":", location);
  std::string_view after = sep == std::string_view::npos ? base : base.substr(sep + 3);
  const std::size_t pstart = after.find_first_of("/?#");
  const std::string_view authority = after.substr(0, pstart);
  std::string_view path_q = pstart == std::string_view::npos ? std::string_view() : after.substr(pstart);
  const std::size_t frag = path_q.find('#');
  if (frag != std::string_view::npos) path_q = path_q.substr(0, frag);
  const std::size_t q = path_q.find('?');
  const std::string_view base_path = path_q.substr(0, q);
  const std::string prefix = str_cat(scheme, "://", authority);
  if (location.empty()) return str_cat(prefix, path_q);
  if (location[0] == '/') {
    const std::size_t lq = location.find_first_of("?#");
    return str_cat(prefix, remove_dot_segments(location.substr(0, lq)),
                        lq == std::string_view::npos ? std::string_view() : location.substr(lq));
  }
  if (location[0] == '?') return str_cat(prefix, base_path.empty() ? "/" : base_path, location);
  if (location[0] == '#') return str_cat(prefix, path_q, location);
  const std::size_t last = base_path.rfind('/');
  const std::string dir = last == std::string_view::npos ? "/" : std::string(base_path.substr(0, last + 1));
  const std::size_t lq = location.find_first_of("?#");
  return str_cat(prefix, remove_dot_segments(str_cat(dir, location.substr(0, lq))),
                      lq == std::string_view::npos ? std::string_view() : location.substr(lq));
}

// ---------------------------------------------------------------------------------------

struct SimpleAsyncHTTPClient::Impl : std::enable_shared_from_this<Impl> {
  struct Idle {
    StreamPtr stream;
    ioloop::TimeoutHandle timer;
    std::uint64_t id;
  };

  ioloop::IOLoop* io_loop;
  std::unique_ptr<httpclient::RequestQueue> queue;
  std::shared_ptr<netutil::Resolver> resolver;
  std::unique_ptr<tcpclient::TCPClient> tcp_client;
  std::size_t max_buffer_size = kDefaultMaxBufferSize;
  std::size_t max_header_size = 65536;
  std::size_t max_body_size = kDefaultMaxBufferSize;
  int max_idle = 4;
  double idle_timeout = 30;
  bool closed = false;
  std::uint64_t opened = 0;
  std::uint64_t next_idle_id = 0;
  std::map<std::string, std::deque<Idle>> idle;
  std::map<std::string, std::shared_ptr<netutil::SSLContext>> ssl_contexts;

  std::size_t idle_count() const {
    std::size_t n = 0;
    for (const auto& [k, v] : idle) n += v.size();
    return n;
  }

  // An idle connection for `key` that still looks alive, or null.
  StreamPtr take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    StreamPtr found;
    while (!it->second.empty() && !found) {
      Idle entry = std::move(it->second.back());
      it->second.pop_back();
      io_loop->remove_timeout(entry.timer);
      StreamPtr s = std::move(entry.stream);
      if (s->closed()) continue;
      // EOF (the server closed it) or unexpected bytes on a plain connection: drop it.
      // A TLS connection may hold post-handshake messages (session tickets): kept.
      char c;
      const ssize_t n = ::recv(s->fileno(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      const bool tls = dynamic_cast<iostream::SSLIOStream*>(s.get()) != nullptr;
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || (n > 0 && !tls)) {
        s->close();
        continue;
      }
      found = std::move(s);
    }
    if (it->second.empty()) idle.erase(it);
    return found;
  }

  void put_idle(const std::string& key, StreamPtr stream) {
    if (closed || max_idle <= 0) {
      stream->close();
      return;
    }
    auto& list = idle[key];
    while (static_cast<int>(list.size()) >= max_idle) {
      io_loop->remove_timeout(list.front().timer);
      list.front().stream->close();
      list.pop_front();
    }
    const std::uint64_t id = ++next_idle_id;
    std::weak_ptr<Impl> weak = weak_from_this();
    auto timer = io_loop->call_later(idle_timeout, [weak, key, id] {
      auto self = weak.lock();
      if (!self) return;
      auto it = self->idle.find(key);
      if (it == self->idle.end()) return;
      auto& l = it->second;
      for (auto e = l.begin(); e != l.end(); ++e) {
        if (e->id == id) {
          e->stream->close();
          l.erase(e);
          break;
        }
      }
      if (l.empty()) self->idle.erase(it);
    });
    list.push_back(Idle{std::move(stream), timer, id});
  }

  void close_idle() {
    for (auto& [k, list] : idle) {
      for (auto& e : list) {
        io_loop->remove_timeout(e.timer);
        e.stream->close();
      }
    }
    idle.clear();
  }

  std::shared_ptr<netutil::SSLContext> ssl_context(const HTTPRequest& r) {
    const bool validate = r.validate_cert.value_or(true);
    const std::string key = str_cat(validate ? "1" : "0", "\n", r.ca_certs.value_or(""), "\n",
                                         r.client_cert.value_or(""), "\n", r.client_key.value_or(""));
    auto it = ssl_contexts.find(key);
    if (it != ssl_contexts.end()) return it->second;
    netutil::SSLOptions options;
    options.ca_certs = r.ca_certs.value_or("");
    options.certfile = r.client_cert.value_or("");
    options.keyfile = r.client_key.value_or("");
    options.cert_reqs = validate ? netutil::CertReqs::kRequired : netutil::CertReqs::kNone;
    options.check_hostname = validate;
    auto ctx = netutil::ssl_options_to_context(options, false);
    ssl_contexts[key] = ctx;
    return ctx;
  }

  void start(RequestPtr request, ResponseCallback callback, RequestPtr original,
             std::function<void()> release);
};

// One request/response exchange (Tornado's _HTTPConnection): the delegate of the
// response, the timers and the final callback.
struct Fetch : httputil::HTTPMessageDelegate, std::enable_shared_from_this<Fetch> {
  std::shared_ptr<SimpleAsyncHTTPClient::Impl> impl;
  RequestPtr request;
  RequestPtr original;
  ResponseCallback final_callback;
  bool final_called = false;
  std::function<void()> release;
  ioloop::IOLoop* io_loop;
  double start_time;
  double start_wall_time;
  std::optional<ioloop::TimeoutHandle> timeout;
  StreamPtr stream;
  http1connection::HTTP1Connection* connection = nullptr;
  ParsedURL parsed;
  double connect_limit = 0;

  // Response state.
  int code = 0;
  std::string reason;
  httputil::HTTPHeaders headers;
  std::string body;
  bool got_headers = false;
  bool got_final_headers = false;
  bool interim = false;
  bool finished = false;
  bool body_written = false;
  std::size_t decoded_size = 0;
  bool compressed_bytes = false;
  std::unique_ptr<ContentDecoder> decoder;
  std::exception_ptr body_error;

  void remove_timeout() {
    if (timeout) {
      io_loop->remove_timeout(*timeout);
      timeout.reset();
    }
  }

  void run_callback(HTTPResponse response) {
    if (final_called) return;
    final_called = true;
    remove_timeout();
    if (release) {
      auto r = std::move(release);
      release = nullptr;
      r();
    }
    auto cb = std::move(final_callback);
    // Tornado runs the final callback on the next loop iteration.
    io_loop->add_callback([cb = std::move(cb), response = std::move(response)]() mutable {
      std::move(cb)(std::move(response));
    });
  }

  void handle_exception(std::exception_ptr e) {
    if (final_called) return;
    HTTPResponse r(original, 599, {}, {}, request->url, stream_error(e),
                   io_loop->time() - start_time, {}, {}, start_wall_time);
    run_callback(std::move(r));
    if (stream) stream->close();
  }

  void on_timeout(std::string info) {
    timeout.reset();
    if (final_called) return;
    handle_exception(std::make_exception_ptr(HTTPTimeoutError(str_cat("Timeout ", info))));
  }

  bool should_follow_redirect() const {
    if (!request->follow_redirects.value_or(true)) return false;
    return (code == 301 || code == 302 || code == 303 || code == 307 || code == 308) &&
           request->max_redirects.value_or(5) > 0 && headers.contains("Location");
  }

  // HTTPMessageDelegate.
  std::optional<concurrent::Future<void>> headers_received(const httputil::StartLine& start_line,
                                                           httputil::HTTPHeaders h) override {
    const auto& rs = std::get<httputil::ResponseStartLine>(start_line);
    got_headers = true;
    if (rs.code >= 100 && rs.code < 200 && rs.code != 101) {
      interim = true;
      if (rs.code == 100 && request->expect_100_continue && !body_written) {
        return write_body();
      }
      call_header_callback(rs, h);
      return std::nullopt;
    }
    interim = false;
    got_final_headers = true;
    code = rs.code;
    reason = rs.reason;
    headers = std::move(h);
    if (should_follow_redirect()) return std::nullopt;
    if (request->decompress_response.value_or(true) && request->method != "HEAD") {
      if (auto ce = headers.get("Content-Encoding")) {
        decoder = ContentDecoder::create(*ce);
        if (decoder) {
          headers.erase("Content-Encoding");
          headers.add("X-Consumed-Content-Encoding", *ce);
        }
      }
    }
    call_header_callback(rs, headers);
    return std::nullopt;
  }

  void call_header_callback(const httputil::ResponseStartLine& rs, const httputil::HTTPHeaders& h) {
    if (!request->header_callback) return;
    request->header_callback(str_cat(rs.version, " ", rs.code, " ", rs.reason, "\r\n"));
    for (const auto& [k, v] : h.get_all()) request->header_callback(str_cat(k, ": ", v, "\r\n"));
    request->header_callback("\r\n");
  }

  void deliver(std::string chunk) {
    if (chunk.empty()) return;
    if (request->streaming_callback) {
      request->streaming_callback(chunk);
    } else {
      body += chunk;
    }
  }

  std::optional<concurrent::Future<void>> data_received(std::string chunk) override {
    if (interim || should_follow_redirect() || body_error) return std::nullopt;
    if (decoder) {
      compressed_bytes = true;
      std::string out;
      const std::size_t limit = impl->max_body_size - std::min(decoded_size, impl->max_body_size);
      absl::Status st = decoder->decode(chunk, out, limit);
      decoded_size += out.size();
      if (!st.ok()) {
        body_error = std::make_exception_ptr(HTTPClientError(599, std::string(st.message())));
        if (stream) stream->close();
        return std::nullopt;
      }
      deliver(std::move(out));
    } else {
      deliver(std::move(chunk));
    }
    return std::nullopt;
  }

  void finish() override {
    if (interim) return;
    if (decoder && compressed_bytes && !body_error && !should_follow_redirect()) {
      absl::Status st = decoder->finish();
      if (!st.ok()) body_error = std::make_exception_ptr(HTTPClientError(599, std::string(st.message())));
    }
    finished = true;
    // A final response before the request body went out (expect_100_continue answered
    // with a final status): the connection cannot carry on.
    if (!body_written && connection) connection->close();
  }

  void on_connection_close() override {}

  concurrent::Future<void> write_body();
  static concurrent::Future<void> run(std::shared_ptr<Fetch> self);
  concurrent::Future<StreamPtr> connect(std::string pool_key, bool* reused, bool use_pool);
  void finish_response();
};

concurrent::Future<void> Fetch::write_body() {
  body_written = true;
  auto self = shared_from_this();
  if (request->body) {
    if (!request->body->empty()) {
      concurrent::Future<void> w = connection->write(*request->body);
      (void)w;
    }
  } else if (request->body_producer) {
    http1connection::HTTP1Connection* conn = connection;
    concurrent::Future<void> f = request->body_producer([conn](std::string chunk) { return conn->write(std::move(chunk)); });
    co_await f;
  }
  if (connection && stream && !stream->closed()) connection->finish();
}

concurrent::Future<StreamPtr> Fetch::connect(std::string pool_key, bool* reused, bool use_pool) {
  auto self = shared_from_this();
  if (StreamPtr s = use_pool ? impl->take_idle(pool_key) : nullptr) {
    *reused = true;
    co_return s;
  }
  *reused = false;
  const bool https = parsed.scheme == "https";
  const bool proxied = request->proxy_host.has_value() && !request->proxy_host->empty();
  const int af = request->allow_ipv6.value_or(true) ? AF_UNSPEC : AF_INET;
  std::shared_ptr<netutil::SSLContext> ctx;
  if (https) ctx = impl->ssl_context(*request);
  const std::string source_ip = request->network_interface.value_or("");
  ++impl->opened;
  // Bounded by the connect timeout too, so that an abandoned attempt ends.
  std::optional<gen::Timeout> limit;
  if (connect_limit > 0) limit = gen::Timeout(gen::Deadline{start_time + connect_limit});
  if (!proxied) {
    concurrent::Future<StreamPtr> cf = impl->tcp_client->connect(parsed.host, parsed.port, af, ctx,
                                                                 impl->max_buffer_size, source_ip, std::nullopt, limit);
    StreamPtr s = co_await cf;
    co_return s;
  }
  concurrent::Future<StreamPtr> cf = impl->tcp_client->connect(
      *request->proxy_host, request->proxy_port.value_or(80), af, nullptr, impl->max_buffer_size, source_ip,
      std::nullopt, limit);
  StreamPtr s = co_await cf;
  if (!https) co_return s;
  // CONNECT tunnel, then TLS to the origin through it.
  std::string authority = parsed.host.find(':') != std::string::npos
                              ? str_cat("[", parsed.host, "]:", parsed.port)
                              : str_cat(parsed.host, ":", parsed.port);
  std::string out = str_cat("CONNECT ", authority, " HTTP/1.1\r\nHost: ", authority, "\r\n");
  if (request->proxy_username) {
    if (request->proxy_auth_mode.value_or("basic") != "basic") {
      s->close();
      throw std::invalid_argument(str_cat("Unsupported proxy_auth_mode ", *request->proxy_auth_mode));
    }
    str_append(out, "Proxy-Authorization: ",
                    basic_auth(*request->proxy_username, request->proxy_password.value_or("")), "\r\n");
  }
  out += "\r\n";
  stream = s;  // so that a timeout closes it
  concurrent::Future<void> w = s->write(std::move(out));
  (void)w;
  concurrent::Future<std::string> rf = s->read_until("\r\n\r\n", impl->max_header_size);
  std::string head = co_await rf;
  const std::size_t eol = head.find("\r\n");
  auto sl = httputil::parse_response_start_line(std::string_view(head).substr(0, eol));
  if (!sl.ok() || sl->code < 200 || sl->code >= 300) {
    s->close();
    throw HTTPClientError(599, str_cat("Proxy CONNECT failed: ", head.substr(0, eol)));
  }
  if (s->read_buffer_size() > 0) {
    s->close();
    throw HTTPClientError(599, "Proxy sent data after its CONNECT response");
  }
  concurrent::Future<std::shared_ptr<iostream::SSLIOStream>> tf = s->start_tls(false, ctx, parsed.host);
  std::shared_ptr<iostream::SSLIOStream> tls = co_await tf;
  co_return tls;
}

concurrent::Future<void> Fetch::run(std::shared_ptr<Fetch> self) {
  try {
    const HTTPRequest& req = *self->request;
    self->parsed = parse_url(req.url);
    const ParsedURL& p = self->parsed;
    // Request validation (Tornado's _HTTPConnection.run, in its order).
    if (!req.allow_nonstandard_methods.value_or(false)) {
      const bool body_expected = req.method == "POST" || req.method == "PATCH" || req.method == "PUT";
      const bool body_present = req.body.has_value() || static_cast<bool>(req.body_producer);
      if (body_expected != body_present) {
        throw std::invalid_argument(str_cat("Body must ", body_expected ? "not " : "", "be None for method ",
                                                 req.method, " (unless allow_nonstandard_methods is true)"));
      }
    }
    httputil::HTTPHeaders headers = req.headers;
    const bool proxied = req.proxy_host.has_value() && !req.proxy_host->empty();
    if (!headers.contains("Connection") && self->impl->max_idle <= 0) headers.set("Connection", "close");
    if (!headers.contains("Host")) headers.set("Host", p.hostport);
    std::optional<std::string> username, password;
    if (p.username) {
      username = p.username;
      password = p.password.value_or("");
    } else if (req.auth_username) {
      username = req.auth_username;
      password = req.auth_password.value_or("");
    }
    if (username) {
      if (req.auth_mode && *req.auth_mode != "basic") {
        throw std::invalid_argument(str_cat("unsupported auth_mode ", *req.auth_mode));
      }
      headers.set("Authorization", basic_auth(*username, *password));
    }
    if (req.user_agent) {
      headers.set("User-Agent", *req.user_agent);
    } else if (!headers.contains("User-Agent")) {
      headers.set("User-Agent", kDefaultUserAgent);
    }
    if (req.expect_100_continue) headers.set("Expect", "100-continue");
    if (req.body) headers.set("Content-Length", std::to_string(req.body->size()));
    if (req.method == "POST" && !headers.contains("Content-Type")) {
      headers.set("Content-Type", "application/x-www-form-urlencoded");
    }
    if (req.decompress_response.value_or(true)) headers.set("Accept-Encoding", "gzip, deflate, br");
    std::string target = str_cat(p.path.empty() ? "/" : p.path, p.query.empty() ? "" : "?", p.query);
    if (proxied && p.scheme == "http") {
      target = str_cat("http://", p.hostport, target);
      if (req.proxy_username) {
        if (req.proxy_auth_mode.value_or("basic") != "basic") {
          throw std::invalid_argument(str_cat("Unsupported proxy_auth_mode ", *req.proxy_auth_mode));
        }
        headers.set("Proxy-Authorization", basic_auth(*req.proxy_username, req.proxy_password.value_or("")));
      }
    }
    const std::string pool_key =
        str_cat(p.scheme, "://", p.host, ":", p.port, proxied ? str_cat(" via ", *req.proxy_host, ":", req.proxy_port.value_or(80)) : "",
                     p.scheme == "https" ? str_cat(" ", req.validate_cert.value_or(true), req.ca_certs.value_or(""),
                                                        req.client_cert.value_or(""))
                                         : "");

    // Timeouts (Tornado: min of the positive ones while connecting, then request_timeout).
    const double ct = req.connect_timeout.value_or(20), rt = req.request_timeout.value_or(20);
    double timeout = 0;
    if (ct > 0 && rt > 0) timeout = std::min(ct, rt);
    else timeout = ct > 0 ? ct : (rt > 0 ? rt : 0);
    std::weak_ptr<Fetch> weak = self;
    self->connect_limit = timeout;
    if (timeout > 0) {
      self->timeout = self->io_loop->call_at(self->start_time + timeout, [weak] {
        if (auto s = weak.lock()) s->on_timeout("while connecting");
      });
    }

    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      // A retry (attempt 1) always opens a fresh connection.
      concurrent::Future<StreamPtr> cf = self->connect(pool_key, &reused, attempt == 0);
      StreamPtr stream = co_await cf;
      if (self->final_called) {
        stream->close();
        co_return;
      }
      self->stream = stream;
      if (attempt == 0) {
        self->remove_timeout();
        if (rt > 0) {
          self->timeout = self->io_loop->call_at(self->start_time + rt, [weak] {
            if (auto s = weak.lock()) s->on_timeout("during request");
          });
        }
      }
      stream->set_nodelay(true);
      http1connection::HTTP1ConnectionParameters params;
      params.no_keep_alive = self->impl->max_idle <= 0;
      params.max_header_size = self->impl->max_header_size;
      params.max_body_size = self->impl->max_body_size;
      params.decompress = false;  // done here: gzip, deflate and br
      auto conn = std::make_unique<http1connection::HTTP1Connection>(stream, true, params);
      self->connection = conn.get();
      self->body_written = false;
      std::string first_chunk;
      if (!req.expect_100_continue && req.body) first_chunk = *req.body;
      concurrent::Future<void> wh =
          conn->write_headers(httputil::RequestStartLine{req.method, target, "HTTP/1.1"}, headers, first_chunk);
      (void)wh;
      if (!req.expect_100_continue) {
        if (req.body) {
          self->body_written = true;
          conn->finish();
        } else {
          concurrent::Future<void> wb = self->write_body();
          co_await wb;
        }
      }
      concurrent::Future<bool> rr = conn->read_response(self.get());
      bool keep = co_await rr;
      while (keep && self->interim && !self->final_called) {
        self->interim = false;
        concurrent::Future<bool> again = conn->read_response(self.get());
        keep = co_await again;
      }
      std::string leftover = conn->take_buffered();
      self->connection = nullptr;
      conn.reset();
      if (self->final_called) {
        stream->close();
        co_return;
      }
      if (self->finished && self->got_final_headers) {
        if (keep && self->body_written && leftover.empty() && !stream->closed() && !self->body_error) {
          self->stream = nullptr;
          self->impl->put_idle(pool_key, stream);
        } else {
          stream->close();
        }
        self->finish_response();
        co_return;
      }
      // No (complete) response.
      stream->close();
      if (reused && !self->got_headers && !req.body_producer && attempt == 0) {
        // A kept-alive connection the server had closed: once more on a fresh one.
        self->got_headers = false;
        continue;
      }
      std::exception_ptr err = self->body_error;
      if (!err && stream->error()) err = stream->error();
      if (!err) err = std::make_exception_ptr(HTTPStreamClosedError("Connection closed"));
      self->handle_exception(err);
      co_return;
    }
  } catch (const gen::TimeoutError&) {
    self->handle_exception(std::make_exception_ptr(HTTPTimeoutError("Timeout while connecting")));
  } catch (...) {
    self->handle_exception(std::current_exception());
  }
}

void Fetch::finish_response() {
  if (body_error) {
    handle_exception(body_error);
    return;
  }
  if (should_follow_redirect()) {
    auto new_request = std::make_shared<HTTPRequest>(*request);
    new_request->url = urljoin(request->url, *headers.get("Location"));
    new_request->max_redirects = request->max_redirects.value_or(5) - 1;
    new_request->headers.erase("Host");
    if ((code == 303 && request->method != "HEAD") || ((code == 301 || code == 302) && request->method == "POST")) {
      new_request->method = "GET";
      new_request->body.reset();
      new_request->body_producer = nullptr;
      for (const char* h : {"Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding"}) {
        new_request->headers.erase(h);
      }
    }
    // Not in Tornado: credentials do not follow a redirect to another origin.
    try {
      const ParsedURL next = parse_url(new_request->url);
      if (next.scheme != parsed.scheme || to_lower(next.host) != to_lower(parsed.host) || next.port != parsed.port) {
        for (const char* h : {"Authorization", "Cookie", "Proxy-Authorization"}) new_request->headers.erase(h);
        new_request->auth_username.reset();
        new_request->auth_password.reset();
      }
    } catch (...) {
      // An unsupported target fails in the next fetch with its own error.
    }
    final_called = true;
    remove_timeout();
    if (release) {
      auto r = std::move(release);
      release = nullptr;
      r();
    }
    auto cb = std::move(final_callback);
    if (impl->closed) {
      io_loop->add_callback([cb = std::move(cb), original = original, url = new_request->url]() mutable {
        std::move(cb)(HTTPResponse(original, 599, {}, {}, url,
                                   std::make_exception_ptr(std::runtime_error("fetch() called on closed AsyncHTTPClient"))));
      });
      return;
    }
    impl->queue->push(new_request, [cb = std::move(cb), original = original](HTTPResponse r) mutable {
      r.request = original;
      std::move(cb)(std::move(r));
    });
    return;
  }
  HTTPResponse response(original, code, headers, std::move(body), request->url, nullptr,
                        io_loop->time() - start_time, {}, reason, start_wall_time);
  run_callback(std::move(response));
}

void SimpleAsyncHTTPClient::Impl::start(RequestPtr request, ResponseCallback callback, RequestPtr original,
                                        std::function<void()> release) {
  auto f = std::make_shared<Fetch>();
  f->impl = shared_from_this();
  f->request = std::move(request);
  f->original = original ? std::move(original) : f->request;
  f->final_callback = std::move(callback);
  f->release = std::move(release);
  f->io_loop = io_loop;
  f->start_time = io_loop->time();
  f->start_wall_time = HTTPRequest::wall_time();
  concurrent::Future<void> done = Fetch::run(f);
  (void)done;
}

// ---------------------------------------------------------------------------------------

SimpleAsyncHTTPClient::SimpleAsyncHTTPClient(const util::Kwargs& kwargs)
    : httpclient::AsyncHTTPClient(kwargs), impl_(std::make_shared<Impl>()) {
  impl_->io_loop = io_loop();
  const int max_clients = kwargs.get_or<int>("max_clients", 10);
  std::weak_ptr<Impl> weak = impl_;
  impl_->queue = std::make_unique<httpclient::RequestQueue>(
      io_loop(), max_clients,
      [weak](RequestPtr request, ResponseCallback callback, double, std::function<void()> release) {
        auto impl = weak.lock();
        if (!impl) return;
        impl->start(std::move(request), std::move(callback), nullptr, std::move(release));
      });
  std::shared_ptr<netutil::Resolver> resolver;
  if (auto* r = kwargs.get<std::shared_ptr<netutil::Resolver>>("resolver")) resolver = *r;
  if (!resolver) resolver = std::make_shared<netutil::DefaultExecutorResolver>();
  if (auto* m = kwargs.get<std::map<std::string, std::string>>("hostname_mapping")) {
    resolver = std::make_shared<netutil::OverrideResolver>(resolver, *m);
  }
  impl_->resolver = resolver;
  impl_->tcp_client = std::make_unique<tcpclient::TCPClient>(resolver);
  impl_->max_buffer_size = kwargs.get_or<std::size_t>("max_buffer_size", kDefaultMaxBufferSize);
  impl_->max_header_size = kwargs.get_or<std::size_t>("max_header_size", 65536);
  impl_->max_body_size = kwargs.get_or<std::size_t>("max_body_size", impl_->max_buffer_size);
  impl_->max_idle = kwargs.get_or<int>("max_idle_connections", 4);
  impl_->idle_timeout = kwargs.get_or<double>("idle_connection_timeout", 30.0);
}

SimpleAsyncHTTPClient::~SimpleAsyncHTTPClient() {
  impl_->closed = true;
  impl_->close_idle();
  impl_->queue->clear();
}

void SimpleAsyncHTTPClient::close() {
  impl_->closed = true;
  impl_->close_idle();
  impl_->queue->clear();
  httpclient::AsyncHTTPClient::close();
}

std::size_t SimpleAsyncHTTPClient::idle_connection_count() const { return impl_->idle_count(); }
std::uint64_t SimpleAsyncHTTPClient::connections_opened() const { return impl_->opened; }

void SimpleAsyncHTTPClient::fetch_impl(RequestPtr request, ResponseCallback callback) {
  impl_->queue->push(std::move(request), std::move(callback));
}

}  // namespace tornado::simple_httpclient
