// TCPClient and the happy-eyeballs Connector.
#include "tcpclient/tcpclient.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace tornado::tcpclient {

std::shared_ptr<Connector> Connector::create(std::vector<ResolvedAddress> addrinfo,
                                             ConnectFunction connect) {
  return std::shared_ptr<Connector>(new Connector(std::move(addrinfo), std::move(connect)));
}

Connector::Connector(std::vector<ResolvedAddress> addrinfo, ConnectFunction connect)
    : io_loop_(ioloop::IOLoop::current()),
      connect_(std::move(connect)),
      remaining_(addrinfo.size()) {
  auto [primary, secondary] = split(addrinfo);
  primary_.addrs = std::move(primary);
  secondary_.addrs = std::move(secondary);
}

std::pair<std::vector<ResolvedAddress>, std::vector<ResolvedAddress>> Connector::split(
    const std::vector<ResolvedAddress>& addrinfo) {
  std::vector<ResolvedAddress> primary, secondary;
  if (addrinfo.empty()) return {primary, secondary};
  const int first = addrinfo[0].first;
  for (const auto& a : addrinfo) (a.first == first ? primary : secondary).push_back(a);
  return {primary, secondary};
}

Future<ConnectResult> Connector::start(double timeout,
                                       std::optional<gen::Timeout> connect_timeout) {
  try_connect(&primary_);
  if (!future_.done()) {
    std::shared_ptr<Connector> self = shared_from_this();
    timeout_ = io_loop_->call_later(timeout, [self] {
      self->timeout_ = {};
      self->on_timeout();
    });
    if (connect_timeout) {
      connect_timeout_ = io_loop_->call_at(connect_timeout->deadline(*io_loop_), [self] {
        self->connect_timeout_ = {};
        self->on_connect_timeout();
      });
    }
  }
  return future_;
}

void Connector::try_connect(Queue* queue) {
  if (queue->next >= queue->addrs.size()) {
    if (remaining_ == 0 && !future_.done()) {
      future_.set_exception(last_error_ ? last_error_
                                        : std::make_exception_ptr(
                                              std::runtime_error("connection failed")));
    }
    return;
  }
  const auto [af, address] = queue->addrs[queue->next++];
  StreamPtr stream;
  Future<void> connected;
  try {
    auto attempt = connect_(af, address);
    stream = std::move(attempt.first);
    connected = std::move(attempt.second);
  } catch (...) {
    connected = Future<void>();
    connected.set_exception(std::current_exception());
  }
  if (stream) streams_.push_back(stream);
  std::shared_ptr<Connector> self = shared_from_this();
  concurrent::future_add_done_callback(
      connected, [self, queue, af, address, stream](Future<void> f) {
        self->on_connect_done(queue, af, address, stream, std::move(f));
      });
}

void Connector::on_connect_done(Queue* queue, int af, SocketAddress address, StreamPtr stream,
                                Future<void> connected) {
  --remaining_;
  std::exception_ptr error;
  try {
    error = connected.exception();
  } catch (...) {  // cancelled
    error = std::current_exception();
  }
  if (error) {
    if (future_.done()) return;
    last_error_ = error;
    try_connect(queue);
    if (timeout_.valid()) {
      // The first attempt failed: do not wait for the timer to try the other family.
      io_loop_->remove_timeout(timeout_);
      timeout_ = {};
      on_timeout();
    }
    return;
  }
  clear_timeouts();
  if (future_.done()) {
    // Another attempt already won (or the connect timeout expired).
    if (stream) stream->close();
    return;
  }
  streams_.erase(std::remove(streams_.begin(), streams_.end(), stream), streams_.end());
  future_.set_result(ConnectResult{af, address, stream});
  close_streams();
}

void Connector::on_timeout() {
  if (timeout_.valid()) {
    io_loop_->remove_timeout(timeout_);
    timeout_ = {};
  }
  if (!future_.done()) try_connect(&secondary_);
}

void Connector::on_connect_timeout() {
  if (connect_timeout_.valid()) {
    io_loop_->remove_timeout(connect_timeout_);
    connect_timeout_ = {};
  }
  if (!future_.done()) future_.set_exception(gen::TimeoutError("Timeout"));
  close_streams();
}

void Connector::clear_timeouts() {
  if (timeout_.valid()) io_loop_->remove_timeout(timeout_);
  if (connect_timeout_.valid()) io_loop_->remove_timeout(connect_timeout_);
  timeout_ = {};
  connect_timeout_ = {};
}

void Connector::close_streams() {
  // Copy: closing a stream fails its connect future, whose callback runs re-entrantly.
  std::vector<StreamPtr> streams = streams_;
  for (const auto& stream : streams) stream->close();
}

TCPClient::TCPClient(std::shared_ptr<netutil::Resolver> resolver)
    : resolver_(std::move(resolver)), own_resolver_(resolver_ == nullptr) {
  if (!resolver_) resolver_ = std::make_shared<netutil::DefaultExecutorResolver>();
}

TCPClient::~TCPClient() { close(); }

void TCPClient::close() {
  if (own_resolver_ && resolver_) {
    resolver_->close();
    own_resolver_ = false;
  }
}

namespace {

// Tornado's TCPClient._create_stream.
std::pair<StreamPtr, Future<void>> create_stream(std::optional<std::size_t> max_buffer_size,
                                                 const std::string& source_ip,
                                                 std::optional<int> source_port, int af,
                                                 SocketAddress address) {
  const int source_port_bind = source_port.value_or(0);
  std::string source_ip_bind = source_ip;
  if (source_port_bind != 0 && source_ip.empty()) {
    source_ip_bind = af == AF_INET6 ? "::1" : "127.0.0.1";
  }
  const int fd = ::socket(af, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  if (source_port_bind != 0 || !source_ip_bind.empty()) {
    try {
      const auto local = SocketAddress::from_ip(source_ip_bind, source_port_bind);
      if (::bind(fd, local.sockaddr_ptr(), local.length) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                "bind to " + local.to_string());
      }
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  iostream::BaseIOStream::Options options;
  if (max_buffer_size) options.max_buffer_size = *max_buffer_size;
  auto stream = std::make_shared<iostream::IOStream>(fd, options);
  Future<void> connected = stream->connect(address);
  return {stream, connected};
}

}  // namespace

Future<StreamPtr> TCPClient::connect(std::string host, int port, int af,
                                     std::shared_ptr<netutil::SSLContext> ssl_context,
                                     std::optional<std::size_t> max_buffer_size,
                                     std::string source_ip, std::optional<int> source_port,
                                     std::optional<gen::Timeout> timeout) {
  std::shared_ptr<netutil::Resolver> resolver = resolver_;
  ioloop::IOLoop* loop = ioloop::IOLoop::current();
  std::optional<gen::Deadline> deadline;
  if (timeout) deadline = gen::Deadline{timeout->deadline(*loop)};

  Future<std::vector<ResolvedAddress>> resolving = resolver->resolve(host, port, af);
  if (deadline) resolving = gen::with_timeout(*deadline, resolving);
  std::vector<ResolvedAddress> addrinfo = co_await resolving;

  auto connector = Connector::create(
      std::move(addrinfo), [max_buffer_size, source_ip, source_port](int family, SocketAddress a) {
        return create_stream(max_buffer_size, source_ip, source_port, family, std::move(a));
      });
  std::optional<gen::Timeout> connect_timeout;
  if (deadline) connect_timeout = gen::Timeout(*deadline);
  Future<ConnectResult> connecting = connector->start(kInitialConnectTimeout, connect_timeout);
  ConnectResult result = co_await connecting;
  StreamPtr stream = result.stream;

  if (ssl_context) {
    Future<std::shared_ptr<iostream::SSLIOStream>> handshake =
        stream->start_tls(false, ssl_context, host);
    if (deadline) handshake = gen::with_timeout(*deadline, handshake);
    std::shared_ptr<iostream::SSLIOStream> tls = co_await handshake;
    stream = tls;
  }
  co_return stream;
}

}  // namespace tornado::tcpclient
