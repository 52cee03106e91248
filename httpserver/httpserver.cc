// HTTPServer. See httpserver.h and README.md.
#include "httpserver/httpserver.h"

#include <sys/socket.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "concurrent/frame_pool.h"
#include "log/log.h"

namespace tornado::httpserver {

using http1connection::HTTP1Connection;
using http1connection::HTTP1ServerConnection;
using httputil::HTTPHeaders;
using httputil::HTTPMessageDelegate;
using httputil::StartLine;

namespace {

std::string_view strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::shared_ptr<netutil::SSLContext> make_context(const HTTPServerOptions& o) {
  if (o.ssl_context && o.ssl_options) {
    throw std::invalid_argument("HTTPServer: give ssl_context or ssl_options, not both");
  }
  if (o.ssl_options) return netutil::ssl_options_to_context(*o.ssl_options, true);
  return o.ssl_context;
}

http1connection::HTTP1ConnectionParameters make_params(const HTTPServerOptions& o) {
  http1connection::HTTP1ConnectionParameters p;
  p.no_keep_alive = o.no_keep_alive;
  if (o.chunk_size) p.chunk_size = *o.chunk_size;
  if (o.max_header_size) p.max_header_size = *o.max_header_size;
  if (o.max_request_line_size) p.max_request_line_size = *o.max_request_line_size;
  p.max_request_line_size = std::min(p.max_request_line_size, p.max_header_size);
  const double idle = o.idle_connection_timeout.value_or(3600);
  p.header_timeout = idle;  // as Tornado: header_timeout = idle_connection_timeout or 3600
  p.idle_timeout = idle;
  p.body_timeout = o.body_timeout;
  p.max_body_size = o.max_body_size;
  p.decompress = o.decompress_request;
  p.date_header = true;
  return p;
}

// Collects the body and calls the request callback at finish (Tornado's _CallableAdapter).
// One is made and freed per request on the loop's thread: it comes from the same
// per-thread pool as coroutine frames (off under the sanitizers, which must see every
// free).
class CallableAdapter final : public HTTPMessageDelegate {
 public:
  static void* operator new(std::size_t size) {
    return concurrent::internal::allocate_frame(size);
  }
  static void operator delete(void* p, std::size_t size) {
    concurrent::internal::deallocate_frame(p, size);
  }

  CallableAdapter(const HTTPServer::RequestCallback* callback, httputil::HTTPConnection* conn)
      : callback_(callback), conn_(conn) {}
  std::optional<Future<void>> headers_received(const StartLine& start_line,
                                               HTTPHeaders headers) override {
    request_.emplace(std::get<httputil::RequestStartLine>(start_line), std::move(headers), conn_);
    return std::nullopt;
  }
  std::optional<Future<void>> data_received(std::string chunk) override {
    if (body_.empty()) {
      body_ = std::move(chunk);
    } else {
      body_ += chunk;
    }
    return std::nullopt;
  }
  void finish() override {
    request_->body = std::move(body_);
    request_->parse_body();
    (*callback_)(*request_);
  }
  void on_connection_close() override { body_.clear(); }

 private:
  const HTTPServer::RequestCallback* callback_;
  httputil::HTTPConnection* conn_;
  std::optional<httputil::HTTPServerRequest> request_;
  std::string body_;
};

// Rewrites the connection's context from X-* headers for one request, then restores it
// (Tornado's _ProxyAdapter).
class XHeadersAdapter : public HTTPMessageDelegate {
 public:
  XHeadersAdapter(std::unique_ptr<HTTPMessageDelegate> inner, HTTP1Connection* conn,
                  const std::vector<std::string>* trusted)
      : inner_(std::move(inner)), conn_(conn), trusted_(trusted) {}
  ~XHeadersAdapter() override { cleanup(); }
  std::optional<Future<void>> headers_received(const StartLine& start_line,
                                               HTTPHeaders headers) override {
    saved_ = conn_->context();
    apply_xheaders(headers, *trusted_, conn_->mutable_context());
    return inner_->headers_received(start_line, std::move(headers));
  }
  std::optional<Future<void>> data_received(std::string chunk) override {
    return inner_->data_received(std::move(chunk));
  }
  void finish() override {
    inner_->finish();
    cleanup();
  }
  void on_connection_close() override {
    inner_->on_connection_close();
    cleanup();
  }

 private:
  void cleanup() {
    if (saved_) conn_->mutable_context() = std::move(*std::exchange(saved_, std::nullopt));
  }
  std::unique_ptr<HTTPMessageDelegate> inner_;
  HTTP1Connection* conn_;
  const std::vector<std::string>* trusted_;
  std::optional<httputil::RequestContext> saved_;
};

}  // namespace

void apply_xheaders(const HTTPHeaders& headers, const std::vector<std::string>& trusted_downstream,
                    httputil::RequestContext& context) {
  // Squid uses X-Forwarded-For, others use X-Real-Ip.
  const std::string forwarded = headers.get("X-Forwarded-For", context.remote_ip);
  std::string_view ip;
  std::string_view rest = forwarded;
  // Walk the list from the right, skipping trusted proxies.
  for (;;) {
    const auto comma = rest.rfind(',');
    ip = strip(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    if (std::find(trusted_downstream.begin(), trusted_downstream.end(), ip) ==
            trusted_downstream.end() ||
        comma == std::string_view::npos) {
      break;
    }
    rest = rest.substr(0, comma);
  }
  std::string candidate = headers.get("X-Real-Ip", ip);
  if (netutil::is_valid_ip(candidate)) context.remote_ip = std::move(candidate);
  // AWS uses X-Forwarded-Proto.
  std::optional<std::string> proto = headers.get("X-Scheme");
  if (!proto) proto = headers.get("X-Forwarded-Proto");
  if (proto && !proto->empty()) {
    const auto comma = proto->rfind(',');
    std::string_view last = strip(comma == std::string::npos ? std::string_view(*proto)
                                                             : std::string_view(*proto).substr(comma + 1));
    if (last == "http" || last == "https") context.protocol = std::string(last);
  }
}

HTTPServer::HTTPServer(RequestCallback callback, httputil::HTTPServerConnectionDelegate* delegate,
                       HTTPServerOptions options, int)
    : tcpserver::TCPServer(make_context(options), options.max_buffer_size,
                           options.chunk_size),
      callback_(std::move(callback)),
      delegate_(delegate),
      options_(std::move(options)),
      params_(make_params(options_)) {}

HTTPServer::HTTPServer(RequestCallback callback, HTTPServerOptions options)
    : HTTPServer(std::move(callback), nullptr, std::move(options), 0) {
  if (!callback_) throw std::invalid_argument("HTTPServer: empty request callback");
}

HTTPServer::HTTPServer(httputil::HTTPServerConnectionDelegate* delegate, HTTPServerOptions options)
    : HTTPServer(nullptr, delegate, std::move(options), 0) {
  if (delegate_ == nullptr) throw std::invalid_argument("HTTPServer: null delegate");
}

HTTPServer::~HTTPServer() {
  stop();
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto& [key, conn] : connections) conn->abandon();
}

Future<void> HTTPServer::handle_stream(std::shared_ptr<iostream::IOStream> stream,
                                       netutil::SocketAddress address) {
  httputil::RequestContext context;
  const int family = address.family();
  if (family == AF_INET || family == AF_INET6) context.remote_ip = address.host();
  if (options_.protocol) {
    context.protocol = *options_.protocol;
  } else {
    context.protocol = dynamic_cast<iostream::SSLIOStream*>(stream.get()) ? "https" : "http";
  }
  auto conn = std::make_shared<HTTP1ServerConnection>(std::move(stream), params_, std::move(context));
  connections_.emplace(conn.get(), conn);
  conn->start_serving(this);
  if (draining_) conn->close_when_idle();
  Future<void> done;
  done.set_result();
  return done;
}

std::unique_ptr<HTTPMessageDelegate> HTTPServer::start_request(
    httputil::HTTPServerConnection* server_conn, httputil::HTTPConnection* request_conn) {
  std::unique_ptr<HTTPMessageDelegate> delegate;
  if (delegate_ != nullptr) {
    delegate = delegate_->start_request(server_conn, request_conn);
  } else {
    delegate = std::make_unique<CallableAdapter>(&callback_, request_conn);
  }
  if (options_.xheaders) {
    delegate = std::make_unique<XHeadersAdapter>(
        std::move(delegate), static_cast<HTTP1Connection*>(request_conn),
        &options_.trusted_downstream);
  }
  return delegate;
}

void HTTPServer::on_close(httputil::HTTPServerConnection* server_conn) {
  if (delegate_ != nullptr) delegate_->on_close(server_conn);
  connections_.erase(server_conn);
  if (connections_.empty() && all_closed_) {
    auto f = std::move(*all_closed_);
    all_closed_.reset();
    if (!f.done()) f.set_result();
  }
}

Future<void> HTTPServer::all_closed_future() {
  if (connections_.empty()) {
    Future<void> done;
    done.set_result();
    return done;
  }
  if (!all_closed_) all_closed_.emplace();
  return *all_closed_;
}

Future<void> HTTPServer::close_all_connections() {
  Future<void> f = all_closed_future();
  std::vector<std::shared_ptr<HTTP1ServerConnection>> conns;
  for (auto& [key, conn] : connections_) conns.push_back(conn);
  for (auto& conn : conns) (void)conn->close();
  return f;
}

Future<void> HTTPServer::shutdown() {
  stop();
  draining_ = true;
  Future<void> f = all_closed_future();
  std::vector<std::shared_ptr<HTTP1ServerConnection>> conns;
  for (auto& [key, conn] : connections_) conns.push_back(conn);
  for (auto& conn : conns) conn->close_when_idle();
  return f;
}

}  // namespace tornado::httpserver
