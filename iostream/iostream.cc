// iostream: BaseIOStream, IOStream, PipeIOStream (SSLIOStream is in ssl_iostream.cc).
#include "iostream/iostream.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

#include "log/log.h"
#include "re2/re2.h"
#include "util/util.h"

namespace tornado::iostream {

using ioloop::IOLoop;

namespace {

std::string closed_message(const std::exception_ptr& e) {
  if (!e) return "Stream is closed";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return std::string("Stream is closed: ") + ex.what();
  } catch (...) {
    return "Stream is closed";
  }
}

bool is_connreset(const std::exception_ptr& e) {
  auto err = util::errno_from_exception(e);
  return err && util::errno_connection_reset(*err);
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// One read from a socket or pipe: bytes read, or EOF / would-block / error (its errno in
// `error`) in `result`; retries on EINTR.
// (Result is BaseIOStream::IOResult, deduced: the type is protected.)
template <typename ReadCall, typename Result>
std::size_t read_retrying(ReadCall read_call, Result& result, int& error) {
  for (;;) {
    const ssize_t r = read_call();
    if (r > 0) return static_cast<std::size_t>(r);
    if (r == 0) {
      result = Result::kEOF;
      return 0;
    }
    if (errno == EINTR) continue;
    if (util::errno_would_block(errno)) {
      result = Result::kWouldBlock;
      return 0;
    }
    error = errno;
    result = Result::kError;
    return 0;
  }
}

}  // namespace

StreamClosedError::StreamClosedError(std::exception_ptr real_error)
    : std::runtime_error(closed_message(real_error)), real_error_(std::move(real_error)) {}

// ---- ReadBuffer -----------------------------------------------------------------------

namespace {

constexpr std::size_t kScratchSize = kDefaultReadChunkSize;

char* scratch_block() {
  thread_local const std::unique_ptr<char[]> block =
      std::make_unique_for_overwrite<char[]>(kScratchSize);
  return block.get();
}

}  // namespace

char* ReadBuffer::prepare(std::size_t n) {
  if (empty() && !on_scratch_ && n <= kScratchSize) {
    base_ = scratch_block();
    on_scratch_ = true;
    begin_ = end_ = 0;
    return base_;
  }
  const std::size_t capacity = on_scratch_ ? kScratchSize : own_capacity_;
  if (capacity - end_ >= n) return base_ + end_;
  const std::size_t live = size();
  // Slide the live bytes to the front only when the consumed prefix is at least as large
  // as them: each byte is moved O(1) times on average, so reads stay linear.
  if (!on_scratch_ && begin_ >= live && capacity - live >= n) {
    std::memmove(base_, base_ + begin_, live);
  } else {
    const std::size_t cap = std::max(capacity * 2, live + n);
    auto fresh = std::make_unique_for_overwrite<char[]>(cap);
    if (live) std::memcpy(fresh.get(), base_ + begin_, live);
    own_ = std::move(fresh);
    own_capacity_ = cap;
    base_ = own_.get();
    on_scratch_ = false;
  }
  begin_ = 0;
  end_ = live;
  return base_ + end_;
}

void ReadBuffer::release_scratch() {
  if (!on_scratch_) return;
  on_scratch_ = false;
  const std::size_t live = size();
  const char* from = base_ + begin_;
  if (live > own_capacity_) {
    own_ = std::make_unique_for_overwrite<char[]>(live);
    own_capacity_ = live;
  }
  if (live) std::memcpy(own_.get(), from, live);
  base_ = own_.get();
  begin_ = 0;
  end_ = live;
}

std::string ReadBuffer::take(std::size_t n) {
  std::string out(data(), n);
  consume(n);
  return out;
}

void ReadBuffer::consume(std::size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

// ---- BaseIOStream ---------------------------------------------------------------------

BaseIOStream::BaseIOStream(Options options) : loop_(IOLoop::current()), options_(options) {}

BaseIOStream::~BaseIOStream() = default;

void BaseIOStream::start_read(ReadKind kind) {
  if (reading()) throw std::logic_error("Already reading");
  read_kind_ = kind;
}

Future<std::string> BaseIOStream::read_bytes(std::size_t num_bytes, bool partial) {
  if (num_bytes > options_.max_buffer_size) {
    throw std::invalid_argument("read_bytes: num_bytes exceeds max_buffer_size");
  }
  start_read(ReadKind::kBytes);
  read_bytes_ = num_bytes;
  read_partial_ = partial;
  Future<std::string> f;
  read_future_ = f;
  try_inline_read();
  return f;
}

Future<std::string> BaseIOStream::read_until(std::string delimiter, std::optional<std::size_t> max_bytes) {
  if (delimiter.empty()) throw std::invalid_argument("read_until: empty delimiter");
  start_read(ReadKind::kUntil);
  read_delimiter_ = std::move(delimiter);
  read_max_bytes_ = max_bytes;
  delimiter_scanned_ = 0;
  Future<std::string> f;
  read_future_ = f;
  try_inline_read();
  return f;
}

Future<std::string> BaseIOStream::read_until_regex(std::string regex, std::optional<std::size_t> max_bytes) {
  auto re = std::make_unique<re2::RE2>(regex, re2::RE2::Latin1);
  if (!re->ok()) throw std::invalid_argument("read_until_regex: " + re->error());
  start_read(ReadKind::kRegex);
  read_regex_ = std::move(re);
  read_max_bytes_ = max_bytes;
  Future<std::string> f;
  read_future_ = f;
  try_inline_read();
  return f;
}

Future<std::size_t> BaseIOStream::read_into(std::span<char> buffer, bool partial) {
  start_read(ReadKind::kInto);
  read_into_ = buffer;
  read_partial_ = partial;
  Future<std::size_t> f;
  read_into_future_ = f;
  try_inline_read();
  return f;
}

Future<std::string> BaseIOStream::read_until_close() {
  start_read(ReadKind::kUntilClose);
  Future<std::string> f;
  read_future_ = f;
  if (closed_) {
    finish_read(read_buffer_.size());
    return f;
  }
  try_inline_read();
  return f;
}

std::optional<std::size_t> BaseIOStream::find_read_pos() {
  const std::size_t size = read_buffer_.size();
  switch (read_kind_) {
    case ReadKind::kNone:
    case ReadKind::kUntilClose:
      return std::nullopt;
    case ReadKind::kBytes:
    case ReadKind::kInto: {
      const std::size_t want = read_kind_ == ReadKind::kBytes ? read_bytes_ : read_into_.size();
      if (size >= want) return want;
      if (read_partial_ && size > 0) return size;
      return std::nullopt;
    }
    case ReadKind::kUntil: {
      const std::size_t dlen = read_delimiter_.size();
      const std::size_t from = delimiter_scanned_ >= dlen ? delimiter_scanned_ - dlen + 1 : 0;
      const std::size_t loc = read_buffer_.view().find(read_delimiter_, from);
      if (loc != std::string_view::npos) {
        check_max_bytes(loc + dlen);
        return loc + dlen;
      }
      delimiter_scanned_ = size;
      check_max_bytes(size);
      return std::nullopt;
    }
    case ReadKind::kRegex: {
      re2::StringPiece input(read_buffer_.data(), size);
      re2::StringPiece match;
      if (read_regex_->Match(input, 0, size, re2::RE2::UNANCHORED, &match, 1)) {
        const std::size_t end = static_cast<std::size_t>(match.data() + match.size() - input.data());
        check_max_bytes(end);
        return end;
      }
      check_max_bytes(size);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

void BaseIOStream::check_max_bytes(std::size_t size) {
  if (read_max_bytes_ && size > *read_max_bytes_) {
    throw UnsatisfiableReadError("delimiter not found within " + std::to_string(*read_max_bytes_) +
                                 " bytes");
  }
}

bool BaseIOStream::try_finish_read() {
  if (!reading()) return true;
  try {
    if (auto pos = find_read_pos()) {
      finish_read(*pos);
      return true;
    }
  } catch (const UnsatisfiableReadError& e) {
    TORNADO_LOG_INFO(log::gen_log(), "Unsatisfiable read, closing connection: {}", e.what());
    close(std::current_exception());
    return true;
  }
  return false;
}

void BaseIOStream::finish_read(std::size_t pos) {
  const ReadKind kind = read_kind_;
  read_kind_ = ReadKind::kNone;
  read_regex_.reset();
  if (kind == ReadKind::kInto) {
    if (pos) std::memcpy(read_into_.data(), read_buffer_.data(), pos);
    read_buffer_.consume(pos);
    auto f = std::move(*read_into_future_);
    read_into_future_.reset();
    read_into_ = {};
    f.set_result(pos);
  } else {
    auto f = std::move(*read_future_);
    read_future_.reset();
    f.set_result(read_buffer_.take(pos));
  }
}

void BaseIOStream::try_inline_read() {
  if (try_finish_read()) return;
  if (closed_) {
    // Nothing more will arrive: fail the read now.
    signal_closed();
    return;
  }
  // Tornado tries the fd here every time; when the last read already emptied it (a
  // short read) and the loop has not reported it readable since, that read would only
  // return EAGAIN (about one wasted recv per message in request/response traffic), so
  // wait for the loop instead. Nor is a socket or pipe tried before it is registered:
  // the edge-triggered registration reports what it holds already, and a new
  // connection's first read often comes before the request (an EAGAIN per connection).
  const bool registers_edge_triggered = !handler_added_ && short_read_drains();
  if (!fd_drained_ && !registers_edge_triggered) read_to_buffer_loop();
  const bool finished = closed_ || try_finish_read();  // if closed, close() settled it
  read_buffer_.release_scratch();
  if (closed_) return;
  if (finished) {
    update_io_state();
    return;
  }
  // About to wait for the peer, which may be waiting for what is held.
  flush_held_writes();
  if (closed_) return;
  update_io_state();
}

void BaseIOStream::read_to_buffer_loop() {
  while (!closed_) {
    if (!read_to_buffer()) break;
    // Stop as soon as the pending read is satisfied (the rest stays in the kernel).
    if (reading() && read_kind_ != ReadKind::kUntilClose) {
      bool done = false;
      try {
        done = find_read_pos().has_value();
      } catch (const UnsatisfiableReadError&) {
        done = true;
      }
      if (done) break;
    }
  }
}

bool BaseIOStream::read_to_buffer() {
  char* p = read_buffer_.prepare(options_.read_chunk_size);
  IOResult result = IOResult::kOk;
  std::size_t n = 0;
  fd_drained_ = false;
  try {
    n = read_from_fd(p, options_.read_chunk_size, result);
  } catch (...) {
    auto e = std::current_exception();
    if (!is_connreset(e)) {
      TORNADO_LOG_WARNING(log::gen_log(), "Read error on {}: {}", fileno(), closed_message(e));
    }
    close(e);
    return false;
  }
  if (result == IOResult::kError) {
    close_on_io_error(io_errno_, "read");
    return false;
  }
  if (n == 0) {
    if (result == IOResult::kEOF) close();
    if (result == IOResult::kWouldBlock) fd_drained_ = short_read_drains();
    return false;
  }
  read_buffer_.commit(n);
  if (read_buffer_.size() > options_.max_buffer_size) {
    TORNADO_LOG_ERROR(log::gen_log(), "Reached maximum read buffer size");
    close(std::make_exception_ptr(StreamBufferFullError("Reached maximum read buffer size")));
    return false;
  }
  if (n < options_.read_chunk_size && short_read_drains() && !eof_pending_) {
    fd_drained_ = true;
    return false;  // the fd is empty: the loop says when more arrives
  }
  return true;
}

void BaseIOStream::close_on_io_error(int err, const char* call) {
  std::system_error error(err, std::generic_category(), call);
  if (!util::errno_connection_reset(err)) {
    TORNADO_LOG_WARNING(log::gen_log(), "I/O error on {}: {}", fileno(), error.what());
  }
  close_message_ = std::string("Stream is closed: ") + error.what();
  close(std::make_exception_ptr(std::move(error)));
}

StreamClosedError BaseIOStream::closed_exception() {
  if (!error_) return StreamClosedError();
  if (close_message_.empty()) close_message_ = closed_message(error_);
  return StreamClosedError(error_, close_message_);
}

void BaseIOStream::handle_read() {
  read_to_buffer_loop();
  if (!closed_) try_finish_read();
  read_buffer_.release_scratch();
}

bool BaseIOStream::enqueue_write(std::string data, Future<void>& f) {
  if (closed_) {
    f.set_exception(closed_exception());
    return false;
  }
  if (options_.max_write_buffer_size != 0 &&
      write_buffer_size_ + data.size() > options_.max_write_buffer_size) {
    f.set_exception(StreamBufferFullError("Reached maximum write buffer size"));
    return false;
  }
  if (!data.empty()) {
    total_write_index_ += data.size();
    write_buffer_size_ += data.size();
    write_buffer_.emplace_back(std::move(data));
  }
  write_futures_.emplace_back(total_write_index_, f);
  return true;
}

Future<void> BaseIOStream::write(std::string data) {
  Future<void> f;
  if (!enqueue_write(std::move(data), f)) return f;
  write_held_ = false;
  if (can_write_now()) {
    handle_write();
    if (closed_) return f;
  }
  update_io_state();
  return f;
}

Future<void> BaseIOStream::write_batched(std::string data) {
  Future<void> f;
  if (!enqueue_write(std::move(data), f)) return f;
  write_held_ = true;
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    loop_->add_callback([this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.expired()) return;
      flush_scheduled_ = false;
      flush_held_writes();
    });
  }
  return f;
}

void BaseIOStream::flush_held_writes() {
  if (!write_held_ || closed_) return;
  write_held_ = false;
  if (can_write_now()) {
    handle_write();
    if (closed_) return;
  }
  update_io_state();
}

void BaseIOStream::handle_write() {
  if (!can_write_now()) return;
  write_held_ = false;
  while (write_buffer_size_ > 0) {
    iovec iov[64];
    int n = 0;
    std::size_t offset = write_buffer_first_offset_;
    for (auto it = write_buffer_.begin(); it != write_buffer_.end() && n < 64; ++it, offset = 0) {
      iov[n].iov_base = const_cast<char*>(it->data() + offset);
      iov[n].iov_len = it->size() - offset;
      ++n;
    }
    IOResult result = IOResult::kOk;
    std::size_t written = 0;
    try {
      written = write_to_fd(iov, n, result);
    } catch (...) {
      auto e = std::current_exception();
      if (!is_connreset(e)) {
        TORNADO_LOG_WARNING(log::gen_log(), "Write error on {}: {}", fileno(), closed_message(e));
      }
      close(e);
      return;
    }
    if (result == IOResult::kError) {
      close_on_io_error(io_errno_, "write");
      return;
    }
    if (written == 0) break;
    write_buffer_size_ -= written;
    total_write_done_index_ += written;
    while (written > 0) {
      const std::size_t left = write_buffer_.front().size() - write_buffer_first_offset_;
      if (written >= left) {
        written -= left;
        write_buffer_.pop_front();
        write_buffer_first_offset_ = 0;
      } else {
        write_buffer_first_offset_ += written;
        written = 0;
      }
    }
  }
  while (!write_futures_.empty() && write_futures_.front().first <= total_write_done_index_) {
    auto f = std::move(write_futures_.front().second);
    write_futures_.pop_front();
    f.set_result();
  }
}

void BaseIOStream::set_close_callback(std::function<void()> callback) {
  close_callback_ = std::move(callback);
  if (closed_ && close_callback_) signal_closed();
}

void BaseIOStream::close(std::exception_ptr error) {
  if (closed_) return;
  // Held bytes were accepted as written: give them to the kernel first (a write error
  // closes the stream on the way).
  if (write_held_ && !error) {
    flush_held_writes();
    if (closed_) return;
  }
  if (error) error_ = error;
  if (read_kind_ == ReadKind::kUntilClose && !error_) {
    finish_read(read_buffer_.size());
  } else if (reading()) {
    try {
      if (auto pos = find_read_pos()) finish_read(*pos);
    } catch (const UnsatisfiableReadError&) {
    }
  }
  closed_ = true;
  if (handler_added_) {
    loop_->remove_handler_before_close(fileno());
    handler_added_ = false;
  }
  close_fd();
  on_closed(error_);
  signal_closed();
}

void BaseIOStream::signal_closed() {
  if (read_future_) {
    auto f = std::move(*read_future_);
    read_future_.reset();
    read_kind_ = ReadKind::kNone;
    f.set_exception(closed_exception());
  }
  if (read_into_future_) {
    auto f = std::move(*read_into_future_);
    read_into_future_.reset();
    read_kind_ = ReadKind::kNone;
    f.set_exception(closed_exception());
  }
  read_kind_ = ReadKind::kNone;
  while (!write_futures_.empty()) {
    auto f = std::move(write_futures_.front().second);
    write_futures_.pop_front();
    f.set_exception(closed_exception());
  }
  write_buffer_.clear();
  write_buffer_size_ = 0;
  if (close_callback_) {
    loop_->add_callback([cb = std::move(close_callback_)]() mutable { cb(); });
    close_callback_ = nullptr;
  }
}

std::uint32_t BaseIOStream::desired_state() const {
  std::uint32_t s = 0;
  if (reading()) s |= IOLoop::READ;
  if (writing() && !write_held_) s |= IOLoop::WRITE;
  // Idle: listen for reads anyway to notice the peer closing (Tornado does the same).
  if (s == 0 && read_buffer_.empty()) s |= IOLoop::READ;
  return s;
}

std::uint32_t IOStream::desired_state() const {
  // A non-blocking connect() finishes when the socket turns writable, so listen for
  // WRITE while connecting even with no write queued (as Tornado's IOStream.connect).
  return BaseIOStream::desired_state() | (connecting_ ? IOLoop::WRITE : 0u);
}

void BaseIOStream::update_io_state() {
  if (closed_ || (handler_added_ && edge_triggered_)) return;
  const std::uint32_t s = desired_state();
  if (!handler_added_) {
    // Edge-triggered needs to know when the fd is empty without asking the loop: only
    // where a short read proves it (sockets, pipes). The loop then wakes us on each new arrival
    // and each time a full send buffer frees space (as nginx registers connections).
    edge_triggered_ = short_read_drains();
    const std::uint32_t events =
        edge_triggered_ ? (IOLoop::READ | IOLoop::WRITE | IOLoop::RDHUP | IOLoop::EDGE) : s;
    loop_->add_handler(
        fileno(), [this](int fd, std::uint32_t events) { handle_events(fd, events); }, events);
    handler_added_ = true;
    state_ = events;
  } else if (s != state_) {
    loop_->update_handler(fileno(), s);
    state_ = s;
  }
}

void BaseIOStream::handle_events(int fd, std::uint32_t events) {
  if (closed_) return;
  if (events & IOLoop::READ) {
    fd_drained_ = false;
    // The end of the stream is there to read: a short read no longer proves the fd empty
    // (read on until recv says EOF; edge-triggered, nothing else would report it).
    if (events & (IOLoop::RDHUP | IOLoop::ERROR)) eof_pending_ = true;
    // Idle with input buffered, new bytes stay in the kernel until a read asks (what a
    // level-triggered stream does by not listening for READ then).
    if (reading() || read_buffer_.empty()) handle_read();
  }
  if (closed_) return;
  if (events & IOLoop::WRITE) handle_write();
  if (closed_) return;
  if ((events & IOLoop::ERROR) && !(events & IOLoop::READ)) {
    close(fd_error());
    return;
  }
  update_io_state();
}

// ---- IOStream -------------------------------------------------------------------------

IOStream::IOStream(int fd, Options options) : BaseIOStream(options), fd_(fd) {
  if (!options.fd_is_nonblocking) set_nonblocking(fd);
}

IOStream::~IOStream() { close(); }

std::size_t IOStream::read_from_fd(char* buf, std::size_t n, IOResult& result) {
  return read_retrying([&] { return ::recv(fd_, buf, n, 0); }, result, io_errno_);
}

std::size_t IOStream::write_to_fd(const iovec* iov, int iovcnt, IOResult& result) {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = static_cast<std::size_t>(iovcnt);
  if (sent_ && nodelay_wanted_ != nodelay_applied_) apply_nodelay();
  for (;;) {
    // One buffer (a whole response, usually): send() skips sendmsg's msghdr and iovec
    // import. MSG_NOSIGNAL either way: a closed peer is an error, not SIGPIPE.
    const ssize_t w = iovcnt == 1 ? ::send(fd_, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL)
                                  : ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (w > 0) sent_ = true;
    if (w >= 0) return static_cast<std::size_t>(w);
    if (errno == EINTR) continue;
    if (util::errno_would_block(errno)) {
      result = IOResult::kWouldBlock;
      return 0;
    }
    io_errno_ = errno;
    result = IOResult::kError;
    return 0;
  }
}

void IOStream::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::exception_ptr IOStream::fd_error() {
  int err = 0;
  socklen_t len = sizeof(err);
  if (fd_ >= 0 && getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
    return std::make_exception_ptr(std::system_error(err, std::generic_category(), "socket error"));
  }
  return nullptr;
}

void IOStream::set_nodelay(bool value) {
  nodelay_wanted_ = value;
  if (sent_) apply_nodelay();  // else before the second send (write_to_fd)
}

void IOStream::apply_nodelay() {
  if (fd_ < 0 || nodelay_wanted_ == nodelay_applied_) return;
  const int v = nodelay_wanted_ ? 1 : 0;
  // Fails harmlessly (EOPNOTSUPP / EINVAL) on non-TCP sockets or reset connections.
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
  nodelay_applied_ = nodelay_wanted_;
}

void IOStream::shutdown_write() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

Future<void> IOStream::connect(netutil::SocketAddress address, std::string server_hostname) {
  Future<void> f;
  if (closed_) {
    f.set_exception(closed_exception());
    return f;
  }
  connect_future_ = f;
  connecting_ = true;
  if (auto* ssl = dynamic_cast<SSLIOStream*>(this); ssl != nullptr && !server_hostname.empty()) {
    ssl->server_hostname_ = std::move(server_hostname);
  }
  int rc;
  do {
    rc = ::connect(fd_, address.sockaddr_ptr(), address.length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && !util::errno_in_progress(errno) && !util::errno_would_block(errno)) {
    const int err = errno;
    TORNADO_LOG_WARNING(log::gen_log(), "Connect error on fd {}: {}", fd_, std::strerror(err));
    close(std::make_exception_ptr(std::system_error(err, std::generic_category(), "connect")));
    return f;
  }
  update_io_state();  // WRITE: the connect finished (or failed)
  return f;
}

void IOStream::handle_events(int fd, std::uint32_t events) {
  if (closed_) return;
  if (connecting_) {
    if (!(events & (IOLoop::WRITE | IOLoop::ERROR))) return;
    if (auto err = fd_error()) {
      TORNADO_LOG_WARNING(log::gen_log(), "Connect error on fd {}: {}", fd_, closed_message(err).substr(18));
      close(err);
      return;
    }
    handle_connect();
    if (!closed_) update_io_state();
    return;
  }
  BaseIOStream::handle_events(fd, events);
}

void IOStream::handle_connect() {
  connecting_ = false;
  if (connect_future_) {
    auto f = std::move(*connect_future_);
    connect_future_.reset();
    f.set_result();
  }
  if (writing()) handle_write();
}

void IOStream::on_closed(const std::exception_ptr& exc) {
  if (connect_future_) {
    auto f = std::move(*connect_future_);
    connect_future_.reset();
    f.set_exception(closed_exception());
  }
}

Future<std::shared_ptr<SSLIOStream>> IOStream::start_tls(bool server_side,
                                                         std::shared_ptr<netutil::SSLContext> context,
                                                         std::string server_hostname) {
  if (reading() || writing() || !read_buffer_.empty() || connecting_ || closed_) {
    throw std::logic_error("IOStream is not idle; cannot convert to SSL");
  }
  if (context->server_side() != server_side) {
    throw std::invalid_argument("start_tls: context built for the other side");
  }
  if (handler_added_) {
    loop_->remove_handler(fd_);
    handler_added_ = false;
  }
  const int fd = std::exchange(fd_, -1);
  closed_ = true;  // without a close callback: the socket lives on in the SSL stream
  auto ssl = std::make_shared<SSLIOStream>(fd, std::move(context), std::move(server_hostname), options_);
  if (nodelay_wanted_) ssl->set_nodelay(true);  // asked for here, maybe not applied yet
  Future<std::shared_ptr<SSLIOStream>> f;
  ssl->tls_future_ = f;
  ssl->self_ = ssl;
  return f;
}

// ---- PipeIOStream ---------------------------------------------------------------------

PipeIOStream::PipeIOStream(int fd, Options options) : BaseIOStream(options), fd_(fd) {
  if (!options.fd_is_nonblocking) set_nonblocking(fd);
}

PipeIOStream::~PipeIOStream() { close(); }

std::size_t PipeIOStream::read_from_fd(char* buf, std::size_t n, IOResult& result) {
  return read_retrying([&] { return ::read(fd_, buf, n); }, result, io_errno_);
}

std::size_t PipeIOStream::write_to_fd(const iovec* iov, int iovcnt, IOResult& result) {
  // A pipe has no MSG_NOSIGNAL: block SIGPIPE on this thread around the write and
  // discard one it raised, so a gone reader is an EPIPE error, not a dead process.
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t w;
  do {
    w = ::writev(fd_, iov, std::min(iovcnt, IOV_MAX));
  } while (w < 0 && errno == EINTR);
  const int err = errno;
  if (w < 0 && err == EPIPE) {
    timespec zero{};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (w >= 0) return static_cast<std::size_t>(w);
  if (util::errno_would_block(err)) {
    result = IOResult::kWouldBlock;
    return 0;
  }
  io_errno_ = err;
  result = IOResult::kError;
  return 0;
}

void PipeIOStream::close_fd() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace tornado::iostream
