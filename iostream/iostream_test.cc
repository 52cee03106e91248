// Tests for IOStream and PipeIOStream, after Tornado's tornado/test/iostream_test.py.
#include "iostream/iostream.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <random>
#include <memory>
#include <string>
#include <utility>

#include "gen/gen.h"
#include "gtest/gtest.h"
#include "ioloop/ioloop.h"
#include "log/log.h"
#include "netutil/netutil.h"
#include "testing/testing.h"

namespace tornado::iostream {
namespace {

using concurrent::Future;
using netutil::SocketAddress;

// A connected TCP pair over loopback: (server side fd, client side fd).
std::pair<int, int> tcp_pair() {
  auto listeners = netutil::bind_sockets(0, "127.0.0.1", AF_INET);
  const auto addr = SocketAddress::local_of(listeners[0]);
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::connect(client, addr.sockaddr_ptr(), addr.length), 0);
  int server = -1;
  while (server < 0) server = ::accept4(listeners[0], nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listeners[0]);
  return {server, client};
}

template <typename E, typename T>
Future<bool> raises(Future<T> f) {
  try {
    co_await f;
  } catch (const E&) {
    co_return true;
  } catch (...) {
  }
  co_return false;
}

class IOStreamTest : public testing::AsyncTestCase {
 protected:
  void make_pair(BaseIOStream::Options opts = {}) {
    auto [s, c] = tcp_pair();
    server_ = std::make_unique<IOStream>(s, opts);
    client_ = std::make_unique<IOStream>(c, opts);
  }
  void TearDown() override {
    server_.reset();
    client_.reset();
    testing::AsyncTestCase::TearDown();
  }
  std::unique_ptr<IOStream> server_, client_;
};

ASYNC_TEST_F(IOStreamTest, ReadBytesAndPartial) {
  make_pair();
  co_await client_->write("abcdefgh");
  CO_ASSERT_EQ(co_await server_->read_bytes(3), "abc");
  CO_ASSERT_EQ(co_await server_->read_bytes(100, true), "defgh");  // test_read_bytes_partial
  auto f = server_->read_bytes(0);
  CO_ASSERT_EQ(co_await f, "");  // test_read_zero_bytes
}

ASYNC_TEST_F(IOStreamTest, ReadUntil) {
  make_pair();
  co_await client_->write("line1\r\nline2\r\n");
  CO_ASSERT_EQ(co_await server_->read_until("\r\n"), "line1\r\n");
  CO_ASSERT_EQ(co_await server_->read_until("\r\n"), "line2\r\n");
  // Delimiter split across writes.
  auto f = server_->read_until("XYZ");
  co_await client_->write("aaX");
  co_await client_->write("YZbb");
  CO_ASSERT_EQ(co_await f, "aaXYZ");
  CO_ASSERT_EQ(co_await server_->read_bytes(2), "bb");
}

ASYNC_TEST_F(IOStreamTest, ReadUntilRegex) {
  make_pair();
  co_await client_->write("abc123def");
  CO_ASSERT_EQ(co_await server_->read_until_regex("[0-9]+"), "abc123");
  CO_ASSERT_EQ(co_await server_->read_bytes(3), "def");
  EXPECT_THROW(server_->read_until_regex("("), std::invalid_argument);
}

ASYNC_TEST_F(IOStreamTest, ReadUntilMaxBytes) {
  // Tornado's test_read_until_max_bytes: found within the limit, then not.
  make_pair();
  Future<void> closed;
  server_->set_close_callback([closed] { closed.set_result(); });
  co_await client_->write("abcdef");
  CO_ASSERT_EQ(co_await server_->read_until("def", 6), "abcdef");
  testing::ExpectLog expect(log::gen_log(), "Unsatisfiable read");
  auto f = server_->read_until("def", 5);
  co_await client_->write("123456");
  bool threw = false;
  try {
    co_await f;
  } catch (const StreamClosedError& e) {
    threw = true;
    EXPECT_THROW(std::rethrow_exception(e.real_error()), UnsatisfiableReadError);
  }
  EXPECT_TRUE(threw);
  EXPECT_TRUE(server_->closed());
  co_await closed;
}

ASYNC_TEST_F(IOStreamTest, ReadUntilRegexMaxBytesInline) {
  // Tornado's test_read_until_regex_max_bytes_inline: the data is already buffered.
  make_pair();
  co_await client_->write("123456");
  co_await server_->read_bytes(1, true);  // buffers nothing extra necessarily; fill more
  testing::ExpectLog expect(log::gen_log(), "Unsatisfiable read");
  co_await client_->write("7890");
  CO_ASSERT_TRUE(co_await raises<StreamClosedError>(server_->read_until_regex("def", 3)));
}

ASYNC_TEST_F(IOStreamTest, ReadInto) {
  make_pair();
  co_await client_->write("hello world");
  std::string buf(5, '\0');
  CO_ASSERT_EQ(co_await server_->read_into(std::span<char>(buf.data(), buf.size())), 5u);
  EXPECT_EQ(buf, "hello");
  std::string big(100, '\0');
  CO_ASSERT_EQ(co_await server_->read_into(std::span<char>(big.data(), big.size()), true), 6u);
  EXPECT_EQ(big.substr(0, 6), " world");
}

ASYNC_TEST_F(IOStreamTest, ReadUntilCloseAndCloseCallback) {
  make_pair();
  Future<void> closed;
  server_->set_close_callback([closed] { closed.set_result(); });
  co_await client_->write("all of it");
  client_.reset();  // closes
  CO_ASSERT_EQ(co_await server_->read_until_close(), "all of it");
  co_await closed;
  EXPECT_TRUE(server_->closed());
  EXPECT_EQ(server_->error(), nullptr);
  // Reads and writes after close fail (test_read_until_close_after_close).
  CO_ASSERT_TRUE(co_await raises<StreamClosedError>(server_->read_bytes(1)));
  CO_ASSERT_TRUE(co_await raises<StreamClosedError>(server_->write("x")));
}

ASYNC_TEST_F(IOStreamTest, PendingReadFailsOnClose) {
  make_pair();
  auto f = server_->read_bytes(10);
  co_await client_->write("short");
  client_.reset();
  CO_ASSERT_TRUE(co_await raises<StreamClosedError>(f));
}

ASYNC_TEST_F(IOStreamTest, BufferedDataSatisfiesReadAfterClose) {
  // Tornado's test_streaming_until_close / read after close with buffered data.
  make_pair();
  co_await client_->write("1234");
  client_.reset();
  CO_ASSERT_EQ(co_await server_->read_bytes(2), "12");
  CO_ASSERT_EQ(co_await server_->read_bytes(2), "34");
  CO_ASSERT_TRUE(co_await raises<StreamClosedError>(server_->read_bytes(1)));
}

ASYNC_TEST_F(IOStreamTest, AlreadyReading) {
  make_pair();
  auto f = server_->read_bytes(1);
  EXPECT_TRUE(server_->reading());
  EXPECT_THROW(server_->read_bytes(1), std::logic_error);
  co_await client_->write("x");
  co_await f;
  EXPECT_FALSE(server_->reading());
}

ASYNC_TEST_F(IOStreamTest, ManyWritesQueueAndFlush) {
  make_pair();
  std::string expected;
  Future<void> last;
  for (int i = 0; i < 1000; ++i) {
    std::string chunk = std::to_string(i) + ",";
    expected += chunk;
    last = client_->write(std::move(chunk));
  }
  std::string big(4 << 20, 'z');  // larger than the socket buffer: WRITE must be awaited
  expected += big;
  auto big_done = client_->write(big);
  EXPECT_TRUE(client_->writing());
  CO_ASSERT_EQ(co_await server_->read_bytes(expected.size()), expected);
  co_await big_done;
  co_await last;
  EXPECT_FALSE(client_->writing());
}

ASYNC_TEST_F(IOStreamTest, MaxBufferSize) {
  // Tornado's test_max_buffer_size-ish: a read past max_buffer_size closes the stream.
  BaseIOStream::Options opts;
  opts.max_buffer_size = 10 * 1024;
  opts.read_chunk_size = 1024;
  make_pair(opts);
  EXPECT_THROW(server_->read_bytes(20 * 1024), std::invalid_argument);
  testing::ExpectLog expect(log::gen_log(), "Reached maximum read buffer size");
  auto f = server_->read_until("never");
  co_await client_->write(std::string(64 * 1024, 'a'));
  bool threw = false;
  try {
    co_await f;
  } catch (const StreamClosedError& e) {
    threw = true;
    EXPECT_THROW(std::rethrow_exception(e.real_error()), StreamBufferFullError);
  }
  EXPECT_TRUE(threw);
}

ASYNC_TEST_F(IOStreamTest, MaxWriteBufferSize) {
  BaseIOStream::Options opts;
  opts.max_write_buffer_size = 1;
  make_pair(opts);
  // Fill the kernel buffer so later data must be buffered.
  std::string big(8 << 20, 'x');
  client_->set_max_write_buffer_size(0);
  auto first = client_->write(big);
  client_->set_max_write_buffer_size(1);
  CO_ASSERT_TRUE(co_await raises<StreamBufferFullError>(client_->write("yy")));
  client_->close();
  CO_ASSERT_TRUE(co_await raises<StreamClosedError>(first));
}

ASYNC_TEST_F(IOStreamTest, PeerResetMidWrite) {
  // The peer goes away (RST) while we write: the write fails with StreamClosedError
  // carrying ECONNRESET / EPIPE, and the error is kept.
  make_pair();
  linger lg{1, 0};
  setsockopt(server_->fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  auto w = client_->write(std::string(16 << 20, 'x'));
  server_.reset();  // close with linger 0: RST
  bool threw = false;
  try {
    co_await w;
  } catch (const StreamClosedError& e) {
    threw = true;
    CO_ASSERT_TRUE(e.real_error() != nullptr);
    auto err = util::errno_from_exception(e.real_error());
    CO_ASSERT_TRUE(err.has_value());
    EXPECT_TRUE(*err == ECONNRESET || *err == EPIPE) << *err;
    // Reported by write_to_fd or read_from_fd (whichever sees the reset first) as kError,
    // with no exception thrown on the way ("send: ..." / "recv: ..." were thrown).
    const std::string what = e.what();
    EXPECT_TRUE(what.starts_with("Stream is closed: write: ") ||
                what.starts_with("Stream is closed: read: ")) << what;
  }
  EXPECT_TRUE(threw);
  EXPECT_TRUE(client_->closed());
  EXPECT_NE(client_->error(), nullptr);
}

// The message of the StreamClosedError a future failed with.
std::string closed_what(const Future<std::string>& f) {
  try {
    std::rethrow_exception(f.exception());
  } catch (const StreamClosedError& e) {
    auto err = util::errno_from_exception(e.real_error());
    EXPECT_EQ(err.value_or(0), ECONNRESET);
    return e.what();
  } catch (...) {
  }
  return "not a StreamClosedError";
}

ASYNC_TEST_F(IOStreamTest, PeerResetWhileReading) {
  // A reset ends a pending read with StreamClosedError carrying ECONNRESET. recv's error
  // comes back from read_from_fd as kError (no exception thrown on the way), and the
  // message is made once for every future that fails after it.
  make_pair();
  linger lg{1, 0};
  setsockopt(server_->fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  Future<std::string> read = client_->read_bytes(1);
  server_.reset();  // close with linger 0: RST
  co_await read.settled();
  EXPECT_EQ(closed_what(read), "Stream is closed: read: Connection reset by peer");
  Future<std::string> again = client_->read_bytes(1);
  co_await again.settled();
  EXPECT_EQ(closed_what(again), closed_what(read));
  EXPECT_TRUE(client_->closed());
}

ASYNC_TEST_F(IOStreamTest, ConnectAndRefused) {
  auto listeners = netutil::bind_sockets(0, "127.0.0.1", AF_INET);
  const auto addr = SocketAddress::local_of(listeners[0]);
  Future<int> accepted;
  auto remove = netutil::add_accept_handler(listeners[0], [accepted](int fd, SocketAddress) {
    if (!accepted.done()) accepted.set_result(fd);
  });
  IOStream client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  client.set_nodelay(true);
  auto connected = client.connect(addr);
  auto w = client.write("queued before connect");  // test_write_while_connecting
  EXPECT_FALSE(connected.done());
  co_await connected;
  const int server_fd = co_await accepted;
  IOStream server(server_fd);
  CO_ASSERT_EQ(co_await server.read_bytes(21), "queued before connect");
  co_await w;
  remove();
  ::close(listeners[0]);
  // Refused: Tornado's test_connection_refused.
  IOStream refused(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  Future<void> closed;
  refused.set_close_callback([closed] { closed.set_result(); });
  testing::ExpectLog expect(log::gen_log(), "Connect error");
  bool threw = false;
  try {
    co_await refused.connect(addr);
  } catch (const StreamClosedError& e) {
    threw = true;
    auto err = util::errno_from_exception(e.real_error());
    EXPECT_EQ(err.value_or(0), ECONNREFUSED);
  }
  EXPECT_TRUE(threw);
  co_await closed;
}

// Tornado's IOStream.connect waits for WRITE: a connect with nothing queued must
// complete too (it once waited for READ only and hung until the peer spoke).
ASYNC_TEST_F(IOStreamTest, ConnectWithNothingQueuedCompletes) {
  auto listeners = netutil::bind_sockets(0, "127.0.0.1", AF_INET);
  const auto addr = SocketAddress::local_of(listeners[0]);
  Future<int> accepted;
  auto remove = netutil::add_accept_handler(listeners[0], [accepted](int fd, SocketAddress) {
    if (!accepted.done()) accepted.set_result(fd);
  });
  IOStream client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  co_await client.connect(addr);
  const int server_fd = co_await accepted;
  IOStream server(server_fd);
  co_await client.write("after connect");
  CO_ASSERT_EQ(co_await server.read_bytes(13), "after connect");
  remove();
  ::close(listeners[0]);
}

ASYNC_TEST_F(IOStreamTest, LinearManySmallMessages) {
  // 100k small messages read from one big buffer: each read consumes a prefix without
  // copying the rest, so this is linear (a copy per read would be ~25 GB of memmove).
  make_pair();
  constexpr int kMessages = 100000;
  std::string all;
  for (int i = 0; i < kMessages; ++i) all += "message " + std::to_string(i % 10) + "\n";
  co_await client_->write(all);
  co_await server_->read_bytes(0);
  // Read the whole thing into the buffer first, then consume it message by message.
  std::size_t got = 0;
  for (int i = 0; i < kMessages; ++i) {
    std::string line = co_await server_->read_until("\n");
    got += line.size();
    if (line != "message " + std::to_string(i % 10) + "\n") CO_FAIL() << line;
  }
  CO_ASSERT_EQ(got, all.size());
}

// Counts read_from_fd calls (each one recv), those that found nothing (EAGAIN), and
// write_to_fd calls (each one send/sendmsg).
class CountingIOStream : public IOStream {
 public:
  using IOStream::IOStream;
  int reads = 0;
  int would_block = 0;
  int writes = 0;

 protected:
  std::size_t write_to_fd(const iovec* iov, int iovcnt, IOResult& result) override {
    ++writes;
    return IOStream::write_to_fd(iov, iovcnt, result);
  }
  std::size_t read_from_fd(char* buf, std::size_t n, IOResult& result) override {
    ++reads;
    const std::size_t got = IOStream::read_from_fd(buf, n, result);
    if (got == 0 && result == IOResult::kWouldBlock) ++would_block;
    return got;
  }
};

// Request/response: after a short read the socket is known to be empty, so the next
// read waits for the loop instead of trying recv inline (Tornado tries it, and in
// ping-pong traffic it returns EAGAIN every time: ~2 recv per message).
Future<void> echo_n(CountingIOStream* stream, int n) {
  for (int i = 0; i < n; ++i) {
    std::string got = co_await stream->read_bytes(65536, true);
    co_await stream->write(std::move(got));
  }
}

ASYNC_TEST_F(IOStreamTest, ShortReadIsNotRetriedInline) {
  auto [s, c] = tcp_pair();
  CountingIOStream server(s);
  IOStream client(c);
  constexpr int kMessages = 200;
  // The server asks for each message before the client sends it, as an echo server does.
  Future<void> echoing = echo_n(&server, kMessages);
  for (int i = 0; i < kMessages; ++i) {
    const std::string msg(64, static_cast<char>('a' + i % 26));
    co_await client.write(msg);
    std::string back = co_await client.read_bytes(64);
    CO_ASSERT_EQ(back, msg);
  }
  co_await echoing;
  // One recv per message. Not even the first read is tried before the loop reports
  // the new socket readable (it would find nothing: EAGAIN).
  EXPECT_EQ(server.reads, kMessages);
  EXPECT_EQ(server.would_block, 0);
}

// Bytes in the socket's receive queue (what the peer sent so far and we did not read).
int queued_bytes(int fd) {
  int n = -1;
  EXPECT_EQ(::ioctl(fd, FIONREAD, &n), 0);
  return n;
}

// write_batched holds its bytes; the next write() sends everything in one system call,
// in order, and every future completes.
ASYNC_TEST_F(IOStreamTest, BatchedWritesLeaveWithTheNextWrite) {
  auto [s, c] = tcp_pair();
  CountingIOStream server(s);
  Future<void> a = server.write_batched("one,");
  Future<void> b = server.write_batched("two,");
  EXPECT_TRUE(server.writing());
  EXPECT_FALSE(a.done());
  EXPECT_EQ(queued_bytes(c), 0);
  EXPECT_EQ(server.writes, 0);
  Future<void> last = server.write("three");
  EXPECT_EQ(server.writes, 1);
  EXPECT_FALSE(server.writing());
  co_await a;
  co_await b;
  co_await last;
  IOStream client(c);
  CO_ASSERT_EQ(co_await client.read_bytes(13), "one,two,three");
}

// Nobody writes again: the loop callback queued by write_batched sends the bytes.
ASYNC_TEST_F(IOStreamTest, BatchedWritesLeaveWithoutAnotherWrite) {
  auto [s, c] = tcp_pair();
  CountingIOStream server(s);
  IOStream client(c);
  Future<void> a = server.write_batched("held");
  Future<void> b = server.write_batched(" bytes");
  EXPECT_EQ(queued_bytes(c), 0);
  CO_ASSERT_EQ(co_await client.read_bytes(10), "held bytes");
  co_await a;
  co_await b;
  EXPECT_EQ(server.writes, 1);
}

// A read that has to wait for the peer sends held bytes first (the peer may be waiting
// for them), and close() gives them to the kernel before the fd closes.
ASYNC_TEST_F(IOStreamTest, BatchedWritesLeaveBeforeWaitingAndOnClose) {
  auto [s, c] = tcp_pair();
  CountingIOStream server(s);
  IOStream client(c);
  (void)server.write_batched("question?");
  Future<std::string> answer = server.read_bytes(1);
  EXPECT_EQ(queued_bytes(c), 9);
  CO_ASSERT_EQ(co_await client.read_bytes(9), "question?");
  co_await client.write("!");
  CO_ASSERT_EQ(co_await answer, "!");
  (void)server.write_batched("bye");
  server.close();
  CO_ASSERT_EQ(co_await client.read_until_close(), "bye");
}

// A line arriving in pieces: one recv per piece, no retry after each (Tornado's loop
// reads until EAGAIN: two per piece).
ASYNC_TEST_F(IOStreamTest, PartialLineOneRecvPerPiece) {
  auto [s, c] = tcp_pair();
  CountingIOStream server(s);
  IOStream client(c);
  Future<std::string> line = server.read_until("\n");
  std::size_t sent = 0;
  for (const char* piece : {"abc", "def", "ghi\n"}) {
    co_await client.write(piece);
    sent += std::strlen(piece);
    // Let the loop deliver the piece before the next one is sent.
    while (server.read_buffer_size() < sent && !line.done()) co_await gen::moment;
  }
  CO_ASSERT_EQ(co_await line, "abcdefghi\n");
  // One per piece (the new socket is not tried before anything was sent).
  EXPECT_EQ(server.reads, 3);
  EXPECT_EQ(server.would_block, 0);
}

// Data that arrives after a short read, before the next read is asked for, still
// comes (from the loop's readiness report), as do full chunks read in one go and EOF.
ASYNC_TEST_F(IOStreamTest, DataAfterShortReadStillArrives) {
  auto [s, c] = tcp_pair();
  BaseIOStream::Options opts;
  opts.read_chunk_size = 1024;
  CountingIOStream server(s, opts);
  IOStream client(c);
  co_await client.write("a");
  CO_ASSERT_EQ(co_await server.read_bytes(1), "a");
  co_await client.write("b");
  CO_ASSERT_EQ(co_await server.read_bytes(1, true), "b");
  // Full chunks: read back to back (no wait for the loop between them).
  co_await client.write(std::string(4 * 1024, 'x'));
  CO_ASSERT_EQ((co_await server.read_bytes(4 * 1024)).size(), 4u * 1024);
  client.close();
  std::string rest = co_await server.read_until_close();
  EXPECT_EQ(rest, "");
}

// Sockets are edge-triggered: the loop reports new bytes once. An idle stream with input
// buffered leaves them in the kernel (flow control, as a level-triggered stream that stops
// listening) and must still read them when asked, with no second report coming.
ASYNC_TEST_F(IOStreamTest, BytesArrivingWhileIdleWithInputBufferedWaitForARead) {
  auto [s, c] = tcp_pair();
  IOStream server(s);
  IOStream client(c);
  co_await client.write("a\nb");
  CO_ASSERT_EQ(co_await server.read_until("\n"), "a\n");
  co_await client.write("c\n");
  co_await gen::sleep(0.05);  // the loop reports the arrival meanwhile
  EXPECT_EQ(server.read_buffer_size(), 1u);
  EXPECT_EQ(queued_bytes(s), 2);
  CO_ASSERT_EQ(co_await server.read_until("\n"), "bc\n");
}

// A read satisfied by part of one recv leaves the rest in the kernel; the next read takes
// it at once (no report is coming for bytes that arrived before the last one).
ASYNC_TEST_F(IOStreamTest, BytesLeftInTheKernelByASatisfiedReadAreReadInline) {
  auto [s, c] = tcp_pair();
  BaseIOStream::Options opts;
  opts.read_chunk_size = 4;
  CountingIOStream server(s, opts);
  IOStream client(c);
  co_await client.write("ab\ncdefgh\n");
  co_await gen::sleep(0.05);
  CO_ASSERT_EQ(co_await server.read_until("\n"), "ab\n");
  co_await gen::sleep(0.05);
  EXPECT_EQ(queued_bytes(s), 6);
  CO_ASSERT_EQ(co_await server.read_until("\n"), "cdefgh\n");
  EXPECT_EQ(server.would_block, 0);
}

// Pipes skip the inline retry too (a short read proves them empty): ping-pong still flows.
ASYNC_TEST_F(IOStreamTest, PipePingPongAfterShortReads) {
  int fds[2];
  CO_ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  PipeIOStream reader(fds[0]);
  PipeIOStream writer(fds[1]);
  for (int i = 0; i < 20; ++i) {
    co_await writer.write("ping\n");
    CO_ASSERT_EQ(co_await reader.read_until("\n"), "ping\n");
  }
}

// The write queue against std::deque under random pushes and pops (compaction included).
int nodelay_of(int fd) {
  int value = -1;
  socklen_t length = sizeof(value);
  EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &length), 0);
  return value;
}

ASYNC_TEST_F(IOStreamTest, NodelayTakesEffectBeforeTheSecondSend) {
  make_pair();
  server_->set_nodelay(true);
  CO_ASSERT_EQ(nodelay_of(server_->fileno()), 0);  // no system call yet
  co_await server_->write("first");
  CO_ASSERT_EQ(nodelay_of(server_->fileno()), 0);  // a first send is never held back
  co_await server_->write("second");
  CO_ASSERT_EQ(nodelay_of(server_->fileno()), 1);
  CO_ASSERT_EQ(co_await client_->read_bytes(11), "firstsecond");
  // Once the stream has sent, either way acts at once.
  server_->set_nodelay(false);
  CO_ASSERT_EQ(nodelay_of(server_->fileno()), 0);
  server_->set_nodelay(true);
  CO_ASSERT_EQ(nodelay_of(server_->fileno()), 1);
}

ASYNC_TEST_F(IOStreamTest, NonblockingFdsAreTakenAsTheyAre) {
  auto [s, c] = tcp_pair();
  ::fcntl(s, F_SETFL, ::fcntl(s, F_GETFL) | O_NONBLOCK);
  BaseIOStream::Options told;
  told.fd_is_nonblocking = true;
  server_ = std::make_unique<IOStream>(s, told);
  client_ = std::make_unique<IOStream>(c);  // blocking: made non-blocking
  CO_ASSERT_TRUE(::fcntl(c, F_GETFL) & O_NONBLOCK);
  co_await client_->write("ping");
  CO_ASSERT_EQ(co_await server_->read_bytes(4), "ping");
}

TEST(FifoTest, MatchesADeque) {
  internal::Fifo<std::string> fifo;
  std::deque<std::string> model;
  std::mt19937 rng(7);
  for (int step = 0; step < 20000; ++step) {
    if (model.empty() || rng() % 3 != 0) {
      std::string item = std::to_string(step) + std::string(rng() % 40, 'x');
      fifo.emplace_back(item);
      model.push_back(item);
    } else {
      ASSERT_EQ(fifo.front(), model.front());
      fifo.pop_front();
      model.pop_front();
    }
    ASSERT_EQ(fifo.size(), model.size());
    if (step % 1000 == 0) {
      ASSERT_TRUE(std::equal(fifo.begin(), fifo.end(), model.begin(), model.end()));
    }
  }
  fifo.clear();
  EXPECT_TRUE(fifo.empty());
}

TEST(ReadBufferTest, ConsumeIsLinear) {
  ReadBuffer b;
  for (int round = 0; round < 1000; ++round) {
    char* p = b.prepare(1000);
    std::memset(p, 'a', 1000);
    b.commit(1000);
    b.consume(999);
  }
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_EQ(b.take(3), "aaa");
}

// Empty buffers read into one shared scratch block; release_scratch keeps what is left,
// so the next buffer's read there does not overwrite it.
TEST(ReadBufferTest, ScratchIsSharedAndReleasedBytesSurvive) {
  ReadBuffer a;
  ReadBuffer b;
  char* pa = a.prepare(16);
  std::memcpy(pa, "hello, world", 12);
  a.commit(12);
  a.consume(7);
  a.release_scratch();
  char* pb = b.prepare(16);
  EXPECT_EQ(pb, pa);  // the same cache-hot block
  std::memcpy(pb, "XXXXXXXXXXXX", 12);
  b.commit(12);
  EXPECT_EQ(a.view(), "world");
  EXPECT_EQ(b.take(12), "XXXXXXXXXXXX");
  b.release_scratch();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a.take(5), "world");
}

// Two streams take turns on the scratch block: bytes one leaves buffered after a read
// are still there after the other has read.
ASYNC_TEST_F(IOStreamTest, BufferedBytesSurviveAnotherStreamsRead) {
  auto [s1, c1] = tcp_pair();
  auto [s2, c2] = tcp_pair();
  IOStream a(s1), a_peer(c1), b(s2), b_peer(c2);
  co_await a_peer.write("first\nleft in a's buffer");
  CO_ASSERT_EQ(co_await a.read_until("\n"), "first\n");
  co_await b_peer.write("0123456789012345678901234567890123456789");
  CO_ASSERT_EQ(co_await b.read_bytes(40), "0123456789012345678901234567890123456789");
  CO_ASSERT_EQ(co_await a.read_bytes(18), "left in a's buffer");
}

class PipeIOStreamTest : public testing::AsyncTestCase {};

ASYNC_TEST_F(PipeIOStreamTest, PipeReadWriteAndEPIPE) {
  // Tornado's TestPipeIOStream.test_pipe_iostream.
  int fds[2];
  CO_ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto reader = std::make_unique<PipeIOStream>(fds[0]);
  PipeIOStream writer(fds[1]);
  co_await writer.write("hel");
  co_await writer.write("lo world");
  CO_ASSERT_EQ(co_await reader->read_until(" "), "hello ");
  CO_ASSERT_EQ(co_await reader->read_bytes(3), "wor");
  reader.reset();  // reader gone: the next write gets EPIPE, not SIGPIPE
  CO_ASSERT_TRUE(co_await raises<StreamClosedError>(writer.write("more")));
  auto err = util::errno_from_exception(writer.error());
  EXPECT_EQ(err.value_or(0), EPIPE);
}

ASYNC_TEST_F(PipeIOStreamTest, ReadUntilCloseFromPipe) {
  int fds[2];
  CO_ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  PipeIOStream reader(fds[0]);
  auto writer = std::make_unique<PipeIOStream>(fds[1]);
  auto all_f = reader.read_until_close();
  co_await writer->write(std::string(300000, 'p'));  // larger than the pipe buffer
  writer.reset();
  std::string all = co_await all_f;
  EXPECT_EQ(all.size(), 300000u);
}

}  // namespace
}  // namespace tornado::iostream
