// tornado::tcpserver, Tornado's tornado.tcpserver: TCPServer, a non-blocking,
// single-threaded TCP server. Subclass it and override handle_stream.
//
// Threading: a server belongs to the thread of the IOLoop current when its sockets are
// added (listen / add_sockets / start); use and destroy it there.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ioloop/ioloop.h"  // Future (via //ioloop: tcpserver may not use //concurrent directly)
#include "iostream/iostream.h"
#include "netutil/netutil.h"

namespace tornado::tcpserver {

using concurrent::Future;

// A non-blocking TCP server (Tornado's TCPServer). Override handle_stream:
//
//   class EchoServer : public TCPServer {
//     Future<void> handle_stream(std::shared_ptr<iostream::IOStream> stream,
//                                netutil::SocketAddress address) override { ... }
//   };
//   EchoServer server;
//   server.listen(8888);
//
// With an SSL context every accepted connection is an iostream::SSLIOStream (server
// side); its handshake runs as soon as it is accepted, and a failed handshake is logged
// by the stream (gen_log WARNING, "SSL Error ...") and fails the handler's first read or
// write with StreamClosedError. Neither a failed handshake nor an exception from
// handle_stream (logged to app_log) stops the server.
class TCPServer {
 public:
  // `ssl_context` (server side, see netutil::ssl_options_to_context) enables TLS; the
  // buffer sizes are passed to each IOStream (nullopt: iostream's defaults).
  explicit TCPServer(std::shared_ptr<netutil::SSLContext> ssl_context = nullptr,
                     std::optional<std::size_t> max_buffer_size = std::nullopt,
                     std::optional<std::size_t> read_chunk_size = std::nullopt);
  // As above, building the context from Tornado's ssl_options (certfile required).
  // Throws std::invalid_argument without certfile, netutil::SSLError for bad files.
  explicit TCPServer(const netutil::SSLOptions& ssl_options,
                     std::optional<std::size_t> max_buffer_size = std::nullopt,
                     std::optional<std::size_t> read_chunk_size = std::nullopt);
  // Stops the server (stop()) if it still listens; must run on the loop's thread while
  // the loop is alive. Connections already handed to handle_stream are not closed.
  virtual ~TCPServer();
  TCPServer(const TCPServer&) = delete;
  TCPServer& operator=(const TCPServer&) = delete;

  // Binds to `port` on `address` and starts accepting on the current IOLoop
  // (bind_sockets + add_sockets). Arguments as netutil::bind_sockets; throws its errors.
  void listen(int port, const std::string& address = "", int family = AF_UNSPEC,
              int backlog = netutil::kDefaultBacklog, int flags = 0, bool reuse_port = false);

  // Starts accepting on already-listening sockets; the server takes ownership of them
  // (closes them in stop()).
  void add_sockets(const std::vector<int>& sockets);
  void add_socket(int socket) { add_sockets({socket}); }

  // Binds listening sockets that start accepting at start() (or at once if already
  // started). Arguments as listen().
  void bind(int port, const std::string& address = "", int family = AF_UNSPEC,
            int backlog = netutil::kDefaultBacklog, int flags = 0, bool reuse_port = false);

  // Starts accepting on the sockets from bind(). With `num_processes` other than 1 it
  // first forks that many children (cpu_count() when <= 0) with process::fork_processes
  // and `max_restarts`; each child accepts on the shared sockets with its own IOLoop, and
  // the parent stays in fork_processes supervising them. Call it before any IOLoop
  // exists on this thread in that case (std::logic_error otherwise), as in Tornado.
  // Throws std::logic_error if already started.
  void start(int num_processes = 1, std::optional<int> max_restarts = std::nullopt);

  // Stops listening and closes the listening sockets. Connections in progress are not
  // closed. Idempotent; safe inside handle_stream or any loop callback.
  void stop();

  // Handles one new connection (Tornado's handle_stream). Completes when the handler is
  // done with the connection; an exception it throws or fails with is logged to
  // app_log ("Exception in callback ...") and otherwise ignored. The stream is shared:
  // keep it as long as the connection is used; when the last copy goes it is closed.
  virtual Future<void> handle_stream(std::shared_ptr<iostream::IOStream> stream,
                                     netutil::SocketAddress address) = 0;

  // The listening sockets currently accepting (fds), e.g. to find the port bound for 0.
  std::vector<int> sockets() const;
  // The sockets bind() made that start() has not started yet, e.g. to find the port
  // bound for 0 before start() forks.
  const std::vector<int>& bound_sockets() const { return pending_sockets_; }

 protected:
  // Wraps an accepted connection in a stream and calls handle_stream (Tornado's
  // _handle_connection).
  void handle_connection(int connection, netutil::SocketAddress address);

 private:
  std::shared_ptr<netutil::SSLContext> ssl_context_;
  iostream::BaseIOStream::Options stream_options_;
  std::map<int, std::function<void()>> handlers_;  // fd -> remove accept handler
  std::vector<int> pending_sockets_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace tornado::tcpserver
