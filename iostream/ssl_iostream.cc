// iostream: SSLIOStream, TLS over BoringSSL.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

#include "iostream/iostream.h"
#include "log/log.h"
#include "util/util.h"

namespace tornado::iostream {

using ioloop::IOLoop;

// The socket under a TLS stream, as the BIO BoringSSL reads and writes. It differs from
// BoringSSL's socket BIO in two ways:
// - Sends use MSG_NOSIGNAL. Without it a peer that had reset the connection made
//   SSL_write, or the close_notify sent on close, raise SIGPIPE and end the process.
// - Reads read ahead. BoringSSL asks for a record's 5-byte header, then for its body: two
//   recv calls per record, where one recv of up to kReadAhead bytes serves both. A recv
//   that returns less than it asked for proves the socket empty. Until the loop reports
//   the socket readable again (handle_events), a read says "would block" without a
//   system call: the stream is level-triggered, so bytes that arrive meanwhile are
//   reported. That saves the EAGAIN recv that ended every request.
struct internal::TlsSocket {
  static constexpr std::size_t kReadAhead = 4096;
  int fd;
  bool drained = false;
  std::unique_ptr<char[]> ahead;  // made on the first small read
  std::size_t begin = 0;          // ahead[begin, end) is read but not handed over
  std::size_t end = 0;
};

namespace {

using internal::TlsSocket;

TlsSocket& socket_of(BIO* bio) { return *static_cast<TlsSocket*>(BIO_get_data(bio)); }

int socket_bio_write(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  ssize_t n;
  do {
    n = ::send(socket_of(bio).fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && util::errno_would_block(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int socket_bio_read(BIO* bio, char* out, int len) {
  BIO_clear_retry_flags(bio);
  TlsSocket& s = socket_of(bio);
  const auto want = static_cast<std::size_t>(len);
  if (s.begin == s.end) {
    if (s.drained) {
      errno = EAGAIN;
      BIO_set_retry_read(bio);
      return -1;
    }
    // A large read (a record's body) goes straight to `out`; a small one reads ahead.
    const bool direct = want >= TlsSocket::kReadAhead;
    if (!direct && !s.ahead) s.ahead = std::make_unique<char[]>(TlsSocket::kReadAhead);
    const std::size_t cap = direct ? want : TlsSocket::kReadAhead;
    ssize_t n;
    do {
      n = ::recv(s.fd, direct ? out : s.ahead.get(), cap, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && util::errno_would_block(errno)) {
      s.drained = true;
      BIO_set_retry_read(bio);
    }
    if (n <= 0) return static_cast<int>(n);  // an error, or the end of the stream
    if (static_cast<std::size_t>(n) < cap) s.drained = true;
    if (direct) return static_cast<int>(n);
    s.begin = 0;
    s.end = static_cast<std::size_t>(n);
  }
  const std::size_t n = std::min(want, s.end - s.begin);
  std::memcpy(out, s.ahead.get() + s.begin, n);
  s.begin += n;
  return static_cast<int>(n);
}

long socket_bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

BIO* new_socket_bio(TlsSocket* socket) {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOCKET, "tornado socket");
    if (m != nullptr) {
      BIO_meth_set_write(m, socket_bio_write);
      BIO_meth_set_read(m, socket_bio_read);
      BIO_meth_set_ctrl(m, socket_bio_ctrl);
    }
    return m;
  }();
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) return nullptr;
  BIO_set_data(bio, socket);
  BIO_set_init(bio, 1);
  return bio;
}

}  // namespace

SSLIOStream::SSLIOStream(int fd, std::shared_ptr<netutil::SSLContext> context,
                         std::string server_hostname, Options options)
    : IOStream(fd, options), context_(std::move(context)), server_hostname_(std::move(server_hostname)) {
  sent_ = true;  // the handshake sends first, outside write_to_fd: TCP_NODELAY goes at once
  ssl_ = SSL_new(context_->get());
  if (ssl_ == nullptr) throw netutil::SSLError(netutil::ssl_error_string("SSL_new"));
  socket_ = std::make_unique<TlsSocket>();
  socket_->fd = fd;
  BIO* bio = new_socket_bio(socket_.get());
  if (bio == nullptr) {
    SSL_free(ssl_);
    throw netutil::SSLError(netutil::ssl_error_string("BIO_new"));
  }
  SSL_set_bio(ssl_, bio, bio);  // one reference, for both directions
  // Already connected (accepted, or start_tls): the handshake starts on the first
  // WRITE event, as Tornado's does. Unconnected: connect() starts it.
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
    start_handshake();
    update_io_state();
  }
}

SSLIOStream::~SSLIOStream() {
  close();
  if (ssl_ != nullptr) SSL_free(ssl_);
}

void SSLIOStream::start_handshake() {
  if (handshake_started_) return;
  handshake_started_ = true;
  handshaking_ = true;
  ssl_want_ = IOLoop::WRITE;
  if (context_->server_side()) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (!server_hostname_.empty()) {
    if (!netutil::is_valid_ip(server_hostname_)) {
      SSL_set_tlsext_host_name(ssl_, server_hostname_.c_str());
    }
    if (context_->check_hostname()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      if (netutil::is_valid_ip(server_hostname_)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, server_hostname_.c_str());
      } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, server_hostname_.data(), server_hostname_.size());
      }
    }
  }
}

void SSLIOStream::handle_connect() {
  connecting_ = false;
  start_handshake();
  do_handshake();
}

void SSLIOStream::do_handshake() {
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    handshaking_ = false;
    handshake_done_ = true;
    ssl_want_ = 0;
    if (connect_future_) {
      auto f = std::move(*connect_future_);
      connect_future_.reset();
      f.set_result();
    }
    for (auto& f : handshake_futures_) f.set_result();
    handshake_futures_.clear();
    if (tls_future_) {
      auto f = std::move(*tls_future_);
      tls_future_.reset();
      f.set_result(std::move(self_));
    }
    // Reads and writes queued during the handshake proceed now.
    if (writing()) handle_write();
    if (!closed_ && reading()) BaseIOStream::handle_read();
    return;
  }
  const int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ) {
    ssl_want_ = IOLoop::READ;
    return;
  }
  if (err == SSL_ERROR_WANT_WRITE) {
    ssl_want_ = IOLoop::WRITE;
    return;
  }
  std::string msg;
  if (err == SSL_ERROR_SSL) {
    msg = netutil::ssl_error_string("handshake failed");
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      msg += std::string(" (certificate verify failed: ") + X509_verify_cert_error_string(verify) + ")";
    }
  } else if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0)) {
    msg = "handshake failed: connection closed by peer";
  } else {
    msg = std::string("handshake failed: ") + std::strerror(errno);
  }
  ERR_clear_error();
  std::string peer;
  try {
    peer = netutil::SocketAddress::peer_of(fd_).to_string();
  } catch (...) {
  }
  TORNADO_LOG_WARNING(log::gen_log(), "SSL Error on {} {}: {}", fd_, peer, msg);
  close(std::make_exception_ptr(netutil::SSLError(msg)));
}

void SSLIOStream::handle_events(int fd, std::uint32_t events) {
  // The loop saw bytes, or the end of the stream: the next read asks the socket again.
  if (events & (IOLoop::READ | IOLoop::RDHUP | IOLoop::ERROR)) socket_->drained = false;
  IOStream::handle_events(fd, events);
}

void SSLIOStream::handle_read() {
  if (!handshake_done_) {
    do_handshake();
    return;
  }
  BaseIOStream::handle_read();
}

void SSLIOStream::handle_write() {
  if (!handshake_done_) {
    if (handshaking_) do_handshake();
    return;
  }
  BaseIOStream::handle_write();
}

std::uint32_t SSLIOStream::desired_state() const {
  if (connecting_) return IOLoop::WRITE;
  if (!handshake_done_) return ssl_want_ != 0 ? ssl_want_ : IOLoop::READ;
  return BaseIOStream::desired_state();
}

std::size_t SSLIOStream::read_from_fd(char* buf, std::size_t n, IOResult& result) {
  if (!handshake_done_) {
    result = IOResult::kWouldBlock;
    return 0;
  }
  ERR_clear_error();
  const int r = SSL_read(ssl_, buf, static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
  if (r > 0) return static_cast<std::size_t>(r);
  const int err = SSL_get_error(ssl_, r);
  switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      result = IOResult::kWouldBlock;
      return 0;
    case SSL_ERROR_ZERO_RETURN:
      result = IOResult::kEOF;
      return 0;
    case SSL_ERROR_SYSCALL:
      if (errno == 0 || ERR_peek_error() == 0) {
        if (errno != 0 && errno != EPIPE) {  // a reset, mostly: no exception, as recv's
          io_errno_ = errno;
          result = IOResult::kError;
          return 0;
        }
        // The peer closed the TCP connection without close_notify: treat it as EOF, as
        // Tornado does (ragged EOFs are common).
        result = IOResult::kEOF;
        return 0;
      }
      [[fallthrough]];
    default:
      throw netutil::SSLError(netutil::ssl_error_string("SSL_read"));
  }
}

std::size_t SSLIOStream::write_to_fd(const iovec* iov, int iovcnt, IOResult& result) {
  // SSL_write takes one buffer: coalesce small chunks up to one TLS record (16 KB) so
  // many tiny writes do not become many tiny records. A retry after WANT_WRITE passes
  // the same (or a longer) prefix, as BoringSSL requires.
  const char* data = static_cast<const char*>(iov[0].iov_base);
  std::size_t len = iov[0].iov_len;
  constexpr std::size_t kRecord = 16384;
  if (len < kRecord && iovcnt > 1) {
    coalesce_.clear();
    for (int i = 0; i < iovcnt && coalesce_.size() < kRecord; ++i) {
      const std::size_t take = std::min(iov[i].iov_len, kRecord - coalesce_.size());
      coalesce_.append(static_cast<const char*>(iov[i].iov_base), take);
    }
    data = coalesce_.data();
    len = coalesce_.size();
  }
  ERR_clear_error();
  const int w = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(len, INT_MAX)));
  if (w > 0) return static_cast<std::size_t>(w);
  const int err = SSL_get_error(ssl_, w);
  if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
    result = IOResult::kWouldBlock;
    return 0;
  }
  if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno != 0) {
    io_errno_ = errno;
    result = IOResult::kError;
    return 0;
  }
  throw netutil::SSLError(netutil::ssl_error_string("SSL_write"));
}

void SSLIOStream::on_closed(const std::exception_ptr& exc) {
  IOStream::on_closed(exc);
  for (auto& f : handshake_futures_) f.set_exception(StreamClosedError(exc));
  handshake_futures_.clear();
  if (tls_future_) {
    auto f = std::move(*tls_future_);
    tls_future_.reset();
    f.set_exception(StreamClosedError(exc));
  }
  if (self_) {
    // Released on the next iteration: this may be the last reference to *this.
    loop_->add_callback([self = std::move(self_)]() mutable { self.reset(); });
  }
}

void SSLIOStream::shutdown_write() {
  if (ssl_ != nullptr && handshake_done_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // close_notify; the peer's comes later as a read's end
    ERR_clear_error();
  }
  IOStream::shutdown_write();
}

void SSLIOStream::close_fd() {
  if (ssl_ != nullptr && handshake_done_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // best effort close_notify; never waits for the peer's
    ERR_clear_error();
  }
  IOStream::close_fd();
}

Future<void> SSLIOStream::wait_for_handshake() {
  Future<void> f;
  if (handshake_done_) {
    f.set_result();
  } else if (closed_) {
    f.set_exception(closed_exception());
  } else {
    handshake_futures_.push_back(f);
  }
  return f;
}

std::string SSLIOStream::selected_alpn_protocol() const {
  const uint8_t* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return std::string(reinterpret_cast<const char*>(p), len);
}

std::string SSLIOStream::server_name() const {
  const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return name ? name : "";
}

std::string SSLIOStream::version() const { return SSL_get_version(ssl_); }

bool SSLIOStream::session_reused() const { return SSL_session_reused(ssl_) == 1; }

}  // namespace tornado::iostream
