// tornado::iostream, Tornado's tornado.iostream: BaseIOStream (buffered non-blocking
// reads and writes driven by the IOLoop), IOStream (sockets, connect, start_tls),
// SSLIOStream (TLS over BoringSSL) and PipeIOStream (pipes), plus their errors.
//
// Threading: a stream belongs to the thread of the IOLoop current when it was created.
// A stream may live anywhere (stack, unique_ptr, shared_ptr); destroying it closes it,
// and callbacks it had scheduled do nothing afterwards. Futures it returned that are
// still pending then fail with StreamClosedError.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "concurrent/future.h"
#include "ioloop/ioloop.h"
#include "iostream/fifo.h"
#include "netutil/netutil.h"

typedef struct ssl_st SSL;
namespace re2 {
class RE2;
}

namespace tornado::iostream {

using concurrent::Future;

// Raised by stream operations once the stream is closed. real_error() is the error that
// closed it (a std::system_error with the errno, an SSLError, ...), or null for a clean
// close by either side.
class StreamClosedError : public std::runtime_error {
 public:
  explicit StreamClosedError(std::exception_ptr real_error = nullptr);
  // With its message given (the first one rethrows real_error to read it).
  StreamClosedError(std::exception_ptr real_error, const std::string& message)
      : std::runtime_error(message), real_error_(std::move(real_error)) {}
  const std::exception_ptr& real_error() const { return real_error_; }

 private:
  std::exception_ptr real_error_;
};

// A read could not be satisfied within max_bytes (read_until, read_until_regex).
class UnsatisfiableReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A buffer reached max_buffer_size / max_write_buffer_size.
class StreamBufferFullError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Tornado's default max_buffer_size (100 MB) and read chunk size (64 KB).
inline constexpr std::size_t kDefaultMaxBufferSize = 104857600;
inline constexpr std::size_t kDefaultReadChunkSize = 65536;

// The read buffer: one contiguous block with a start offset, so consuming a prefix is
// O(1) and never copies the rest (Tornado's bytearray + _read_buffer_pos). An empty
// buffer reads into the thread's scratch block rather than its own storage, so request/
// response traffic on many connections keeps landing in the same cache-hot memory and a
// connection holds no read storage between messages; release_scratch() moves what is
// left into the buffer's own storage.
class ReadBuffer {
 public:
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  const char* data() const { return base_ + begin_; }
  std::string_view view() const { return {data(), size()}; }
  // A writable tail of at least `n` bytes; commit(k) adds the k bytes written there.
  char* prepare(std::size_t n);
  void commit(std::size_t n) { end_ += n; }
  // Removes and returns the first n bytes.
  std::string take(std::size_t n);
  void consume(std::size_t n);
  // Gives the scratch block back, keeping the bytes still in it. Must run before another
  // buffer of this thread reads (at the end of each read pass).
  void release_scratch();

 private:
  char* base_ = nullptr;  // own_.get() or the thread's scratch block
  bool on_scratch_ = false;
  std::unique_ptr<char[]> own_;
  std::size_t own_capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

// Buffered non-blocking I/O over one fd (Tornado's BaseIOStream). One read may be pending
// at a time (a second gives std::logic_error "Already reading"); writes queue. Read
// futures complete on the loop when satisfied, or fail with StreamClosedError (its
// real_error says why) when the stream closes first; writes likewise.
class BaseIOStream {
 public:
  struct Options {
    std::size_t max_buffer_size = kDefaultMaxBufferSize;
    std::size_t read_chunk_size = kDefaultReadChunkSize;
    // 0: unlimited (Tornado's None).
    std::size_t max_write_buffer_size = 0;
    // The fd is O_NONBLOCK already (accept4 with SOCK_NONBLOCK, as TCPServer's are): the
    // constructor skips its fcntl check. Not in Tornado.
    bool fd_is_nonblocking = false;
  };

  explicit BaseIOStream(Options options);
  virtual ~BaseIOStream();
  BaseIOStream(const BaseIOStream&) = delete;
  BaseIOStream& operator=(const BaseIOStream&) = delete;

  // The fd (or -1 once closed).
  virtual int fileno() const = 0;

  // Reads `num_bytes` bytes; with `partial`, completes with what is available once at
  // least one byte is (up to num_bytes). std::invalid_argument if num_bytes exceeds
  // max_buffer_size.
  Future<std::string> read_bytes(std::size_t num_bytes, bool partial = false);
  // Reads up to and including `delimiter`. With max_bytes, fails (and closes the stream
  // with UnsatisfiableReadError as its error, logging to gen_log at INFO) once more than
  // max_bytes arrive without the delimiter within them.
  Future<std::string> read_until(std::string delimiter,
                                 std::optional<std::size_t> max_bytes = std::nullopt);
  // Reads up to and including the end of the first match of the RE2 `regex`; max_bytes
  // as read_until. std::invalid_argument for an invalid regex.
  Future<std::string> read_until_regex(std::string regex,
                                       std::optional<std::size_t> max_bytes = std::nullopt);
  // Reads into `buffer` (which must outlive the future) until it is full, or with
  // `partial` once at least one byte is there. Completes with the byte count.
  Future<std::size_t> read_into(std::span<char> buffer, bool partial = false);
  // Reads everything until the peer closes; completes with it (fails with
  // StreamClosedError only if closed with an error, e.g. StreamBufferFullError).
  Future<std::string> read_until_close();

  // Queues `data` (moved, never copied again) and writes as much as the fd takes, with
  // writev across queued chunks. Completes when all data written so far (this and
  // earlier writes) reached the kernel. Fails with StreamClosedError if the stream is
  // or becomes closed first, StreamBufferFullError beyond max_write_buffer_size.
  Future<void> write(std::string data);
  // Like write(), but the bytes wait in the write buffer so that several small writes
  // leave in one system call (responses to pipelined HTTP requests). Held bytes go out
  // with the next write(), before the stream waits for input, on close(), and at the
  // latest from a loop callback queued here. Completion and errors as write().
  Future<void> write_batched(std::string data);

  // Called (on the loop) once when the stream closes, after pending futures fail.
  void set_close_callback(std::function<void()> callback);
  // Closes the stream, keeping `error` as the reason (error()). Idempotent.
  void close(std::exception_ptr error = nullptr);
  bool closed() const { return closed_; }
  // The error that closed the stream, or null.
  std::exception_ptr error() const { return error_; }
  // True while a read is pending / data waits to be written.
  bool reading() const { return read_kind_ != ReadKind::kNone; }
  bool writing() const { return write_buffer_size_ > 0; }
  // Bytes queued and not yet written.
  std::size_t write_buffer_size() const { return write_buffer_size_; }
  // TCP_NODELAY for sockets (a no-op for others).
  virtual void set_nodelay(bool value) {}
  // Ends this side's sending while reads go on (a staged close): sockets shut their write
  // side after the queued bytes, TLS sends close_notify first; others do nothing. Call it
  // with nothing left to write. Not in Tornado.
  virtual void shutdown_write() {}

  std::size_t max_buffer_size() const { return options_.max_buffer_size; }
  void set_max_buffer_size(std::size_t n) { options_.max_buffer_size = n; }
  void set_max_write_buffer_size(std::size_t n) { options_.max_write_buffer_size = n; }
  std::size_t read_buffer_size() const { return read_buffer_.size(); }

 protected:
  enum class IOResult { kOk, kWouldBlock, kEOF, kError };
  // Reads into buf; returns bytes (>0), or 0 with result kWouldBlock, kEOF or kError
  // (the errno in io_errno_). Sockets, pipes and TLS streams report system-call errors
  // so: a reset ends many connections, and a thrown exception costs ~12,000
  // instructions. Others may throw (a TLS protocol error throws SSLError).
  virtual std::size_t read_from_fd(char* buf, std::size_t n, IOResult& result) = 0;
  // Writes from the iovecs; returns bytes written, or 0 with kWouldBlock or kError (as
  // read_from_fd).
  virtual std::size_t write_to_fd(const iovec* iov, int iovcnt, IOResult& result) = 0;
  int io_errno_ = 0;
  // Closes the fd (close() counts on it to end an edge-triggered epoll registration).
  virtual void close_fd() = 0;
  // Handles READ/WRITE/ERROR; subclasses hook connect / handshake here.
  virtual void handle_events(int fd, std::uint32_t events);
  virtual void handle_read();
  virtual void handle_write();
  // True if a read_from_fd() that returned fewer bytes than asked for proves the fd had
  // nothing more at that moment (sockets, pipes), so reading again before the loop
  // reports the fd readable would only return EAGAIN. Not for TLS: the library may hold
  // decrypted bytes the fd's readiness does not show.
  virtual bool short_read_drains() const { return false; }
  // For a pending error on the fd (ERROR event): the SO_ERROR of a socket.
  virtual std::exception_ptr fd_error() { return nullptr; }
  // Closed-callback hook for subclasses (pending connect / handshake futures).
  virtual void on_closed(const std::exception_ptr& exc) {}

  // The events to listen for now (Tornado's _add_io_state bookkeeping, recomputed).
  virtual std::uint32_t desired_state() const;
  // May queued data be written now (not while connecting or handshaking)?
  virtual bool can_write_now() const { return true; }
  void update_io_state();
  std::uint32_t state_ = 0;
  bool handler_added_ = false;
  // Registered once for READ | WRITE | RDHUP | EDGE (where a short read drains the fd):
  // state changes then cost no epoll_ctl, and the loop stops re-checking the fd each
  // iteration. fd_drained_ and a short write say what the fd still holds.
  bool edge_triggered_ = false;
  ioloop::IOLoop* loop_;
  // Expires with the stream: loop callbacks queued by it check this first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  void run_streaming_checks();
  void try_inline_read();
  void read_to_buffer_loop();
  bool read_to_buffer();
  // Closes the stream for a `call` ("read", "write") that failed with errno `err`.
  void close_on_io_error(int err, const char* call);
  // What a future of the closed stream fails with. Its message is made once per stream.
  StreamClosedError closed_exception();
  void detach_for_tls();

  Options options_;
  ReadBuffer read_buffer_;
  internal::Fifo<std::string> write_buffer_;
  std::size_t write_buffer_first_offset_ = 0;
  std::size_t write_buffer_size_ = 0;
  std::uint64_t total_write_index_ = 0;
  std::uint64_t total_write_done_index_ = 0;
  internal::Fifo<std::pair<std::uint64_t, Future<void>>> write_futures_;
  bool closed_ = false;
  std::exception_ptr error_;
  std::string close_message_;  // "Stream is closed: <error_'s what()>", once needed
  // The last read_from_fd() was short (and short_read_drains()): nothing to read until
  // the loop reports READ again, so reads do not try the fd inline meanwhile.
  bool fd_drained_ = false;
  // The loop reported the peer's end of stream (RDHUP / HUP): read until EOF.
  bool eof_pending_ = false;
  // write_batched() bytes wait in write_buffer_ (no send yet, nor WRITE interest when
  // level-triggered).
  bool write_held_ = false;
  bool flush_scheduled_ = false;

 private:
  enum class ReadKind { kNone, kBytes, kUntil, kRegex, kInto, kUntilClose };
  void start_read(ReadKind kind);
  // Where the pending read is satisfied, if it is; throws UnsatisfiableReadError.
  std::optional<std::size_t> find_read_pos();
  // Finishes the pending read from the buffer if it can; closes the stream on an
  // unsatisfiable read. True if the read is no longer pending.
  bool try_finish_read();
  void finish_read(std::size_t pos);
  void check_max_bytes(std::size_t scanned);
  void signal_closed();
  // Queues data and its future; false (the future failed) if the stream cannot take it.
  bool enqueue_write(std::string data, Future<void>& f);
  // Writes held bytes now, as write() would have.
  void flush_held_writes();

  std::function<void()> close_callback_;
  ReadKind read_kind_ = ReadKind::kNone;
  std::size_t read_bytes_ = 0;
  bool read_partial_ = false;
  std::string read_delimiter_;
  std::unique_ptr<re2::RE2> read_regex_;
  std::optional<std::size_t> read_max_bytes_;
  std::size_t delimiter_scanned_ = 0;
  std::span<char> read_into_;
  std::optional<Future<std::string>> read_future_;
  std::optional<Future<std::size_t>> read_into_future_;
};

class SSLIOStream;

// A stream over a connected (or to-be-connected) socket (Tornado's IOStream). Takes
// ownership of `fd` and makes it non-blocking.
class IOStream : public BaseIOStream {
 public:
  explicit IOStream(int fd, Options options = Options());
  ~IOStream() override;
  int fileno() const override { return fd_; }

  // Connects the socket to `address` without blocking. Completes once connected (an
  // SSLIOStream: once the TLS handshake is done; `server_hostname` is then the name for
  // SNI and certificate verification). Fails with StreamClosedError whose real_error is
  // the connect error (std::system_error, e.g. ECONNREFUSED) and closes the stream.
  Future<void> connect(netutil::SocketAddress address, std::string server_hostname = "");

  // Moves this stream's socket into a new SSLIOStream and starts the handshake
  // (Tornado's start_tls). Requires no pending read or write and empty buffers
  // (std::logic_error otherwise). This stream is closed (without close callback) and
  // the returned future completes with the SSL stream once the handshake is done; it
  // fails with StreamClosedError(real_error = SSLError) when the handshake fails.
  Future<std::shared_ptr<SSLIOStream>> start_tls(bool server_side,
                                                 std::shared_ptr<netutil::SSLContext> context,
                                                 std::string server_hostname = "");

  // Turning TCP_NODELAY on takes effect before the stream's second send, not at once:
  // Nagle's algorithm only holds back small segments while earlier ones are
  // unacknowledged, which (on Linux, with its Minshall rule) never applies to a
  // connection's first send. A connection that sends once saves the system call.
  void set_nodelay(bool value) override;
  void shutdown_write() override;

 protected:
  std::size_t read_from_fd(char* buf, std::size_t n, IOResult& result) override;
  std::size_t write_to_fd(const iovec* iov, int iovcnt, IOResult& result) override;
  void close_fd() override;
  bool short_read_drains() const override { return true; }
  void handle_events(int fd, std::uint32_t events) override;
  std::exception_ptr fd_error() override;
  void on_closed(const std::exception_ptr& exc) override;
  virtual void handle_connect();
  bool can_write_now() const override { return !connecting_; }
  std::uint32_t desired_state() const override;

  // Sets TCP_NODELAY to nodelay_wanted_ if it is not so already.
  void apply_nodelay();

  int fd_;
  bool connecting_ = false;
  std::optional<Future<void>> connect_future_;
  bool nodelay_wanted_ = false;
  bool nodelay_applied_ = false;  // the socket's TCP_NODELAY (off when accepted or made)
  bool sent_ = false;             // a send has carried bytes (TLS: the handshake's)
};

// A TLS stream (Tornado's SSLIOStream). Construct it over a connected socket (the
// handshake starts at once) or an unconnected one and call connect(). Reads and writes
// queue until the handshake is done. A failed handshake (including a client-side
// certificate or hostname verification failure) closes the stream with an SSLError,
// logged to gen_log at WARNING.
namespace internal {
struct TlsSocket;  // the socket under an SSLIOStream, as its BIO sees it (ssl_iostream.cc)
}

class SSLIOStream : public IOStream {
 public:
  SSLIOStream(int fd, std::shared_ptr<netutil::SSLContext> context,
              std::string server_hostname = "", Options options = Options());
  ~SSLIOStream() override;

  // Completes once the handshake is done (immediately if it is); fails with
  // StreamClosedError if the stream closes first.
  Future<void> wait_for_handshake();
  // The ALPN protocol agreed, or "".
  std::string selected_alpn_protocol() const;
  // The SNI name the client asked for (server side), or "".
  std::string server_name() const;
  // The negotiated protocol version, e.g. "TLSv1.3".
  std::string version() const;
  // True if the session was resumed from a ticket / cache.
  bool session_reused() const;
  void shutdown_write() override;
  SSL* ssl() const { return ssl_; }

 protected:
  std::size_t read_from_fd(char* buf, std::size_t n, IOResult& result) override;
  std::size_t write_to_fd(const iovec* iov, int iovcnt, IOResult& result) override;
  void handle_read() override;
  void handle_write() override;
  void handle_connect() override;
  void on_closed(const std::exception_ptr& exc) override;
  void close_fd() override;
  bool short_read_drains() const override { return false; }
  void handle_events(int fd, std::uint32_t events) override;

 private:
  friend class IOStream;
  void start_handshake();
  void do_handshake();
  std::uint32_t desired_state() const override;
  bool can_write_now() const override { return handshake_done_ && !connecting_; }
  std::uint32_t ssl_want_ = 0;
  std::optional<Future<std::shared_ptr<SSLIOStream>>> tls_future_;
  std::shared_ptr<SSLIOStream> self_;  // keeps a start_tls stream alive until handshake
  std::string coalesce_;

  std::shared_ptr<netutil::SSLContext> context_;
  std::unique_ptr<internal::TlsSocket> socket_;  // ssl_'s BIO points here
  SSL* ssl_ = nullptr;
  std::string server_hostname_;
  bool handshaking_ = false;
  bool handshake_done_ = false;
  bool handshake_started_ = false;
  std::vector<Future<void>> handshake_futures_;
};

// A stream over a pipe or other non-socket fd (Tornado's PipeIOStream). Takes ownership
// of `fd` and makes it non-blocking. Writing to a pipe whose reader is gone fails with
// EPIPE (SIGPIPE is blocked and discarded around the write).
class PipeIOStream : public BaseIOStream {
 public:
  explicit PipeIOStream(int fd, Options options = Options());
  ~PipeIOStream() override;
  int fileno() const override { return fd_; }

 protected:
  std::size_t read_from_fd(char* buf, std::size_t n, IOResult& result) override;
  std::size_t write_to_fd(const iovec* iov, int iovcnt, IOResult& result) override;
  void close_fd() override;
  bool short_read_drains() const override { return true; }

 private:
  int fd_;
};

}  // namespace tornado::iostream
