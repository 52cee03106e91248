// TCPServer: accept handlers over netutil, one IOStream / SSLIOStream per connection.
#include "tcpserver/tcpserver.h"

#include <unistd.h>

#include <stdexcept>
#include <utility>

#include "log/log.h"
#include "process/process.h"

namespace tornado::tcpserver {

namespace {
std::shared_ptr<netutil::SSLContext> server_context(const netutil::SSLOptions& options) {
  // Tornado checks the certfile up front ("missing key 'certfile' in ssl_options").
  if (options.certfile.empty()) {
    throw std::invalid_argument("missing key \"certfile\" in ssl_options");
  }
  return netutil::ssl_options_to_context(options, true);
}
}  // namespace

TCPServer::TCPServer(std::shared_ptr<netutil::SSLContext> ssl_context,
                     std::optional<std::size_t> max_buffer_size,
                     std::optional<std::size_t> read_chunk_size)
    : ssl_context_(std::move(ssl_context)) {
  if (ssl_context_ && !ssl_context_->server_side()) {
    throw std::invalid_argument("TCPServer needs a server-side SSL context");
  }
  if (max_buffer_size) stream_options_.max_buffer_size = *max_buffer_size;
  if (read_chunk_size) stream_options_.read_chunk_size = *read_chunk_size;
  stream_options_.fd_is_nonblocking = true;  // add_accept_handler's accept4 made it so
}

TCPServer::TCPServer(const netutil::SSLOptions& ssl_options,
                     std::optional<std::size_t> max_buffer_size,
                     std::optional<std::size_t> read_chunk_size)
    : TCPServer(server_context(ssl_options), max_buffer_size, read_chunk_size) {}

TCPServer::~TCPServer() {
  if (!handlers_.empty() || !pending_sockets_.empty()) stop();
}

void TCPServer::listen(int port, const std::string& address, int family, int backlog, int flags,
                       bool reuse_port) {
  add_sockets(netutil::bind_sockets(port, address, family, backlog, flags, reuse_port));
}

void TCPServer::add_sockets(const std::vector<int>& sockets) {
  for (int sock : sockets) {
    handlers_[sock] = netutil::add_accept_handler(
        sock, [this](int connection, netutil::SocketAddress address) {
          handle_connection(connection, std::move(address));
        });
  }
}

void TCPServer::bind(int port, const std::string& address, int family, int backlog, int flags,
                     bool reuse_port) {
  auto sockets = netutil::bind_sockets(port, address, family, backlog, flags, reuse_port);
  if (started_) {
    add_sockets(sockets);
  } else {
    pending_sockets_.insert(pending_sockets_.end(), sockets.begin(), sockets.end());
  }
}

void TCPServer::start(int num_processes, std::optional<int> max_restarts) {
  if (started_) throw std::logic_error("TCPServer.start() called twice");
  // Fork before any loop exists (fork_processes refuses otherwise); each child then
  // accepts on the shared sockets with its own loop.
  if (num_processes != 1) process::fork_processes(num_processes, max_restarts);
  started_ = true;
  std::vector<int> sockets = std::move(pending_sockets_);
  pending_sockets_.clear();
  add_sockets(sockets);
}

void TCPServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Take the handlers out first: stop() may run inside an accept callback.
  auto handlers = std::move(handlers_);
  handlers_.clear();
  for (auto& [fd, remove] : handlers) {
    remove();
    ::close(fd);
  }
  for (int fd : pending_sockets_) ::close(fd);
  pending_sockets_.clear();
}

std::vector<int> TCPServer::sockets() const {
  std::vector<int> out;
  for (const auto& [fd, remove] : handlers_) out.push_back(fd);
  return out;
}

void TCPServer::handle_connection(int connection, netutil::SocketAddress address) {
  std::shared_ptr<iostream::IOStream> stream;
  try {
    if (ssl_context_) {
      stream = std::make_shared<iostream::SSLIOStream>(connection, ssl_context_, "",
                                                       stream_options_);
    } else {
      stream = std::make_shared<iostream::IOStream>(connection, stream_options_);
    }
  } catch (...) {
    TORNADO_LOG_EXCEPTION(log::app_log(), "Error in connection callback");
    return;
  }
  Future<void> handled;
  try {
    handled = handle_stream(std::move(stream), address);
  } catch (...) {
    TORNADO_LOG_EXCEPTION(log::app_log(), "Error in connection callback");
    return;
  }
  // Tornado adds the future to the loop with `lambda f: f.result()`, so a failure is
  // logged by the loop as "Exception in callback ..." on app_log. We log it here rather
  // than through handle_callback_exception, which test loops turn into test failures.
  // The peer's text is made only for the log line (formatting it costs as much as a
  // small request).
  concurrent::future_add_done_callback(handled, [address](Future<void> f) {
    if (f.cancelled()) return;
    if (std::exception_ptr e = f.exception()) {
      log::log_exception(log::app_log(), TORNADO_LOG_HERE_(), spdlog::level::err, std::move(e),
                         "Exception in callback for handle_stream from {}", address.to_string());
    }
  });
}

}  // namespace tornado::tcpserver
