// tornado::http1connection, Tornado's tornado.http1connection: the HTTP/1.x wire
// protocol over an IOStream. HTTP1Connection carries one message exchange (request +
// response) and is used by both servers and clients; HTTP1ServerConnection serves the
// requests of one connection in sequence (keep-alive, pipelining).
//
// Framing is strict (RFC 9112): every malformed message gets its status (400, 413, 414,
// 431, 505) and the connection is closed. See README.md for the full list.
//
// Threading: everything here belongs to the thread of the stream's IOLoop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "concurrent/future.h"
#include "httputil/httputil.h"
#include "iostream/iostream.h"  // also brings ioloop::IOLoop (timers), see BUILD

namespace tornado::util {
class GzipDecompressor;
}

namespace tornado::http1connection {

using concurrent::Future;

// Limits and switches of a connection (Tornado's HTTP1ConnectionParameters).
struct HTTP1ConnectionParameters {
  // Close the connection after every message.
  bool no_keep_alive = false;
  // Largest body piece handed to data_received, and the read size.
  std::size_t chunk_size = 65536;
  // Largest header block (start line + fields): 431 above it.
  std::size_t max_header_size = 65536;
  // Largest request line (server side): 414 above it. Must be <= max_header_size.
  std::size_t max_request_line_size = 16384;
  // Seconds from a message's first byte to the end of its header block; the connection
  // is closed (no response) when it expires. nullopt: none.
  std::optional<double> header_timeout;
  // Seconds a connection may wait for the first byte of a message (the keep-alive idle
  // time); closed when it expires. nullopt: none.
  std::optional<double> idle_timeout;
  // Largest body, after de-chunking and after decompression: 413 above it. nullopt: the
  // stream's max_buffer_size, as Tornado.
  std::optional<std::size_t> max_body_size;
  // Seconds for reading a whole body; closed when it expires. nullopt: none.
  std::optional<double> body_timeout;
  // Decompress "Content-Encoding: gzip" bodies before data_received (Tornado's
  // decompress); the delegate sees X-Consumed-Content-Encoding instead.
  bool decompress = false;
  // Server side: add a Date header to responses that have none (cached per second).
  bool date_header = true;
};

// Malformed input with the status a server answers it with (an HTTPInputError).
class HTTPInputErrorWithStatus : public httputil::HTTPInputError {
 public:
  HTTPInputErrorWithStatus(int status, const std::string& what)
      : httputil::HTTPInputError(what), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

namespace internal {

// The state of one message exchange: HTTP1Connection's fields that a new message starts
// afresh (reset_for_next_message assigns a new one), kept apart so that none is missed.
struct MessageState {
  std::string request_method_;
  bool request_http11_ = false;  // server side: the request is HTTP/1.1 (or 1.x, x > 1)
  bool request_keep_alive_header_ = false;  // HTTP/1.0 "Connection: keep-alive"
  bool disconnect_on_finish_ = false;
  bool close_after_response_ = false;
  bool chunking_output_ = false;
  std::optional<std::uint64_t> expected_content_remaining_;
  bool response_started_ = false;
  bool read_finished_ = false;
  bool write_finished_ = false;
  bool idle_ = false;
  // The server loop waited for this message's first bytes (begin_idle_wait): the idle
  // timer it armed goes on in read_message, and that wait counts as one of its reads.
  bool waited_idle_ = false;
  bool lingering_ = false;
  // Server: the response is done and the connection ends; read_message closes it after
  // draining input (finish_request cannot wait).
  bool lingering_close_pending_ = false;
  std::uint64_t body_received_ = 0;
  std::unique_ptr<util::GzipDecompressor> decompressor_;
  std::uint64_t decompressed_ = 0;
  std::optional<Future<void>> pending_write_;
  bool pending_write_held_ = false;  // pending_write_ went to IOStream::write_batched
  // The exchange is over (response finished or connection closed). read_message waits
  // for that on finish_future_, made only when it gets there first.
  bool exchange_done_ = false;
  std::optional<Future<void>> finish_future_;
};

}  // namespace internal

// One HTTP/1.x message exchange on a stream (Tornado's HTTP1Connection).
//
// Reading: read_response(delegate) reads one message (a request on the server side, a
// response on the client side) and feeds it to the delegate. Writing: write_headers /
// write / finish. The connection must outlive the read_response future and every
// write future it returned; the delegate must outlive the read_response future.
//
// Bytes read past the end of the message (a pipelined next request) stay in the
// connection's buffer: take_buffered() hands them to the next HTTP1Connection on the same
// stream (HTTP1ServerConnection does that), or to whoever detach()es the stream.
class HTTP1Connection : public httputil::HTTPConnection, private internal::MessageState {
 public:
  // `buffered`: bytes already read from `stream` that precede anything still in it; the
  // first `buffered_pos` of them are consumed already (so a pipelined rest is handed
  // over without copying it).
  HTTP1Connection(std::shared_ptr<iostream::IOStream> stream, bool is_client,
                  HTTP1ConnectionParameters params = {}, httputil::RequestContext context = {},
                  std::string buffered = {}, std::size_t buffered_pos = 0);
  ~HTTP1Connection() override;
  HTTP1Connection(const HTTP1Connection&) = delete;
  HTTP1Connection& operator=(const HTTP1Connection&) = delete;

  // Reads one message into `delegate` (Tornado's read_response, used on both sides).
  // Completes with true if the connection may carry another message, false if it was
  // closed or detached. Never fails: malformed input is answered (server side) and the
  // connection closed; a delegate exception is logged to app_log and answered with 500
  // (server side, if no response started) before closing.
  Future<bool> read_response(httputil::HTTPMessageDelegate* delegate);

  // Called when the stream closes while the application owes a response (Tornado's
  // set_close_callback).
  void set_close_callback(std::function<void()> callback);
  // Closes the stream; a pending exchange completes.
  void close();
  // Takes the stream away (e.g. for WebSocket); the connection does no more I/O. Bytes
  // already read past the message are in take_buffered().
  std::shared_ptr<iostream::IOStream> detach();
  // Bytes read from the stream but not consumed by this message; empties the buffer.
  std::string take_buffered();
  // The same without copying: the whole buffer, and in *pos where the unconsumed bytes
  // start (for the next HTTP1Connection's constructor).
  std::string take_buffer(std::size_t* pos);
  // Per-message overrides (Tornado's set_body_timeout / set_max_body_size).
  void set_body_timeout(double seconds) {
    params_.body_timeout = seconds;
    params_changed_ = true;
  }
  void set_max_body_size(std::size_t n) {
    params_.max_body_size = n;
    params_changed_ = true;
  }
  // After this message the connection closes (server side adds "Connection: close" if
  // the response has not started). Used by graceful shutdown.
  void set_close_after_response();

  // HTTPConnection. write_headers throws HTTPOutputError for a CR/LF/NUL in a header and
  // std::invalid_argument for the wrong kind of start line; write throws HTTPOutputError
  // beyond Content-Length (closing the stream); finish throws HTTPOutputError if fewer
  // bytes than Content-Length were written (closing the stream). Write futures fail with
  // StreamClosedError if the stream closed.
  Future<void> write_headers(const httputil::StartLine& start_line,
                             const httputil::HTTPHeaders& headers, std::string chunk = {}) override;
  Future<void> write(std::string chunk) override;
  void finish() override;
  const httputil::RequestContext& context() const override { return context_; }
  // The context, for httpserver's X-Forwarded-* rewriting.
  httputil::RequestContext& mutable_context() {
    context_changed_ = true;
    return context_;
  }

  // True while waiting for the first byte of a message with nothing buffered (the
  // connection can be closed without losing a request).
  bool idle() const { return idle_; }
  // True while draining input after an error response (nothing left to lose).
  bool lingering() const { return lingering_; }
  // True once write_headers ran.
  bool response_started() const { return response_started_; }
  const std::shared_ptr<iostream::IOStream>& stream() const { return stream_; }

 private:
  Future<bool> read_message(httputil::HTTPMessageDelegate* delegate);
  Future<void> read_fixed_body(std::size_t length, httputil::HTTPMessageDelegate* delegate);
  Future<void> read_chunked_body(httputil::HTTPMessageDelegate* delegate);
  Future<void> read_body_until_close(httputil::HTTPMessageDelegate* delegate);
  Future<std::size_t> read_line(std::size_t max_length);
  Future<void> fill_to(std::size_t n);
  Future<void> deliver(httputil::HTTPMessageDelegate* delegate, std::string chunk);
  Future<void> finish_decompression(httputil::HTTPMessageDelegate* delegate);
  Future<void> write_error_response(int status);
  void append_read(std::string data);
  std::string take(std::size_t n);
  std::size_t available() const { return buf_.size() - pos_; }
  // The timeout timer: armed/disarmed per message phase; the scheduled IOLoop timeout
  // may outlive a disarm (see arm_timer) and is only cancelled by cancel_timer.
  void arm_timer(double seconds);
  void disarm_timer();
  void schedule_timer();
  void cancel_timer();
  void clamp_chunk_size();
  // Server loop: readies this object for the next message on the same stream, exactly as
  // a new HTTP1Connection handed take_buffer()'s bytes would be.
  void reset_for_next_message(const HTTP1ConnectionParameters& params,
                              const httputil::RequestContext& context);
  // Server loop, nothing buffered: the connection is idle (under the idle timer) while
  // the loop reads the next message's first bytes and hands them to append_read.
  void begin_idle_wait();
  friend class HTTP1ServerConnection;
  void on_connection_close();
  void finish_request();
  void mark_exchange_done();
  std::weak_ptr<bool> alive_token();
  void clear_callbacks();
  // Checks a body chunk against HEAD (dropped: false) and Content-Length (throws past it)
  // and counts it.
  bool admit_chunk(std::size_t size);
  std::string format_chunk(std::string chunk);
  // Server side, before closing after a response (plain sockets): shuts the write side,
  // reads and drops input until the client closes (bounded in time), so that closing does
  // not reset the connection under the response.
  Future<void> drain_before_close();
  // Hands `data` to the stream and keeps the future in pending_write_.
  void send(std::string data);
  std::size_t max_body_size() const;
  bool can_keep_alive(bool http11, std::string_view method, bool close_option,
                      bool keep_alive_option, bool has_content_length, bool chunked) const;

  std::shared_ptr<iostream::IOStream> stream_;
  bool is_client_;
  HTTP1ConnectionParameters params_;
  httputil::RequestContext context_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::size_t read_size_;

  std::function<void()> close_callback_;
  bool stream_callback_set_ = false;  // our close callback is on the stream
  std::optional<ioloop::TimeoutHandle> timer_;  // scheduled at timer_when_
  double timer_when_ = 0;
  bool timer_armed_ = false;  // the connection times out at deadline_
  double deadline_ = 0;
  ioloop::IOLoop* loop_;
  // Lets callbacks that may outlive the connection see that it is gone; made on first use
  // (most exchanges finish without one). A callback also checks message_id_: the server
  // loop reuses the object for the next message (reset_for_next_message).
  std::shared_ptr<bool> alive_;
  std::uint64_t message_id_ = 0;
  bool params_changed_ = false;   // since construction / the last reset
  bool context_changed_ = false;  // mutable_context() was called
};

// Serves the requests of one connection in sequence (Tornado's HTTP1ServerConnection):
// pipelined requests are answered in order. Create with std::make_shared.
class HTTP1ServerConnection : public httputil::HTTPServerConnection,
                              public std::enable_shared_from_this<HTTP1ServerConnection> {
 public:
  HTTP1ServerConnection(std::shared_ptr<iostream::IOStream> stream,
                        HTTP1ConnectionParameters params = {},
                        httputil::RequestContext context = {});
  ~HTTP1ServerConnection() override;

  // Starts serving requests to `delegate` (start_request per request, once its first
  // bytes arrived; on_close at the end). The delegate must outlive serving_future(); the
  // connection keeps itself alive until then.
  void start_serving(httputil::HTTPServerConnectionDelegate* delegate);
  // Completes when serving ended (the connection closed).
  Future<void> serving_future() const { return serving_future_; }
  // Closes the stream; completes when serving ended (Tornado's close).
  Future<void> close();
  // Graceful close: closes now if the connection is between requests with nothing
  // received, else after the response to the request in progress (and to any request
  // already received behind it).
  void close_when_idle();
  // Forgets the delegate (the server is going away) and closes the stream.
  void abandon();
  const std::shared_ptr<iostream::IOStream>& stream() const { return stream_; }

 private:
  static Future<void> server_request_loop(std::shared_ptr<HTTP1ServerConnection> self);
  bool input_pending() const;

  std::shared_ptr<iostream::IOStream> stream_;
  HTTP1ConnectionParameters params_;
  httputil::RequestContext context_;
  httputil::HTTPServerConnectionDelegate* delegate_ = nullptr;
  HTTP1Connection* current_ = nullptr;
  bool draining_ = false;
  Future<void> serving_future_;
};

}  // namespace tornado::http1connection
