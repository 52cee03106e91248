// HTTP1Connection and HTTP1ServerConnection. See http1connection.h and README.md.
#include "http1connection/http1connection.h"

#include <sys/ioctl.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cstring>
#include <ctime>
#include <limits>
#include <type_traits>
#include <utility>

#include "absl/strings/match.h"
#include "http1connection/chunk_line.h"
#include "httputil/request_target.h"
#include "log/log.h"
#include "util/gzip_decompressor.h"

namespace tornado::http1connection {

using httputil::ascii_iequals;
using httputil::HTTPHeaders;
using httputil::HTTPInputError;
using httputil::HTTPMessageDelegate;
using httputil::HTTPOutputError;
using httputil::RequestStartLine;
using httputil::ResponseStartLine;
using httputil::StartLine;
using iostream::StreamClosedError;
using namespace std::string_view_literals;

namespace {

// Appends string-likes and integers (absl::StrAppend does not take std::string_view
// with Debian's abseil).
inline void append_piece(std::string& out, std::string_view s) { out.append(s); }
template <std::size_t N>
inline void append_piece(std::string& out, const char (&s)[N]) {
  out.append(s, N - 1);  // a literal: no strlen
}
inline void append_piece(std::string& out, const std::string& s) { out.append(s); }
inline void append_piece(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
template <typename I>
  requires std::is_integral_v<I>
void append_piece(std::string& out, I v) {
  char digits[24];
  char* end = digits + sizeof(digits);
  char* p = end;
  bool negative = false;
  if constexpr (std::is_signed_v<I>) negative = v < 0;
  auto u = negative ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (negative) *--p = '-';
  out.append(p, static_cast<std::size_t>(end - p));
}
template <typename... A>
std::string str_cat(const A&... a) {
  std::string out;
  (append_piece(out, a), ...);
  return out;
}

constexpr std::size_t kMaxChunkLine = 1024;
constexpr std::size_t kHeaderReadSize = 65536;

// a == literal: the size check inline, then a memcmp of constant length that GCC expands
// inline (std::string_view's operator== is an out-of-line call here, on per-field paths).
template <std::size_t N>
inline bool is(std::string_view a, const char (&literal)[N]) {
  return a.size() == N - 1 && std::memcmp(a.data(), literal, N - 1) == 0;
}

// A delegate threw (already logged): answered with 500.
struct DelegateError {};

[[noreturn]] void fail(int status, std::string what) {
  throw HTTPInputErrorWithStatus(status, what);
}

// "Date: <httputil::format_timestamp of now>\r\n", formatted once per second per thread.
std::string_view cached_date_line() {
  thread_local std::time_t cached_sec = -1;
  thread_local std::string formatted;
  const std::time_t now = std::time(nullptr);
  if (now != cached_sec) {
    formatted = "Date: " +
                httputil::format_timestamp(std::chrono::system_clock::from_time_t(now)) + "\r\n";
    cached_sec = now;
  }
  return formatted;
}

// `v` in decimal, in `buf`; three digits (every status code) without a loop.
std::string_view format_int(int v, char (&buf)[24]) {
  if (v >= 100 && v <= 999) {
    buf[0] = static_cast<char>('0' + v / 100);
    buf[1] = static_cast<char>('0' + v / 10 % 10);
    buf[2] = static_cast<char>('0' + v % 10);
    return std::string_view(buf, 3);
  }
  char* end = buf + sizeof(buf);
  char* p = end;
  const bool negative = v < 0;
  auto u = negative ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (negative) *--p = '-';
  return std::string_view(p, static_cast<std::size_t>(end - p));
}

// Copies n bytes to p and returns p + n. Header pieces are mostly short: up to 16 bytes
// take two overlapping loads and stores, without a call to memcpy.
inline char* put_bytes(char* p, const char* s, std::size_t n) {
  if (n > 16) {
    std::memcpy(p, s, n);
  } else if (n >= 8) {
    std::uint64_t a, b;
    std::memcpy(&a, s, 8);
    std::memcpy(&b, s + n - 8, 8);
    std::memcpy(p, &a, 8);
    std::memcpy(p + n - 8, &b, 8);
  } else if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    std::memcpy(p, &a, 4);
    std::memcpy(p + n - 4, &b, 4);
  } else {
    for (std::size_t i = 0; i < n; ++i) p[i] = s[i];
  }
  return p + n;
}

// Chunk framing: at most 16 hex digits and two CRLFs.
constexpr std::size_t kMaxChunkFraming = 20;

// "<size in hex>\r\n<chunk>\r\n" (chunk not empty).
void append_chunk_framed(std::string& out, std::string_view chunk) {
  char hex[24];
  const int n = std::snprintf(hex, sizeof(hex), "%zx\r\n", chunk.size());
  out.append(hex, static_cast<std::size_t>(n));
  out += chunk;
  out += "\r\n";
}

// Digits only, at most 18 of them (no sign, no whitespace, no overflow).
std::optional<std::uint64_t> parse_content_length(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// "HTTP/<d>.<d>" with a major version other than 1: 505 rather than 400.
bool is_other_http_version(std::string_view line) {
  const auto sp = line.rfind(' ');
  if (sp == std::string_view::npos) return false;
  std::string_view v = line.substr(sp + 1);
  return v.size() == 8 && v.substr(0, 5) == "HTTP/"sv && v[5] >= '0' && v[5] <= '9' &&
         v[5] != '1' && v[6] == '.' && v[7] >= '0' && v[7] <= '9';
}

// Eight bytes at a time (header blocks are scanned once per request on the hot path).
static_assert(std::endian::native == std::endian::little);
constexpr std::uint64_t kEveryByte = 0x0101010101010101ULL;
constexpr std::uint64_t kLow7Bits = 0x7f7f7f7f7f7f7f7fULL;

std::uint64_t load8(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// The high bit of every byte of `w` equal to `c`, and no other bit.
std::uint64_t bytes_equal(std::uint64_t w, unsigned char c) {
  const std::uint64_t zero_where_equal = w ^ (kEveryByte * c);
  return ~(((zero_where_equal & kLow7Bits) + kLow7Bits) | zero_where_equal | kLow7Bits);
}

// How many CR, LF and NUL bytes `s` holds, sixteen bytes at a time (GCC vector
// extensions: SSE2 on x86-64, plain code elsewhere). Short strings (a reason phrase, a
// method) are counted byte by byte; a longer one ends with one load of its last sixteen
// bytes, masked to the lanes not yet counted.
std::size_t count_cr_lf_nul(std::string_view s) {
  const char* p = s.data();
  const std::size_t n = s.size();
  if (n < 16) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) count += p[i] == '\r' || p[i] == '\n' || p[i] == 0;
    return count;
  }
  using Bytes16 = unsigned char __attribute__((vector_size(16)));
  const auto hits = [](const char* q) {  // 0xff in each lane holding CR, LF or NUL
    Bytes16 v;
    std::memcpy(&v, q, sizeof v);
    return reinterpret_cast<Bytes16>((v == '\r') | (v == '\n') | (v == 0));
  };
  const auto lane_sum = [](Bytes16 counts) -> std::size_t {
#if defined(__SSE2__)
    const __m128i sums = _mm_sad_epu8(reinterpret_cast<__m128i>(counts), _mm_setzero_si128());
    return static_cast<std::size_t>(_mm_cvtsi128_si64(sums) +
                                    _mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
#else
    std::uint64_t halves[2];
    std::memcpy(halves, &counts, sizeof halves);
    std::size_t sum = 0;
    for (std::uint64_t h : halves) {
      h = (h & 0x00ff00ff00ff00ffULL) + ((h >> 8) & 0x00ff00ff00ff00ffULL);  // 4 x 16 bits
      sum += (h * 0x0001000100010001ULL) >> 48;
    }
    return sum;
#endif
  };
  // kTailMask + k: 0 in the first 16 - k lanes, 0xff in the last k.
  alignas(16) static constexpr unsigned char kTailMask[32] = {
      0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  std::size_t total = 0;
  Bytes16 counts = {};  // per lane, summed before a lane can pass 255
  int rounds = 0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    counts -= hits(p + i);  // a hit is -1: subtracting counts it
    if (++rounds == 255) {
      total += lane_sum(counts);
      counts = Bytes16{};
      rounds = 0;
    }
  }
  if (i < n) {  // the last n - i bytes, as the top lanes of the last sixteen
    Bytes16 mask;
    std::memcpy(&mask, kTailMask + (n - i), sizeof mask);
    counts -= hits(p + n - 16) & mask;
  }
  return total + lane_sum(counts);
}

// RFC 9112 2.2, server side: in the header section CR and LF occur only as CRLF. A
// recipient may take a bare LF as a line end, but only if every parser on the path does
// the same; rejecting it (and a bare CR) everywhere makes a desync with a front end that
// splits lines differently impossible. Checks s[checked, ...): each byte is an LF exactly
// when the byte before it is a CR. A CR at the very end waits for the next read.
void require_crlf_pairs(std::string_view s, std::size_t& checked) {
  std::size_t end = s.size();
  if (end > 0 && s[end - 1] == '\r') --end;
  std::size_t i = checked;
  // Whether the byte before i is a CR, as the high bit of byte 0 of a word.
  std::uint64_t cr_before = i > 0 && s[i - 1] == '\r' ? 0x80 : 0;
  bool bad = false;
  for (; i + 8 <= end; i += 8) {
    const std::uint64_t w = load8(s.data() + i);
    const std::uint64_t cr = bytes_equal(w, '\r');
    bad |= bytes_equal(w, '\n') != ((cr << 8) | cr_before);
    cr_before = cr >> 56;
  }
  for (; i < end; ++i) {
    bad |= (s[i] == '\n') != (i > 0 && s[i - 1] == '\r');
  }
  if (bad) fail(400, "bare CR or LF in header section");
  checked = std::max(checked, end);
}

// The options of Connection fields (RFC 9110 7.6.1: a comma-separated list of
// case-insensitive tokens, possibly over several field lines).
struct ConnectionOptions {
  bool close = false;
  bool keep_alive = false;
};

void add_connection_options(std::string_view value, ConnectionOptions& out) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view token = value.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (ascii_iequals(token, "close")) out.close = true;
    if (ascii_iequals(token, "keep-alive")) out.keep_alive = true;
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
  }
}

// CR, LF or NUL anywhere in `s` (they would end or corrupt an output line).
bool bad_header_byte(std::string_view s) { return count_cr_lf_nul(s) != 0; }

void retrieve_quietly(Future<void> f) {
  f.add_done_callback([](Future<void> done) {
    if (!done.cancelled()) (void)done.exception();
  });
}

Future<void> ready_future() {
  Future<void> f;
  f.set_result();
  return f;
}

template <typename F>
auto call_delegate(const char* what, F&& f) {
  try {
    return f();
  } catch (...) {
    TORNADO_LOG_EXCEPTION(log::app_log(), "Uncaught exception in HTTP delegate {}", what);
    throw DelegateError();
  }
}

}  // namespace


// ---------------------------------------------------------------------------------------
// HTTP1Connection

HTTP1Connection::HTTP1Connection(std::shared_ptr<iostream::IOStream> stream, bool is_client,
                                 HTTP1ConnectionParameters params,
                                 httputil::RequestContext context, std::string buffered,
                                 std::size_t buffered_pos)
    : stream_(std::move(stream)),
      is_client_(is_client),
      params_(std::move(params)),
      context_(std::move(context)),
      buf_(std::move(buffered)),
      pos_(std::min(buffered_pos, buf_.size())),
      read_size_(std::min(kHeaderReadSize, stream_->max_buffer_size())),
      loop_(ioloop::IOLoop::current()) {
  clamp_chunk_size();
}

HTTP1Connection::~HTTP1Connection() {
  if (alive_) *alive_ = false;
  cancel_timer();
  clear_callbacks();
}

void HTTP1Connection::clamp_chunk_size() {
  if (params_.chunk_size == 0) params_.chunk_size = 1;
  params_.chunk_size = std::min(params_.chunk_size, stream_->max_buffer_size());
}

void HTTP1Connection::reset_for_next_message(const HTTP1ConnectionParameters& params,
                                             const httputil::RequestContext& context) {
  // What the destructor does, minus cancelling the scheduled timer (it stays, disarmed);
  // callbacks of the last message see the new message_id_ as a destroyed connection.
  ++message_id_;
  disarm_timer();
  clear_callbacks();
  // What the constructor does; buf_/pos_ keep the bytes past the last message. Params
  // and context are copied again only if the last message changed them.
  if (params_changed_) {
    params_ = params;
    clamp_chunk_size();
    params_changed_ = false;
  }
  if (context_changed_) {
    context_ = context;
    context_changed_ = false;
  }
  static_cast<internal::MessageState&>(*this) = internal::MessageState();
}

void HTTP1Connection::begin_idle_wait() {
  idle_ = true;
  waited_idle_ = true;
  if (!timer_armed_ && params_.idle_timeout) arm_timer(*params_.idle_timeout);
}

std::size_t HTTP1Connection::max_body_size() const {
  if (params_.max_body_size) return *params_.max_body_size;
  return stream_ ? stream_->max_buffer_size() : iostream::kDefaultMaxBufferSize;
}

void HTTP1Connection::append_read(std::string data) {
  if (pos_ == buf_.size()) {
    buf_ = std::move(data);
    pos_ = 0;
    return;
  }
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data);
}

std::string HTTP1Connection::take(std::size_t n) {
  std::string s(buf_.data() + pos_, n);
  pos_ += n;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return s;
}

std::string HTTP1Connection::take_buffer(std::size_t* pos) {
  *pos = pos_;
  pos_ = 0;
  return std::exchange(buf_, std::string());
}

std::string HTTP1Connection::take_buffered() {
  std::string out;
  if (pos_ == 0) {
    out = std::move(buf_);
  } else {
    out.assign(buf_, pos_, std::string::npos);
  }
  buf_.clear();
  pos_ = 0;
  return out;
}

void HTTP1Connection::arm_timer(double seconds) {
  // Lazily: a timer already scheduled no later than the new deadline stays, and when it
  // fires early it moves itself on to the deadline. Keep-alive messages then cost no
  // timer heap work each (the idle/header timer is armed and disarmed per message).
  deadline_ = loop_->time() + seconds;
  if (!timer_ || timer_when_ > deadline_) {
    cancel_timer();
    schedule_timer();
  }
  timer_armed_ = true;
}

void HTTP1Connection::schedule_timer() {
  timer_when_ = deadline_;
  timer_ = loop_->call_at(deadline_, [this] {
    timer_.reset();
    if (!timer_armed_) return;
    if (loop_->time() < deadline_) {
      schedule_timer();
      return;
    }
    timer_armed_ = false;
    TORNADO_LOG_INFO(log::gen_log(), "Timeout on HTTP connection from {}", context_.remote_ip);
    if (stream_) stream_->close();
  });
}

void HTTP1Connection::disarm_timer() { timer_armed_ = false; }

void HTTP1Connection::cancel_timer() {
  timer_armed_ = false;
  if (timer_) {
    loop_->remove_timeout(*timer_);
    timer_.reset();
  }
}

void HTTP1Connection::clear_callbacks() {
  close_callback_ = nullptr;
  if (stream_callback_set_ && stream_) stream_->set_close_callback(nullptr);
  stream_callback_set_ = false;
}

void HTTP1Connection::mark_exchange_done() {
  exchange_done_ = true;
  if (finish_future_ && !finish_future_->done()) finish_future_->set_result();
}

std::weak_ptr<bool> HTTP1Connection::alive_token() {
  if (!alive_) alive_ = std::make_shared<bool>(true);
  return alive_;
}

void HTTP1Connection::set_close_callback(std::function<void()> callback) {
  close_callback_ = std::move(callback);
}

void HTTP1Connection::on_connection_close() {
  if (close_callback_) {
    auto cb = std::move(close_callback_);
    close_callback_ = nullptr;
    cb();
  }
  mark_exchange_done();
  clear_callbacks();
}

void HTTP1Connection::close() {
  if (stream_) stream_->close();
  clear_callbacks();
  mark_exchange_done();
}

std::shared_ptr<iostream::IOStream> HTTP1Connection::detach() {
  clear_callbacks();
  cancel_timer();
  auto stream = std::move(stream_);
  stream_.reset();
  mark_exchange_done();
  return stream;
}

void HTTP1Connection::set_close_after_response() {
  close_after_response_ = true;
  // A response already complete stays as it is; the server loop stops after it.
  if (!write_finished_) disconnect_on_finish_ = true;
}

bool HTTP1Connection::can_keep_alive(bool http11, std::string_view method, bool close_option,
                                     bool keep_alive_option, bool has_content_length,
                                     bool chunked) const {
  if (params_.no_keep_alive || close_option) return false;
  if (http11) return true;
  if (has_content_length || chunked || is(method, "HEAD") || is(method, "GET")) {
    return keep_alive_option;
  }
  return false;
}

Future<bool> HTTP1Connection::read_response(HTTPMessageDelegate* delegate) {
  return read_message(delegate);
}

Future<void> HTTP1Connection::fill_to(std::size_t n) {
  while (available() < n) {
    std::string data = co_await stream_->read_bytes(read_size_, true);
    append_read(std::move(data));
  }
}

Future<std::size_t> HTTP1Connection::read_line(std::size_t max_length) {
  std::size_t scanned = 0;
  for (;;) {
    std::string_view avail(buf_.data() + pos_, available());
    const std::size_t f = avail.find("\r\n", scanned > 0 ? scanned - 1 : 0);
    if (f != std::string_view::npos) {
      if (f + 2 > max_length) fail(400, "line too long");
      co_return f + 2;
    }
    if (avail.size() > max_length) fail(400, "line too long");
    scanned = avail.size();
    std::string data = co_await stream_->read_bytes(read_size_, true);
    append_read(std::move(data));
  }
}

Future<void> HTTP1Connection::deliver(HTTPMessageDelegate* delegate, std::string chunk) {
  if (decompressor_) {
    std::string compressed = std::move(chunk);
    while (!compressed.empty()) {
      auto out = decompressor_->decompress(compressed, params_.chunk_size);
      if (!out.ok()) fail(400, str_cat("bad gzip body: ", out.status().message()));
      decompressed_ += out->size();
      if (decompressed_ > max_body_size()) fail(413, "decompressed body too large");
      compressed = decompressor_->unconsumed_tail();
      if (!out->empty()) {
        std::string piece = std::move(*out);
        auto f = call_delegate("data_received",
                               [&] { return delegate->data_received(std::move(piece)); });
        if (f) co_await *f;
      }
    }
    co_return;
  }
  auto f = call_delegate("data_received", [&] { return delegate->data_received(std::move(chunk)); });
  if (f) co_await *f;
}

Future<void> HTTP1Connection::finish_decompression(HTTPMessageDelegate* delegate) {
  const std::size_t limit = max_body_size() - std::min<std::uint64_t>(decompressed_, max_body_size());
  auto tail = decompressor_->flush(limit + 1);
  if (!tail.ok()) {
    if (absl::IsResourceExhausted(tail.status())) fail(413, "decompressed body too large");
    fail(400, str_cat("bad gzip body: ", tail.status().message()));
  }
  decompressed_ += tail->size();
  if (decompressed_ > max_body_size()) fail(413, "decompressed body too large");
  if (!tail->empty()) {
    std::string piece = std::move(*tail);
    auto f = call_delegate("data_received", [&] { return delegate->data_received(std::move(piece)); });
    if (f) co_await *f;
  }
}

Future<void> HTTP1Connection::read_fixed_body(std::size_t length, HTTPMessageDelegate* delegate) {
  std::size_t remaining = length;
  while (remaining > 0) {
    std::string piece;
    if (available() > 0) {
      piece = take(std::min({available(), remaining, params_.chunk_size}));
    } else {
      piece = co_await stream_->read_bytes(std::min(remaining, params_.chunk_size), true);
    }
    remaining -= piece.size();
    Future<void> f = deliver(delegate, std::move(piece));
    co_await f;
  }
}

Future<void> HTTP1Connection::read_chunked_body(HTTPMessageDelegate* delegate) {
  std::uint64_t total = 0;
  for (;;) {
    const std::size_t line_len = co_await read_line(kMaxChunkLine);
    const auto parsed_size = parse_chunk_size_line(std::string_view(buf_.data() + pos_, line_len - 2));
    if (!parsed_size.ok()) fail(400, std::string(parsed_size.status().message()));
    const std::uint64_t size = *parsed_size;
    pos_ += line_len;
    if (size == 0) break;
    total += size;
    if (total > max_body_size()) fail(413, "chunked body too large");
    std::uint64_t remaining = size;
    while (remaining > 0) {
      std::string piece;
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining, params_.chunk_size));
      if (available() > 0) {
        piece = take(std::min(available(), want));
      } else {
        piece = co_await stream_->read_bytes(want, true);
      }
      remaining -= piece.size();
      Future<void> f = deliver(delegate, std::move(piece));
      co_await f;
    }
    co_await fill_to(2);
    if (buf_[pos_] != '\r' || buf_[pos_ + 1] != '\n') fail(400, "chunk not followed by CRLF");
    pos_ += 2;
  }
  // Trailer fields: checked, then discarded.
  std::size_t trailer_total = 0;
  for (;;) {
    const std::size_t len = co_await read_line(params_.max_header_size);
    trailer_total += len;
    if (trailer_total > params_.max_header_size) fail(431, "trailers too large");
    std::string_view line(buf_.data() + pos_, len - 2);
    if (!line.empty()) {
      HTTPHeaders scratch;
      if (!scratch.parse_line(line).ok()) fail(400, "bad trailer field");
    }
    pos_ += len;
    if (line.empty()) break;
  }
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
}

Future<void> HTTP1Connection::read_body_until_close(HTTPMessageDelegate* delegate) {
  std::uint64_t total = 0;
  for (;;) {
    std::string piece;
    if (available() > 0) {
      piece = take(std::min(available(), params_.chunk_size));
    } else {
      try {
        piece = co_await stream_->read_bytes(params_.chunk_size, true);
      } catch (const StreamClosedError&) {
        break;
      }
    }
    total += piece.size();
    if (total > max_body_size()) fail(413, "body too large");
    Future<void> f = deliver(delegate, std::move(piece));
    co_await f;
  }
}

Future<void> HTTP1Connection::write_error_response(int status) {
  if (response_started_ || !stream_ || stream_->closed()) co_return;
  response_started_ = true;
  std::string out = str_cat("HTTP/1.1 ", status, " ", httputil::reason_phrase(status),
                                 "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  try {
    co_await stream_->write(std::move(out));
  } catch (const std::exception&) {
  }
}

Future<void> HTTP1Connection::drain_before_close() {
  // Closing a socket with unread input makes the kernel send RST, and a RST can destroy
  // the last response before the client reads it (a client still sending a body always
  // lost its 400/413 this way). As nginx's lingering close and RFC 9112 9.6's staged
  // close: stop writing, read and drop what the client still sends until it closes, 5 s
  // pass without data, or 30 s in all.
  constexpr double kLingerIdle = 5.0;
  constexpr double kLingerTotal = 30.0;
  constexpr std::size_t kLingerChunk = 64 * 1024;
  if (!stream_ || stream_->closed() || stream_->reading()) co_return;
  // Everything queued (held bytes too) reaches the kernel before the write side shuts
  // (over TLS after close_notify, which a TLS client waits for).
  try {
    co_await stream_->write(std::string());
  } catch (const std::exception&) {
    co_return;
  }
  stream_->shutdown_write();
  const double give_up = loop_->time() + kLingerTotal;
  lingering_ = true;
  for (double left = kLingerTotal; left > 0; left = give_up - loop_->time()) {
    arm_timer(std::min(kLingerIdle, left));
    // Ends when the client closes (the usual way) or a timer closes the stream.
    Future<std::string> read = stream_->read_bytes(kLingerChunk, true);
    co_await read.settled();
    if (read.exception()) break;
  }
  lingering_ = false;
  disarm_timer();
}

Future<bool> HTTP1Connection::read_message(HTTPMessageDelegate* delegate) {
  bool need_delegate_close = false;
  int error_status = 0;
  bool result = false;
  try {
    // ---- Header block: start line + fields up to CRLFCRLF, from our own buffer.
    std::size_t scanned = 0;
    std::size_t checked = 0;  // bytes of the header section whose CR/LF pairing is checked
    bool leading = true;      // still before the start line
    std::size_t skipped = 0;
    std::size_t header_len = 0;
    std::size_t line_end = std::string_view::npos;
    bool got_bytes = false;
    idle_ = true;
    bool timer_is_idle = waited_idle_ && timer_armed_;
    int reads = waited_idle_ ? 1 : 0;
    for (;;) {
      if (leading) {
        // RFC 9112 2.2: empty lines (CRLF) before a start line are ignored. A client
        // also skips a lone LF (servers that end lines with LF exist); a server does not.
        while (available() > 0) {
          if (is_client_ && buf_[pos_] == '\n') {
            ++pos_;
            ++skipped;
          } else if (available() >= 2 && buf_[pos_] == '\r' && buf_[pos_ + 1] == '\n') {
            pos_ += 2;
            skipped += 2;
          } else {
            break;
          }
        }
        if (skipped > params_.max_header_size) fail(400, "too many empty lines");
        // A lone CR may be the start of one more empty line.
        leading = available() == 0 || (available() == 1 && buf_[pos_] == '\r');
      }
      std::string_view avail(buf_.data() + pos_, available());
      if (!leading) {
        if (!got_bytes) {
          got_bytes = true;
          idle_ = false;
          // An idle timer of the same length goes on as the header timer (the common
          // HTTPServer case); otherwise the header timer is armed once we have to wait for
          // more bytes, so a header block already buffered (pipelining) needs no timer.
          if (!params_.header_timeout ||
              (timer_is_idle && params_.idle_timeout != params_.header_timeout)) {
            disarm_timer();
          }
          timer_is_idle = false;
        }
        const std::size_t f = avail.find("\r\n\r\n", scanned >= 3 ? scanned - 3 : 0);
        if (!is_client_) {
          require_crlf_pairs(avail.substr(0, f == std::string_view::npos ? avail.size() : f + 4),
                             checked);
        }
        if (line_end == std::string_view::npos) line_end = avail.find('\n', scanned);
        if (!is_client_) {
          // The request line's length without its CRLF (a CR may end what arrived).
          const std::size_t line_len =
              line_end != std::string_view::npos ? line_end - 1
                                                 : avail.size() - (avail.back() == '\r' ? 1 : 0);
          if (line_len > params_.max_request_line_size) fail(414, "request line too long");
        }
        if (f != std::string_view::npos) {
          header_len = f + 4;
          break;
        }
        if (avail.size() > params_.max_header_size) fail(431, "header block too large");
        scanned = avail.size();
      } else if (!timer_armed_ && params_.idle_timeout) {
        arm_timer(*params_.idle_timeout);
        timer_is_idle = true;
      }
      if (close_after_response_ && !got_bytes && reads > 0) {
        // Draining, and what arrived were only empty lines: no request to serve.
        close();
        throw StreamClosedError();
      }
      if (got_bytes && params_.header_timeout && !timer_armed_) arm_timer(*params_.header_timeout);
      // The usual end of a connection is the peer closing it here, between messages:
      // seen through settled() (a thrown StreamClosedError costs ~10k instructions).
      Future<std::string> read = stream_->read_bytes(read_size_, true);
      co_await read.settled();
      if (read.exception()) goto stream_closed;
      append_read(std::move(read.result()));
      ++reads;
    }
    idle_ = false;
    disarm_timer();
    if (header_len > params_.max_header_size) fail(431, "header block too large");

    const std::string_view block(buf_.data() + pos_, header_len);
    std::string_view first = block.substr(0, line_end);
    if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
    const std::size_t fields_begin = line_end + 1;
    const std::size_t fields_end = header_len - 4;
    const std::string_view fields = fields_begin < fields_end
                                        ? block.substr(fields_begin, fields_end - fields_begin)
                                        : std::string_view();
    StartLine start_line;
    if (is_client_) {
      auto sl = httputil::parse_response_start_line(first);
      if (!sl.ok()) fail(400, str_cat("bad status line: ", sl.status().message()));
      start_line = std::move(*sl);
    } else {
      auto sl = httputil::parse_request_start_line(first);
      if (!sl.ok()) {
        if (is_other_http_version(first)) fail(505, "unsupported HTTP version");
        fail(400, str_cat("bad request line: ", sl.status().message()));
      }
      if (auto target = httputil::validate_request_target(sl->method, sl->path); !target.ok()) {
        fail(400, std::string(target.message()));
      }
      request_method_ = sl->method;
      start_line = std::move(*sl);
    }
    auto parsed = HTTPHeaders::parse(fields);
    if (!parsed.ok()) fail(400, str_cat("bad header: ", parsed.status().message()));
    HTTPHeaders headers = std::move(*parsed);
    pos_ += header_len;
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }

    // ---- Framing checks (RFC 9112 6).
    const auto& version = is_client_ ? std::get<ResponseStartLine>(start_line).version
                                     : std::get<RequestStartLine>(start_line).version;
    // RFC 9110 2.5: HTTP/1.x for any x >= 1 is handled as 1.1 (the parsers take 1.0-1.9).
    const bool http11 = !is(version, "HTTP/1.0");
    if (!is_client_) request_http11_ = http11;
    std::size_t host_count = 0, cl_count = 0, te_count = 0;
    std::string_view cl_value, te_value, expect, content_encoding, host;
    ConnectionOptions connection;
    for (const auto& [name, value] : headers.get_all()) {
      if (is(name, "Host")) {
        ++host_count;
        host = value;
      } else if (is(name, "Content-Length")) {
        ++cl_count;
        cl_value = value;
      } else if (is(name, "Transfer-Encoding")) {
        ++te_count;
        te_value = value;
      } else if (is(name, "Expect")) {
        expect = value;
      } else if (is(name, "Connection")) {
        add_connection_options(value, connection);
      } else if (is(name, "Content-Encoding")) {
        content_encoding = value;
      }
    }
    if (!is_client_) {
      if (host_count > 1) fail(400, "more than one Host header");
      if (host_count == 0 && http11) fail(400, "missing Host header");
      if (host_count == 1 && !httputil::is_valid_host_header(host)) fail(400, "invalid Host header");
    }
    std::optional<std::uint64_t> content_length;
    if (cl_count > 1) fail(400, "more than one Content-Length");
    if (cl_count == 1) {
      content_length = parse_content_length(cl_value);
      if (!content_length) fail(400, "malformed Content-Length");
    }
    bool chunked = false;
    if (te_count > 0) {
      if (cl_count > 0) fail(400, "both Transfer-Encoding and Content-Length");
      if (te_count > 1 || !ascii_iequals(te_value, "chunked")) fail(400, "unsupported Transfer-Encoding");
      if (!http11) fail(400, "Transfer-Encoding in an HTTP/1.0 message");
      chunked = true;
    }
    if (!is_client_) request_keep_alive_header_ = connection.keep_alive && !connection.close;
    disconnect_on_finish_ =
        !can_keep_alive(http11, is_client_ ? std::string_view() : std::string_view(request_method_),
                        connection.close, connection.keep_alive, cl_count > 0, chunked) ||
        close_after_response_ ||
        // After a 2xx to CONNECT the bytes are a tunnel's, not requests (RFC 9110
        // 9.3.6): unless the application took the stream, the connection ends.
        (!is_client_ && is(request_method_, "CONNECT"));

    if (params_.decompress && ascii_iequals(content_encoding, "gzip")) {
      decompressor_ = std::make_unique<util::GzipDecompressor>();
      const std::string ce(content_encoding);
      headers.erase("Content-Encoding");
      headers.add("X-Consumed-Content-Encoding", ce);
    }

    // The headers go to the delegate: nothing below may look at them (or at views
    // into them, such as `expect`).
    const bool expects_continue = ascii_iequals(expect, "100-continue");
    need_delegate_close = true;
    {
      auto f = call_delegate("headers_received", [&] {
        return delegate->headers_received(start_line, std::move(headers));
      });
      if (f) co_await *f;
    }
    if (!stream_) {  // detached
      need_delegate_close = false;
      throw StreamClosedError();
    }

    bool skip_body = false;
    int code = 0;
    if (is_client_) {
      code = std::get<ResponseStartLine>(start_line).code;
      if (is(request_method_, "HEAD") || code == 304 || code == 204 || (code >= 100 && code < 200)) {
        skip_body = true;
      }
    } else if (!write_finished_ && http11 && expects_continue) {
      // A body that is too large is refused before the client is invited to send it.
      if (content_length && *content_length > max_body_size()) fail(413, "Content-Length too long");
      retrieve_quietly(stream_->write("HTTP/1.1 100 Continue\r\n\r\n"));
    }
    if (!skip_body) {
      if (content_length && *content_length > max_body_size()) fail(413, "Content-Length too long");
      if (params_.body_timeout && (chunked || (content_length && *content_length > 0) ||
                                   (is_client_ && !content_length))) {
        arm_timer(*params_.body_timeout);
      }
      if (content_length) {
        if (*content_length > 0) {
          co_await read_fixed_body(static_cast<std::size_t>(*content_length), delegate);
        }
      } else if (chunked) {
        co_await read_chunked_body(delegate);
      } else if (is_client_) {
        co_await read_body_until_close(delegate);
      }
      if (decompressor_) co_await finish_decompression(delegate);
      disarm_timer();
    }
    read_finished_ = true;
    if (!write_finished_ || is_client_) {
      need_delegate_close = false;
      call_delegate("finish", [&] { delegate->finish(); });
    }
    if (!exchange_done_ && stream_ && !stream_->closed()) {
      const std::weak_ptr<bool> alive = alive_token();
      stream_->set_close_callback([this, alive, id = message_id_] {
        if (!alive.expired() && *alive.lock() && message_id_ == id) on_connection_close();
      });
      stream_callback_set_ = true;
      finish_future_.emplace();
      co_await *finish_future_;
    }
    if (is_client_ && disconnect_on_finish_) close();
    result = stream_ != nullptr && !stream_->closed() && !disconnect_on_finish_;
  } catch (const HTTPInputErrorWithStatus& e) {
    TORNADO_LOG_INFO(log::gen_log(), "Malformed HTTP message from {}: {}", context_.remote_ip,
                     e.what());
    error_status = e.status();
  } catch (const HTTPInputError& e) {
    TORNADO_LOG_INFO(log::gen_log(), "Malformed HTTP message from {}: {}", context_.remote_ip,
                     e.what());
    error_status = 400;
  } catch (const StreamClosedError&) {
  } catch (const iostream::UnsatisfiableReadError&) {
  } catch (const DelegateError&) {
    error_status = 500;
  } catch (const std::exception& e) {
    TORNADO_LOG_ERROR(log::app_log(), "Uncaught exception in HTTP message: {}", e.what());
    error_status = 500;
  }
stream_closed:
  disarm_timer();
  idle_ = false;
  if (error_status != 0 && !is_client_) co_await write_error_response(error_status);
  if (need_delegate_close) {
    try {
      delegate->on_connection_close();
    } catch (...) {
      TORNADO_LOG_EXCEPTION(log::app_log(), "Uncaught exception in on_connection_close");
    }
  }
  if (error_status != 0) {
    // The delegate has heard of the close already: it (and what it points to) may be
    // gone by the time a lingering close ends.
    if (!is_client_) co_await drain_before_close();
    close();
    result = false;
  } else if (lingering_close_pending_) {
    // The response is complete and the connection ends (Connection: close, HTTP/1.0):
    // a staged close, as RFC 9112 9.6 asks, so that late input cannot reset it away.
    co_await drain_before_close();
    close();
  }
  clear_callbacks();
  co_return result;
}

// ---- Output side.

Future<void> HTTP1Connection::write_headers(const StartLine& start_line,
                                            const HTTPHeaders& headers, std::string chunk) {
  // The header section is sized first, then copied into place piece by piece (no
  // capacity checks, one memcpy per piece); the body is appended after it.
  std::string_view line[5];  // the start line's pieces
  char code_digits[24];
  std::size_t fields_size = 0;
  bool add_connection_close = false;
  bool add_keep_alive = false;
  bool has_date = false;
  if (is_client_) {
    const auto* rs = std::get_if<RequestStartLine>(&start_line);
    if (rs == nullptr) throw std::invalid_argument("write_headers: client needs a request line");
    if (bad_header_byte(rs->method) || bad_header_byte(rs->path)) {
      throw HTTPOutputError("Newline in request line");
    }
    request_method_ = rs->method;
    chunking_output_ = (is(rs->method, "POST") || is(rs->method, "PUT") || is(rs->method, "PATCH")) &&
                       !headers.contains("Content-Length") &&
                       !headers.contains("Transfer-Encoding");
    for (const auto& [name, value] : headers.get_all()) fields_size += name.size() + value.size() + 4;
    line[0] = rs->method;
    line[1] = " "sv;
    line[2] = rs->path;
    line[3] = " HTTP/1.1\r\n"sv;
    expected_content_remaining_.reset();
  } else {
    const auto* rs = std::get_if<ResponseStartLine>(&start_line);
    if (rs == nullptr) throw std::invalid_argument("write_headers: server needs a status line");
    if (bad_header_byte(rs->reason)) throw HTTPOutputError("Newline in reason phrase");
    const int code = rs->code;
    const bool bodyless = code == 204 || code == 304 || (code >= 100 && code < 200);
    // One pass over the fields (names are stored normalized).
    const std::string* content_length = nullptr;
    bool has_te = false, has_connection = false;
    for (const auto& [name, value] : headers.get_all()) {
      fields_size += name.size() + value.size() + 4;
      if (is(name, "Content-Length")) {
        content_length = &value;
      } else if (is(name, "Transfer-Encoding")) {
        has_te = true;
      } else if (is(name, "Connection")) {
        has_connection = true;
      } else if (is(name, "Date")) {
        has_date = true;
      }
    }
    chunking_output_ = request_http11_ && !is(request_method_, "HEAD") &&
                       !bodyless && content_length == nullptr && !has_te;
    if (request_http11_ && disconnect_on_finish_ && !has_connection) {
      add_connection_close = true;
    }
    if (!request_http11_ && request_keep_alive_header_ && !disconnect_on_finish_ &&
        !has_connection) {
      add_keep_alive = true;
    }
    if (!request_http11_ && !chunking_output_ && !bodyless &&
        content_length == nullptr && !is(request_method_, "HEAD")) {
      // An HTTP/1.0 response without a length ends at close.
      disconnect_on_finish_ = true;
      add_keep_alive = false;
    }
    line[0] = "HTTP/1.1 "sv;
    line[1] = format_int(code, code_digits);
    line[2] = " "sv;
    line[3] = rs->reason;
    line[4] = "\r\n"sv;
    if (is(request_method_, "HEAD") || bodyless) {
      expected_content_remaining_ = 0;
    } else if (content_length != nullptr) {
      auto v = parse_content_length(*content_length);
      if (!v) throw HTTPOutputError("Malformed Content-Length");
      expected_content_remaining_ = *v;
    } else {
      expected_content_remaining_.reset();
    }
  }
  // What we add after the application's fields.
  const std::string_view te_line = chunking_output_ ? "Transfer-Encoding: chunked\r\n"sv : ""sv;
  const std::string_view close_line = add_connection_close ? "Connection: close\r\n"sv : ""sv;
  const std::string_view keep_alive_line =
      add_keep_alive ? "Connection: Keep-Alive\r\n"sv : ""sv;
  const std::string_view date_line =
      !is_client_ && params_.date_header && !has_date ? cached_date_line() : ""sv;
  std::size_t header_size = fields_size + te_line.size() + close_line.size() +
                            keep_alive_line.size() + date_line.size() + 2;
  for (std::string_view piece : line) header_size += piece.size();

  std::string out;
  out.reserve(header_size + (chunk.empty() ? 0 : chunk.size() + kMaxChunkFraming));
  out.resize(header_size);
  char* p = out.data();
  const auto put = [&p](std::string_view s) { p = put_bytes(p, s.data(), s.size()); };
  for (std::string_view piece : line) put(piece);
  const char* const fields_begin = p;
  for (const auto& [name, value] : headers.get_all()) {
    put(name);
    put(": "sv);
    put(value);
    put("\r\n"sv);
  }
  // A CR, LF or NUL in a name or value would end or corrupt its line: the formatted fields
  // hold exactly one CR and one LF each, and no NUL (one vector pass, not one per string).
  if (count_cr_lf_nul(std::string_view(fields_begin, static_cast<std::size_t>(p - fields_begin))) !=
      2 * headers.size()) {
    throw HTTPOutputError("Newline in header");
  }
  put(te_line);
  put(close_line);
  put(keep_alive_line);
  put(date_line);
  put("\r\n"sv);
  response_started_ = true;
  if (!chunk.empty() && admit_chunk(chunk.size())) {
    if (chunking_output_) {
      append_chunk_framed(out, chunk);
    } else {
      out += chunk;
    }
  }
  if (!stream_ || stream_->closed()) {
    Future<void> f;
    f.set_exception(StreamClosedError());
    return f;
  }
  send(std::move(out));
  return *pending_write_;
}

void HTTP1Connection::send(std::string data) {
  // The next request is already here (pipelining): hold this response in the stream so
  // that the responses to one batch of requests leave in one system call. Bounded, so
  // a client that pipelines many large responses still gets them as they come.
  constexpr std::size_t kMaxHeldBytes = 64 * 1024;
  pending_write_held_ = !is_client_ && read_finished_ && !disconnect_on_finish_ &&
                        pos_ < buf_.size() &&
                        stream_->write_buffer_size() + data.size() <= kMaxHeldBytes;
  pending_write_ = pending_write_held_ ? stream_->write_batched(std::move(data))
                                       : stream_->write(std::move(data));
}

bool HTTP1Connection::admit_chunk(std::size_t size) {
  // A response to HEAD has no body: what the application writes is dropped (as nginx
  // does; Tornado raises, which turned `write_headers(status, headers, body)` for GET and
  // HEAD alike into a closed connection without a response).
  if (!is_client_ && is(request_method_, "HEAD")) return false;
  if (expected_content_remaining_) {
    if (size > *expected_content_remaining_) {
      if (stream_) stream_->close();
      throw HTTPOutputError("Tried to write more data than Content-Length");
    }
    *expected_content_remaining_ -= size;
  }
  return true;
}

std::string HTTP1Connection::format_chunk(std::string chunk) {
  if (!admit_chunk(chunk.size())) return {};
  if (chunking_output_ && !chunk.empty()) {
    std::string out;
    out.reserve(chunk.size() + kMaxChunkFraming);
    append_chunk_framed(out, chunk);
    return out;
  }
  return chunk;
}

Future<void> HTTP1Connection::write(std::string chunk) {
  std::string data = format_chunk(std::move(chunk));
  if (!stream_ || stream_->closed()) {
    Future<void> f;
    f.set_exception(StreamClosedError());
    return f;
  }
  if (data.empty()) return pending_write_ ? *pending_write_ : ready_future();
  send(std::move(data));
  return *pending_write_;
}

void HTTP1Connection::finish() {
  if (expected_content_remaining_ && *expected_content_remaining_ != 0 && stream_ &&
      !stream_->closed()) {
    const auto missing = *expected_content_remaining_;
    stream_->close();
    throw HTTPOutputError(
        str_cat("Tried to write ", missing, " bytes less than Content-Length"));
  }
  if (chunking_output_ && stream_ && !stream_->closed()) {
    send("0\r\n\r\n");
  }
  write_finished_ = true;
  // A response finished before its request was read: the rest of the request cannot be
  // told from the next one (Tornado does the same).
  if (!is_client_ && !read_finished_) disconnect_on_finish_ = true;
  if (!pending_write_ || pending_write_->done() || pending_write_held_) {
    // A held write is as good as written for the exchange (the stream sends it before
    // it waits or closes); its outcome is not this response's to report.
    if (pending_write_ && pending_write_->done()) {
      (void)pending_write_->exception();
    } else if (pending_write_) {
      retrieve_quietly(*pending_write_);
    }
    finish_request();
  } else {
    const std::weak_ptr<bool> alive = alive_token();
    pending_write_->add_done_callback([this, alive, id = message_id_](Future<void> f) {
      if (!f.cancelled()) (void)f.exception();
      if (!alive.expired() && *alive.lock() && message_id_ == id) finish_request();
    });
  }
}

void HTTP1Connection::finish_request() {
  clear_callbacks();
  if (!is_client_ && disconnect_on_finish_) {
    // read_message closes, lingering; a stream already closed or detached only needs the
    // bookkeeping (read_message is over then).
    if (!stream_ || stream_->closed()) {
      close();
      return;
    }
    lingering_close_pending_ = true;
  }
  mark_exchange_done();
}

// ---------------------------------------------------------------------------------------
// HTTP1ServerConnection

HTTP1ServerConnection::HTTP1ServerConnection(std::shared_ptr<iostream::IOStream> stream,
                                             HTTP1ConnectionParameters params,
                                             httputil::RequestContext context)
    : stream_(std::move(stream)), params_(std::move(params)), context_(std::move(context)) {
  serving_future_.set_result();
}

HTTP1ServerConnection::~HTTP1ServerConnection() = default;

void HTTP1ServerConnection::start_serving(httputil::HTTPServerConnectionDelegate* delegate) {
  delegate_ = delegate;
  // Responses go out in one write each; Nagle would only delay them.
  stream_->set_nodelay(true);
  serving_future_ = server_request_loop(shared_from_this());
}

bool HTTP1ServerConnection::input_pending() const {
  if (!stream_ || stream_->closed()) return false;
  if (stream_->read_buffer_size() > 0) return true;
  int n = 0;
  if (::ioctl(stream_->fileno(), FIONREAD, &n) != 0) return false;
  return n > 0;
}

Future<void> HTTP1ServerConnection::close() {
  if (stream_) stream_->close();
  return serving_future_;
}

void HTTP1ServerConnection::close_when_idle() {
  draining_ = true;
  if (current_ == nullptr) return;
  // Idle: waiting for a request with nothing received. A read that already completed
  // (its coroutine not yet resumed) leaves the stream not reading: that data is served.
  // Lingering after an error response: that response is out, nothing is left to serve.
  if (current_->lingering() ||
      (current_->idle() && stream_ && stream_->reading() && !input_pending())) {
    stream_->close();
  } else {
    current_->set_close_after_response();
  }
}

void HTTP1ServerConnection::abandon() {
  delegate_ = nullptr;
  if (stream_) stream_->close();
}

Future<void> HTTP1ServerConnection::server_request_loop(std::shared_ptr<HTTP1ServerConnection> self) {
  bool detached = false;
  // One message exchange at a time, on one HTTP1Connection in this frame: made for the
  // first request and reset for each next one (reset_for_next_message: the same state
  // as a new one, with the bytes read past the last message still buffered).
  std::optional<HTTP1Connection> conn;
  try {
    for (;;) {
      if (self->delegate_ == nullptr || self->stream_->closed()) break;
      if (self->draining_ && (!conn || conn->available() == 0) && !self->input_pending()) break;
      if (conn) {
        conn->reset_for_next_message(self->params_, self->context_);
      } else {
        conn.emplace(self->stream_, false, self->params_, self->context_);
      }
      if (self->draining_) conn->set_close_after_response();
      self->current_ = &*conn;
      if (conn->available() == 0) {
        // Wait for the next request's first bytes here, in this small frame: then
        // read_message's frame and the request's delegate come from the pool still warm
        // from the request served last. Made before the wait, each of a thousand idle
        // connections would keep cold ones (bench/RESULTS.md, sixth session).
        conn->begin_idle_wait();
        Future<std::string> read = self->stream_->read_bytes(conn->read_size_, true);
        co_await read.settled();
        if (read.exception()) break;
        conn->append_read(std::move(read.result()));
        // abandon() or close() may have come after the read ended, before this resumed.
        if (self->delegate_ == nullptr || self->stream_->closed()) break;
      }
      std::unique_ptr<HTTPMessageDelegate> request_delegate =
          self->delegate_->start_request(self.get(), &*conn);
      const bool keep_going = co_await conn->read_response(request_delegate.get());
      self->current_ = nullptr;
      request_delegate.reset();
      if (!conn->stream()) {
        detached = true;
        break;
      }
      if (!keep_going) break;
    }
  } catch (const StreamClosedError&) {
  } catch (...) {
    TORNADO_LOG_EXCEPTION(log::gen_log(), "Uncaught exception in HTTP server connection");
  }
  conn.reset();
  self->current_ = nullptr;
  if (detached) {
    self->stream_.reset();
  } else if (self->stream_) {
    self->stream_->close();
  }
  if (self->delegate_ != nullptr) {
    auto* delegate = std::exchange(self->delegate_, nullptr);
    delegate->on_close(self.get());
  }
}

}  // namespace tornado::http1connection
