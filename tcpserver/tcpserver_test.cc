// Tests for TCPServer, after Tornado's tornado/test/tcpserver_test.py, plus echo servers
// (plain and TLS, 50 concurrent clients), real peers (Python's socket module, openssl
// s_client with SNI and ALPN) and bad input (garbage instead of a ClientHello, a peer
// that resets mid-write).
#include "tcpserver/tcpserver.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <system_error>
#include <stdexcept>
#include <string>
#include <vector>

#include "concurrent/future.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "ioloop/ioloop.h"
#include "iostream/iostream.h"
#include "log/log.h"
#include "netutil/netutil.h"
#include "process/process.h"
#include "testing/loopback.h"
#include "testing/testing.h"

namespace tornado::tcpserver {
namespace {

using concurrent::Future;
using iostream::IOStream;
using iostream::SSLIOStream;
using iostream::StreamClosedError;
using netutil::SocketAddress;
using StreamPtr = std::shared_ptr<IOStream>;

std::string runfile(const std::string& path) {
  const char* src = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(src ? src : ".") + "/" + (ws ? ws : "tornado") + "/" + path;
}
std::string testdata(const std::string& name) { return runfile("netutil/testdata/" + name); }

netutil::SSLOptions server_ssl_options() {
  netutil::SSLOptions o;
  o.certfile = testdata("localhost.crt");
  o.keyfile = testdata("localhost.key");
  return o;
}
std::shared_ptr<netutil::SSLContext> client_context() {
  netutil::SSLOptions o;
  o.ca_certs = testdata("ca.crt");
  return netutil::ssl_options_to_context(o, false);
}

int port_of(const TCPServer& server) {
  return SocketAddress::local_of(server.sockets().at(0)).port();
}

std::string find_openssl() {
  for (const char* p : {"/usr/bin/openssl", "/usr/local/bin/openssl"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

// Echoes lines until the peer closes; counts connections and completed handlers.
class EchoServer : public TCPServer {
 public:
  using TCPServer::TCPServer;
  int accepted = 0;
  int finished = 0;
  bool close_after_line = false;
  std::vector<std::string> server_names;
  std::vector<std::string> alpn;
  Future<void> handle_stream(StreamPtr stream, SocketAddress address) override {
    ++accepted;
    try {
      for (;;) {
        std::string line = co_await stream->read_until("\n");
        if (auto* tls = dynamic_cast<SSLIOStream*>(stream.get())) {
          server_names.push_back(tls->server_name());
          alpn.push_back(tls->selected_alpn_protocol());
        }
        co_await stream->write(line);
        if (close_after_line) stream->close();
      }
    } catch (const StreamClosedError&) {
    }
    ++finished;
  }
};

class TCPServerTest : public testing::AsyncTestCase {};

// test_handle_stream_coroutine_logging
ASYNC_TEST_F(TCPServerTest, HandleStreamCoroutineLogging) {
  class Server : public TCPServer {
    Future<void> handle_stream(StreamPtr stream, SocketAddress) override {
      std::string data = co_await stream->read_bytes(5);
      throw std::runtime_error("handler failed after " + data);
    }
  };
  Server server;
  server.listen(0, "127.0.0.1");
  testing::ExpectLog expect(log::app_log(), "Exception in callback");
  auto client_ptr = testing::plain_client(port_of(server));
  IOStream& client = *client_ptr;
  co_await client.write("hello");
  // The handler's failure closes nothing: our side sees the server drop the stream.
  co_await client.read_until_close();
  while (!expect.matched()) co_await gen::moment;
  EXPECT_NE(expect.matched_messages().at(0).find("handler failed after hello"),
            std::string::npos);
}

// A handle_stream that throws before returning a future.
ASYNC_TEST_F(TCPServerTest, SynchronousThrowIsLogged) {
  class Server : public TCPServer {
    Future<void> handle_stream(StreamPtr, SocketAddress) override {
      throw std::runtime_error("sync failure");
    }
  };
  Server server;
  server.listen(0, "127.0.0.1");
  testing::ExpectLog expect(log::app_log(), "Error in connection callback");
  for (int i = 0; i < 2; ++i) {  // the server survives and accepts the next one
    auto client_ptr = testing::plain_client(port_of(server));
    IOStream& client = *client_ptr;
    co_await client.read_until_close();
  }
  EXPECT_EQ(expect.match_count(), 2);
}

// test_handle_stream_native_coroutine
ASYNC_TEST_F(TCPServerTest, HandleStreamNativeCoroutine) {
  class Server : public TCPServer {
    Future<void> handle_stream(StreamPtr stream, SocketAddress) override {
      co_await stream->write("data");
      stream->close();
    }
  };
  Server server;
  server.listen(0, "127.0.0.1");
  auto client_ptr = testing::plain_client(port_of(server));
  IOStream& client = *client_ptr;
  std::string got = co_await client.read_until_close();
  CO_ASSERT_EQ(got, "data");
}

// test_stop_twice
TEST_F(TCPServerTest, StopTwice) {
  EchoServer server;
  server.listen(0, "127.0.0.1");
  server.stop();
  server.stop();
  EXPECT_TRUE(server.sockets().empty());
}

// test_stop_in_callback (issue #2069): stop() inside handle_stream while more
// connections are queued must not touch the closed listening socket.
ASYNC_TEST_F(TCPServerTest, StopInCallback) {
  class Server : public TCPServer {
   public:
    int started = 0;
    int finished = 0;
    Future<void> handle_stream(StreamPtr stream, SocketAddress) override {
      ++started;
      stop();
      try {
        co_await stream->read_until_close();
      } catch (const StreamClosedError&) {
      }
      ++finished;
    }
  };
  Server server;
  auto bound = testing::bind_unused_port();
  server.add_socket(bound.fd);
  constexpr int kN = 40;
  std::vector<std::unique_ptr<IOStream>> clients;
  for (int i = 0; i < kN; ++i) clients.push_back(testing::plain_client(bound.port));
  while (server.started == 0) co_await gen::moment;
  EXPECT_GE(server.started, 1);
  EXPECT_TRUE(server.sockets().empty());
  clients.clear();
  while (server.finished < server.started) co_await gen::moment;
}

// Echo with many concurrent clients.
Future<void> echo_client(int port, int i, std::shared_ptr<netutil::SSLContext> tls,
                         std::string sni, std::shared_ptr<int> ok) {
  std::unique_ptr<IOStream> stream;
  if (tls) {
    stream = std::make_unique<SSLIOStream>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), tls, sni);
    auto connected = stream->connect(SocketAddress::from_ip("127.0.0.1", port), sni);
    co_await connected;
  } else {
    stream = testing::plain_client(port);
  }
  for (int round = 0; round < 3; ++round) {
    const std::string msg = "client " + std::to_string(i) + " round " + std::to_string(round) + "\n";
    co_await stream->write(msg);
    std::string got = co_await stream->read_until("\n");
    CO_ASSERT_EQ(got, msg);
  }
  ++*ok;
}

ASYNC_TEST_F(TCPServerTest, EchoFiftyConcurrentClients) {
  EchoServer server;
  server.listen(0, "127.0.0.1");
  auto ok = std::make_shared<int>(0);
  std::vector<Future<void>> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(echo_client(port_of(server), i, nullptr, "", ok));
  for (auto& c : clients) co_await c;
  EXPECT_EQ(*ok, 50);
  while (server.finished < 50) co_await gen::moment;
  EXPECT_EQ(server.accepted, 50);
}

ASYNC_TEST_F(TCPServerTest, TLSEchoFiftyConcurrentClients) {
  EchoServer server(server_ssl_options());
  server.listen(0, "127.0.0.1");
  auto ok = std::make_shared<int>(0);
  auto ctx = client_context();
  std::vector<Future<void>> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(echo_client(port_of(server), i, ctx, "localhost", ok));
  for (auto& c : clients) co_await c;
  EXPECT_EQ(*ok, 50);
  while (server.finished < 50) co_await gen::moment;
  CO_ASSERT_FALSE(server.server_names.empty());
  EXPECT_EQ(server.server_names[0], "localhost");
}

// A client that sends garbage instead of a ClientHello: logged, the server serves on.
ASYNC_TEST_F(TCPServerTest, GarbageInsteadOfClientHello) {
  EchoServer server(server_ssl_options());
  server.listen(0, "127.0.0.1");
  {
    testing::ExpectLog expect(log::gen_log(), "SSL Error");
    auto bad_ptr = testing::plain_client(port_of(server));
    IOStream& bad = *bad_ptr;
    co_await bad.write("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
    try {
      co_await bad.read_until_close();  // the server drops us (maybe with a TLS alert)
    } catch (const StreamClosedError&) {
    }
    while (server.finished < 1) co_await gen::moment;
  }
  auto ok = std::make_shared<int>(0);
  co_await echo_client(port_of(server), 1, client_context(), "localhost", ok);
  EXPECT_EQ(*ok, 1);
  while (server.finished < 2) co_await gen::moment;  // the handler uses the server
}

// A peer that resets the connection while the server writes to it.
ASYNC_TEST_F(TCPServerTest, PeerResetMidWrite) {
  class Server : public TCPServer {
   public:
    Future<void> write_failed;
    Future<void> handle_stream(StreamPtr stream, SocketAddress) override {
      std::string cmd = co_await stream->read_until("\n");
      if (cmd == "flood\n") {
        try {
          for (;;) co_await stream->write(std::string(1 << 20, 'x'));
        } catch (const StreamClosedError&) {
          write_failed.set_result();
        }
        co_return;
      }
      co_await stream->write(cmd);
    }
  };
  Server server;
  server.listen(0, "127.0.0.1");
  const int port = port_of(server);
  {
    auto victim_ptr = testing::plain_client(port);
    IOStream& victim = *victim_ptr;
    co_await victim.write("flood\n");
    std::string first = co_await victim.read_bytes(1 << 16);
    CO_ASSERT_EQ(first.size(), std::size_t{1} << 16);
    linger lg{1, 0};  // close() now sends RST
    ::setsockopt(victim.fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  co_await server.write_failed;
  auto other_ptr = testing::plain_client(port);
  IOStream& other = *other_ptr;
  co_await other.write("still there\n");
  std::string got = co_await other.read_until("\n");
  EXPECT_EQ(got, "still there\n");
}

// A real peer: Python's socket module.
ASYNC_TEST_F(TCPServerTest, PythonSocketClient) {
  EchoServer server;
  server.listen(0, "127.0.0.1");
  const std::string script =
      "import socket,sys\n"
      "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n"
      "s.sendall(b'from python\\n')\n"
      "buf=b''\n"
      "while not buf.endswith(b'\\n'):\n"
      "  c=s.recv(100)\n"
      "  if not c: break\n"
      "  buf+=c\n"
      "s.close()\n"
      "print(buf.decode().strip())\n";
  std::string out = co_await testing::run_command("/usr/bin/python3 -c \"" + script + "\" " +
                                         std::to_string(port_of(server)));
  EXPECT_EQ(out, "from python\nrc=0");
  while (server.finished < 1) co_await gen::moment;
}

// A real TLS peer: openssl s_client, checking SNI (per-name certificate) and ALPN.
ASYNC_TEST_F(TCPServerTest, OpenSSLClientSNIAndALPN) {
  const std::string openssl = find_openssl();
  if (openssl.empty()) {
    CO_FAIL() << "openssl not found in /usr/bin or /usr/local/bin (install Debian's openssl)";
  }
  auto options = server_ssl_options();
  options.alpn_protocols = {"h2", "http/1.1"};
  options.sni_certificates["other.example"] = {testdata("other.example.crt"),
                                               testdata("other.example.key")};
  EchoServer server(options);
  server.close_after_line = true;  // s_client -ign_eof exits when we close
  server.listen(0, "127.0.0.1");
  const std::string cmd = "echo 'hello openssl' | " + openssl + " s_client -connect 127.0.0.1:" +
                          std::to_string(port_of(server)) +
                          " -servername other.example -verify_hostname other.example"
                          " -alpn http/1.1 -CAfile " + testdata("ca.crt") +
                          " -verify_return_error -ign_eof 2>&1";
  std::string out = co_await testing::run_command(cmd);
  EXPECT_NE(out.find("ALPN protocol: http/1.1"), std::string::npos) << out;
  EXPECT_NE(out.find("Verify return code: 0 (ok)"), std::string::npos) << out;
  EXPECT_NE(out.find("hello openssl"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=0"), std::string::npos) << out;
  while (server.finished < 1) co_await gen::moment;
  CO_ASSERT_EQ(server.server_names.size(), 1u);
  EXPECT_EQ(server.server_names[0], "other.example");
  EXPECT_EQ(server.alpn[0], "http/1.1");
}

// Each worker answers one connection with its task id, then leaves: it stops listening
// before replying, so the next connection can only reach another worker.
class TaskIdServer : public TCPServer {
 public:
  Future<void> handle_stream(StreamPtr stream, SocketAddress) override {
    stop();
    const std::string reply = "task " + std::to_string(process::task_id().value_or(-1)) + "\n";
    co_await stream->write(reply);
    ioloop::IOLoop::current()->stop();
  }
};

// One line from a blocking connection to 127.0.0.1:port (10 s receive timeout).
std::string read_line_from(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const auto addr = SocketAddress::from_ip("127.0.0.1", port);
  std::string line;
  if (::connect(fd, addr.sockaddr_ptr(), addr.length) == 0) {
    char c = 0;
    while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  }
  ::close(fd);
  return line;
}

// Tornado's TestMultiprocess, over raw sockets: start(2) forks two workers that share
// the listening socket. Runs in a forked supervisor so the test process never forks
// under gtest; the supervisor exits 0 once both workers have exited cleanly.
TEST_F(TCPServerTest, StartWithTwoProcessesServesFromBothTaskIds) {
  int port_pipe[2];
  ASSERT_EQ(::pipe2(port_pipe, O_CLOEXEC), 0);
  const pid_t supervisor = ::fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    ioloop::IOLoop::clear_current();  // the fixture's loop is not ours to use here
    TaskIdServer server;
    server.bind(0, "127.0.0.1");
    const int port = SocketAddress::local_of(server.bound_sockets().at(0)).port();
    if (::write(port_pipe[1], &port, sizeof(port)) != sizeof(port)) ::_exit(3);
    try {
      server.start(2, 0);  // workers return here; the supervisor exits in fork_processes
    } catch (...) {
      ::_exit(2);
    }
    ioloop::IOLoop::current()->start();
    ::_exit(0);
  }
  ::close(port_pipe[1]);
  int port = 0;
  ASSERT_EQ(::read(port_pipe[0], &port, sizeof(port)), ssize_t{sizeof(port)});
  ::close(port_pipe[0]);

  std::vector<std::string> replies = {read_line_from(port), read_line_from(port)};
  std::sort(replies.begin(), replies.end());
  EXPECT_EQ(replies, (std::vector<std::string>{"task 0", "task 1"}));
  int status = 0;
  ASSERT_EQ(::waitpid(supervisor, &status, 0), supervisor);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST_F(TCPServerTest, StartTwiceThrows) {
  EchoServer server;
  server.bind(0, "127.0.0.1");
  EXPECT_TRUE(server.sockets().empty());
  server.start(1);
  EXPECT_EQ(server.sockets().size(), 1u);
  EXPECT_THROW(server.start(1), std::logic_error);
}

ASYNC_TEST_F(TCPServerTest, BindThenStartServesAndBufferSizesReachStreams) {
  class Server : public TCPServer {
   public:
    using TCPServer::TCPServer;
    std::size_t seen = 0;
    Future<void> handle_stream(StreamPtr stream, SocketAddress address) override {
      seen = stream->max_buffer_size();
      EXPECT_EQ(address.host(), "127.0.0.1");
      co_await stream->write("hi");
      stream->close();
    }
  };
  Server server(nullptr, 4096, 512);
  server.bind(0, "127.0.0.1");
  server.start();
  auto client_ptr = testing::plain_client(port_of(server));
  IOStream& client = *client_ptr;
  std::string got = co_await client.read_until_close();
  EXPECT_EQ(got, "hi");
  EXPECT_EQ(server.seen, 4096u);
}

TEST_F(TCPServerTest, SSLOptionsNeedCertfile) {
  EXPECT_THROW(EchoServer(netutil::SSLOptions{}), std::invalid_argument);
}

}  // namespace
}  // namespace tornado::tcpserver
