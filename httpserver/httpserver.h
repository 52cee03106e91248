// tornado::httpserver, Tornado's tornado.httpserver: HTTPServer, a non-blocking
// HTTP/1.x server on top of tcpserver::TCPServer and http1connection.
//
// Threading: as TCPServer, the server belongs to the thread of its IOLoop.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "http1connection/http1connection.h"
#include "httputil/httputil.h"
#include "iostream/iostream.h"
#include "netutil/netutil.h"
#include "tcpserver/tcpserver.h"

namespace tornado::httpserver {

using concurrent::Future;

// HTTPServer's keyword arguments (Tornado's HTTPServer.initialize).
struct HTTPServerOptions {
  // Close every connection after one request.
  bool no_keep_alive = false;
  // Take the client's address from X-Real-Ip / X-Forwarded-For and the scheme from
  // X-Scheme / X-Forwarded-Proto (for servers behind a reverse proxy).
  bool xheaders = false;
  // Proxy addresses skipped when reading X-Forwarded-For from the right.
  std::vector<std::string> trusted_downstream;
  // The scheme requests report ("http" / "https"); default from the stream (TLS or not).
  std::optional<std::string> protocol;
  // Decompress gzip request bodies (Tornado's decompress_request).
  bool decompress_request = false;
  std::optional<std::size_t> chunk_size;
  std::optional<std::size_t> max_header_size;
  // Longest request line (414 above); default 16 KiB.
  std::optional<std::size_t> max_request_line_size;
  // Seconds a keep-alive connection may sit idle (and, as in Tornado, the limit for
  // receiving a request's header block). Default 3600.
  std::optional<double> idle_connection_timeout;
  std::optional<double> body_timeout;
  std::optional<std::size_t> max_body_size;
  std::optional<std::size_t> max_buffer_size;
  // TLS: a server-side context, or Tornado's ssl_options (certfile required). At most one.
  std::shared_ptr<netutil::SSLContext> ssl_context;
  std::optional<netutil::SSLOptions> ssl_options;
};

// A non-blocking HTTP server (Tornado's HTTPServer). Either
//
//   - a request callback: called once the whole request (body included) arrived, with
//     the request; it answers through request.connection (write_headers / write /
//     finish). The request and request.connection stay valid until finish() completes
//     the exchange or the connection closes; a callback that answers later should use
//     the delegate form, which hears of the close (on_connection_close). A callback that
//     throws gets a 500 (when it had not started a response) and the connection closes;
//     the server serves on; or
//   - an HTTPServerConnectionDelegate (e.g. web::Application), which must outlive the
//     server's connections.
//
//   HTTPServer server([](httputil::HTTPServerRequest& request) {
//     std::string body = "Hello, world";
//     request.connection->write_headers(httputil::ResponseStartLine{"HTTP/1.1", 200, "OK"},
//                                       {{"Content-Length", std::to_string(body.size())}},
//                                       body);
//     request.connection->finish();
//   });
//   server.listen(8888);
//   ioloop::IOLoop::current()->start();
//
// Responses get a Date header (cached, formatted once per second) unless they set one.
class HTTPServer : public tcpserver::TCPServer, public httputil::HTTPServerConnectionDelegate {
 public:
  using RequestCallback = std::function<void(httputil::HTTPServerRequest&)>;

  explicit HTTPServer(RequestCallback callback, HTTPServerOptions options = {});
  explicit HTTPServer(httputil::HTTPServerConnectionDelegate* delegate,
                      HTTPServerOptions options = {});
  // Stops listening and closes every connection still open (their requests end with
  // on_connection_close). Loop thread.
  ~HTTPServer() override;

  // Closes every open connection; completes when all are closed (Tornado's
  // close_all_connections). Does not stop listening: call stop() first.
  Future<void> close_all_connections();

  // Graceful shutdown: stops listening; closes connections that wait between requests
  // with nothing received; every other connection finishes the request(s) it has
  // received (their responses say "Connection: close") and then closes. Completes when
  // no connection is left. Not in Tornado.
  Future<void> shutdown();

  // Open connections.
  std::size_t connection_count() const { return connections_.size(); }
  const http1connection::HTTP1ConnectionParameters& connection_parameters() const {
    return params_;
  }

  // TCPServer / HTTPServerConnectionDelegate.
  Future<void> handle_stream(std::shared_ptr<iostream::IOStream> stream,
                             netutil::SocketAddress address) override;
  std::unique_ptr<httputil::HTTPMessageDelegate> start_request(
      httputil::HTTPServerConnection* server_conn,
      httputil::HTTPConnection* request_conn) override;
  void on_close(httputil::HTTPServerConnection* server_conn) override;

 private:
  HTTPServer(RequestCallback callback, httputil::HTTPServerConnectionDelegate* delegate,
             HTTPServerOptions options, int);
  Future<void> all_closed_future();

  RequestCallback callback_;
  httputil::HTTPServerConnectionDelegate* delegate_ = nullptr;
  HTTPServerOptions options_;
  http1connection::HTTP1ConnectionParameters params_;
  std::map<httputil::HTTPServerConnection*,
           std::shared_ptr<http1connection::HTTP1ServerConnection>>
      connections_;
  std::optional<Future<void>> all_closed_;
  bool draining_ = false;
};

// Applies X-Real-Ip / X-Forwarded-For / X-Scheme / X-Forwarded-Proto to `context`
// (Tornado's _HTTPRequestContext._apply_xheaders); exposed for tests.
void apply_xheaders(const httputil::HTTPHeaders& headers,
                    const std::vector<std::string>& trusted_downstream,
                    httputil::RequestContext& context);

}  // namespace tornado::httpserver
