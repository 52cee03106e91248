// Tests for TCPClient and Connector, after Tornado's tornado/test/tcpclient_test.py
// (TCPClientTest, ConnectorTest with fake connect functions, TestConnectorSplit), plus a
// fake clock driving the happy-eyeballs timer, 50 concurrent plain and TLS clients and
// source address binding, and our TLS client against a real `openssl s_server`.
#include "tcpclient/tcpclient.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "concurrent/future.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "ioloop/ioloop.h"
#include "iostream/iostream.h"
#include "log/log.h"
#include "netutil/netutil.h"
#include "queues/queues.h"
#include "tcpserver/tcpserver.h"
#include "testing/testing.h"

namespace tornado::tcpclient {
namespace {

using concurrent::Future;
using iostream::StreamClosedError;

constexpr int AF1 = AF_INET;
constexpr int AF2 = AF_INET6;

ResolvedAddress addr(int af, const std::string& name) {
  // Names a..d as distinct fake addresses of the family.
  const int port = name[0];
  return {af, SocketAddress::from_ip(af == AF_INET ? "10.0.0.1" : "fd00::1", port)};
}
std::string name_of(const SocketAddress& a) { return std::string(1, static_cast<char>(a.port())); }

// ---- Connector with fake connect functions (Tornado's ConnectorTest) -------------------

class ConnectorTest : public testing::AsyncTestCase {
 protected:
  using Key = std::pair<int, std::string>;
  std::map<Key, Future<void>> connect_futures_;
  std::map<std::string, StreamPtr> streams_;
  std::vector<ResolvedAddress> addrinfo_ = {addr(AF1, "a"), addr(AF1, "b"), addr(AF2, "c"),
                                            addr(AF2, "d")};

  void TearDown() override {
    // Unless popped by the test, no stream may have been closed.
    for (const auto& [name, stream] : streams_) EXPECT_FALSE(stream->closed()) << name;
    streams_.clear();
    connect_futures_.clear();
    testing::AsyncTestCase::TearDown();
  }

  std::pair<StreamPtr, Future<void>> create_stream(int af, SocketAddress a) {
    // A real (unconnected) stream stands in for Tornado's FakeStream: close() is observable.
    auto stream = std::make_shared<iostream::IOStream>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    streams_[name_of(a)] = stream;
    Future<void> f;
    connect_futures_[{af, name_of(a)}] = f;
    return {stream, f};
  }

  void assert_pending(std::vector<Key> keys) {
    std::vector<Key> have;
    for (const auto& [k, f] : connect_futures_) have.push_back(k);
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(have, keys);
  }

  void resolve_connect(int af, const std::string& name, bool success) {
    auto it = connect_futures_.find({af, name});
    ASSERT_NE(it, connect_futures_.end());
    Future<void> f = it->second;
    connect_futures_.erase(it);
    if (success) {
      f.set_result();
    } else {
      streams_.erase(name);
      f.set_exception(std::runtime_error("IOError"));
    }
    io_loop()->add_callback([this] { stop(); });
    wait();
  }

  std::pair<std::shared_ptr<Connector>, Future<ConnectResult>> start_connect(
      std::vector<ResolvedAddress> addrinfo) {
    auto conn = Connector::create(std::move(addrinfo), [this](int af, SocketAddress a) {
      return create_stream(af, a);
    });
    // A huge timeout; the tests trigger the timers by hand.
    auto f = conn->start(3600, gen::Deadline{io_loop()->time() + 3600});
    return {conn, f};
  }

  void assert_connector_streams_closed(const Connector& conn) {
    for (const auto& s : conn.streams()) EXPECT_TRUE(s->closed());
  }

  void expect_result(Future<ConnectResult> f, int af, const std::string& name) {
    ASSERT_TRUE(f.done());
    EXPECT_EQ(f.result().af, af);
    EXPECT_EQ(name_of(f.result().address), name);
    EXPECT_EQ(f.result().stream, streams_[name]);
  }
  template <typename E>
  void expect_error(Future<ConnectResult> f) {
    ASSERT_TRUE(f.done());
    EXPECT_THROW(f.result(), E);
  }
};

TEST_F(ConnectorTest, ImmediateSuccess) {
  auto [conn, future] = start_connect(addrinfo_);
  assert_pending({{AF1, "a"}});
  resolve_connect(AF1, "a", true);
  expect_result(future, AF1, "a");
}

TEST_F(ConnectorTest, ImmediateFailure) {
  auto [conn, future] = start_connect({addr(AF1, "a")});
  assert_pending({{AF1, "a"}});
  resolve_connect(AF1, "a", false);
  expect_error<std::runtime_error>(future);
}

TEST_F(ConnectorTest, OneFamilySecondTry) {
  auto [conn, future] = start_connect({addr(AF1, "a"), addr(AF1, "b")});
  resolve_connect(AF1, "a", false);
  assert_pending({{AF1, "b"}});
  resolve_connect(AF1, "b", true);
  expect_result(future, AF1, "b");
}

TEST_F(ConnectorTest, OneFamilySecondTryFailure) {
  auto [conn, future] = start_connect({addr(AF1, "a"), addr(AF1, "b")});
  resolve_connect(AF1, "a", false);
  assert_pending({{AF1, "b"}});
  resolve_connect(AF1, "b", false);
  expect_error<std::runtime_error>(future);
}

TEST_F(ConnectorTest, OneFamilySecondTryTimeout) {
  auto [conn, future] = start_connect({addr(AF1, "a"), addr(AF1, "b")});
  conn->on_timeout();  // no secondary family: nothing happens
  assert_pending({{AF1, "a"}});
  resolve_connect(AF1, "a", false);
  assert_pending({{AF1, "b"}});
  resolve_connect(AF1, "b", true);
  expect_result(future, AF1, "b");
}

TEST_F(ConnectorTest, TwoFamiliesImmediateFailure) {
  auto [conn, future] = start_connect(addrinfo_);
  resolve_connect(AF1, "a", false);
  assert_pending({{AF1, "b"}, {AF2, "c"}});
  resolve_connect(AF1, "b", false);
  resolve_connect(AF2, "c", true);
  expect_result(future, AF2, "c");
}

TEST_F(ConnectorTest, TwoFamiliesTimeout) {
  auto [conn, future] = start_connect(addrinfo_);
  conn->on_timeout();
  assert_pending({{AF1, "a"}, {AF2, "c"}});
  resolve_connect(AF2, "c", true);
  expect_result(future, AF2, "c");
  // 'a' failing after the result does not start 'b'.
  resolve_connect(AF1, "a", false);
  assert_pending({});
}

TEST_F(ConnectorTest, SuccessAfterTimeout) {
  auto [conn, future] = start_connect(addrinfo_);
  conn->on_timeout();
  assert_pending({{AF1, "a"}, {AF2, "c"}});
  resolve_connect(AF1, "a", true);
  expect_result(future, AF1, "a");
  // 'c' succeeding after the result is closed.
  resolve_connect(AF2, "c", true);
  EXPECT_TRUE(streams_["c"]->closed());
  streams_.erase("c");
}

TEST_F(ConnectorTest, AllFail) {
  auto [conn, future] = start_connect(addrinfo_);
  conn->on_timeout();
  assert_pending({{AF1, "a"}, {AF2, "c"}});
  resolve_connect(AF2, "c", false);
  assert_pending({{AF1, "a"}, {AF2, "d"}});
  resolve_connect(AF2, "d", false);
  assert_pending({{AF1, "a"}});
  resolve_connect(AF1, "a", false);
  assert_pending({{AF1, "b"}});
  EXPECT_FALSE(future.done());
  resolve_connect(AF1, "b", false);
  expect_error<std::runtime_error>(future);
}

TEST_F(ConnectorTest, OneFamilyTimeoutAfterConnectTimeout) {
  auto [conn, future] = start_connect({addr(AF1, "a"), addr(AF1, "b")});
  conn->on_connect_timeout();
  connect_futures_.erase({AF1, "a"});
  EXPECT_TRUE(streams_["a"]->closed());
  streams_.erase("a");
  conn->on_timeout();
  assert_pending({});
  EXPECT_EQ(conn->streams().size(), 1u);
  assert_connector_streams_closed(*conn);
  expect_error<gen::TimeoutError>(future);
}

TEST_F(ConnectorTest, OneFamilySuccessBeforeConnectTimeout) {
  auto [conn, future] = start_connect({addr(AF1, "a"), addr(AF1, "b")});
  resolve_connect(AF1, "a", true);
  conn->on_connect_timeout();
  assert_pending({});
  EXPECT_FALSE(streams_["a"]->closed());
  EXPECT_EQ(conn->streams().size(), 0u);
  expect_result(future, AF1, "a");
}

TEST_F(ConnectorTest, OneFamilySecondTryAfterConnectTimeout) {
  auto [conn, future] = start_connect({addr(AF1, "a"), addr(AF1, "b")});
  resolve_connect(AF1, "a", false);
  assert_pending({{AF1, "b"}});
  conn->on_connect_timeout();
  connect_futures_.erase({AF1, "b"});
  EXPECT_TRUE(streams_["b"]->closed());
  streams_.erase("b");
  assert_pending({});
  EXPECT_EQ(conn->streams().size(), 2u);
  assert_connector_streams_closed(*conn);
  expect_error<gen::TimeoutError>(future);
}

TEST_F(ConnectorTest, TwoFamilyTimeoutBeforeConnectTimeout) {
  auto [conn, future] = start_connect(addrinfo_);
  conn->on_timeout();
  assert_pending({{AF1, "a"}, {AF2, "c"}});
  conn->on_connect_timeout();
  for (const char* n : {"a", "c"}) {
    EXPECT_TRUE(streams_[n]->closed());
    streams_.erase(n);
  }
  connect_futures_.clear();
  EXPECT_EQ(conn->streams().size(), 2u);
  assert_connector_streams_closed(*conn);
  expect_error<gen::TimeoutError>(future);
}

TEST_F(ConnectorTest, TwoFamilySuccessAfterTimeout) {
  auto [conn, future] = start_connect(addrinfo_);
  conn->on_timeout();
  resolve_connect(AF1, "a", true);
  conn->on_connect_timeout();
  // 'c' is still pending but its stream was closed with the result.
  connect_futures_.erase({AF2, "c"});
  EXPECT_TRUE(streams_["c"]->closed());
  streams_.erase("c");
  EXPECT_EQ(conn->streams().size(), 1u);
  assert_connector_streams_closed(*conn);
  expect_result(future, AF1, "a");
}

TEST(ConnectorSplitTest, OneFamily) {
  auto [primary, secondary] = Connector::split({addr(AF1, "a"), addr(AF1, "b")});
  EXPECT_EQ(primary.size(), 2u);
  EXPECT_TRUE(secondary.empty());
}

TEST(ConnectorSplitTest, Mixed) {
  auto [primary, secondary] =
      Connector::split({addr(AF1, "a"), addr(AF2, "b"), addr(AF1, "c"), addr(AF2, "d")});
  ASSERT_EQ(primary.size(), 2u);
  ASSERT_EQ(secondary.size(), 2u);
  EXPECT_EQ(name_of(primary[0].second), "a");
  EXPECT_EQ(name_of(primary[1].second), "c");
  EXPECT_EQ(name_of(secondary[0].second), "b");
  EXPECT_EQ(name_of(secondary[1].second), "d");
}

// The real timers, driven by a controllable clock: the secondary family starts only
// once 0.3 s of loop time passed, and the connect timeout fails the race.
class ConnectorClockTest : public ConnectorTest {
 protected:
  std::shared_ptr<double> now_ = std::make_shared<double>(1000.0);
  std::unique_ptr<ioloop::IOLoop> get_new_ioloop() override {
    ioloop::IOLoop::Options o;
    o.time_func = [now = now_] { return *now; };
    return std::make_unique<testing::TestIOLoop>(o);
  }
  void advance(double seconds) {
    *now_ += seconds;
    io_loop()->add_callback([this] { io_loop()->add_callback([this] { stop(); }); });
    wait();
  }
};

TEST_F(ConnectorClockTest, SecondaryAfterInitialTimeoutThenConnectTimeout) {
  auto conn = Connector::create(addrinfo_, [this](int af, SocketAddress a) {
    return create_stream(af, a);
  });
  auto future = conn->start(kInitialConnectTimeout, gen::Deadline{io_loop()->time() + 5});
  assert_pending({{AF1, "a"}});
  advance(0.29);
  assert_pending({{AF1, "a"}});
  advance(0.02);
  assert_pending({{AF1, "a"}, {AF2, "c"}});
  advance(5);
  expect_error<gen::TimeoutError>(future);
  for (const char* n : {"a", "c"}) {
    EXPECT_TRUE(streams_[n]->closed());
    streams_.erase(n);
  }
  connect_futures_.clear();
}

// ---- TCPClient against TCPServer and real sockets (Tornado's TCPClientTest) ----------

std::string runfile(const std::string& path) {
  const char* src = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(src ? src : ".") + "/" + (ws ? ws : "tornado") + "/" + path;
}
std::string testdata(const std::string& name) { return runfile("netutil/testdata/" + name); }

class EchoServer : public tcpserver::TCPServer {
 public:
  using TCPServer::TCPServer;
  std::vector<std::string> server_names;
  std::vector<std::string> peers;
  Future<void> handle_stream(StreamPtr stream, SocketAddress address) override {
    peers.push_back(address.to_string());
    try {
      for (;;) {
        std::string line = co_await stream->read_until("\n");
        if (auto* tls = dynamic_cast<iostream::SSLIOStream*>(stream.get())) {
          server_names.push_back(tls->server_name());
        }
        co_await stream->write(line);
      }
    } catch (const StreamClosedError&) {
    }
  }
};

class TCPClientTest : public testing::AsyncTestCase {
 protected:
  std::unique_ptr<EchoServer> server_;
  int port_ = 0;
  void start_server(const std::string& address = "127.0.0.1", int family = AF_INET,
                    std::shared_ptr<netutil::SSLContext> tls = nullptr) {
    server_ = std::make_unique<EchoServer>(tls);
    server_->listen(0, address, family);
    port_ = SocketAddress::local_of(server_->sockets().at(0)).port();
  }
  void TearDown() override {
    server_.reset();
    testing::AsyncTestCase::TearDown();
  }
};

Future<void> echo_once(StreamPtr stream, std::string msg) {
  co_await stream->write(msg);
  std::string got = co_await stream->read_until("\n");
  CO_ASSERT_EQ(got, msg);
}

ASYNC_TEST_F(TCPClientTest, ConnectIPv4) {
  start_server();
  TCPClient client;
  StreamPtr stream = co_await client.connect("127.0.0.1", port_, AF_INET);
  co_await echo_once(stream, "hello\n");
}

ASYNC_TEST_F(TCPClientTest, ConnectLocalhostUnspec) {
  start_server();
  TCPClient client;
  StreamPtr stream = co_await client.connect("localhost", port_);
  co_await echo_once(stream, "hello localhost\n");
}

ASYNC_TEST_F(TCPClientTest, ConnectIPv6) {
  start_server("::1", AF_INET6);
  TCPClient client;
  StreamPtr stream = co_await client.connect("::1", port_, AF_INET6);
  co_await echo_once(stream, "hello v6\n");
}

ASYNC_TEST_F(TCPClientTest, RefusedIPv4) {
  auto bound = testing::bind_unused_port();
  ::close(bound.fd);
  TCPClient client;
  testing::ExpectLog expect(log::gen_log(), "Connect error", /*required=*/false);
  try {
    StreamPtr s = co_await client.connect("127.0.0.1", bound.port);
    CO_FAIL() << "connected to a closed port";
  } catch (const StreamClosedError& e) {
    try {
      std::rethrow_exception(e.real_error());
    } catch (const std::system_error& se) {
      EXPECT_EQ(se.code().value(), ECONNREFUSED);
    }
  }
}

// Happy eyeballs for real: the primary family (IPv6 here) is refused, so the IPv4
// address is tried at once rather than after 0.3 s.
ASYNC_TEST_F(TCPClientTest, PrimaryFamilyRefusedFallsBack) {
  start_server();
  auto refused = testing::bind_unused_port(false, "::1");
  ::close(refused.fd);
  class FixedResolver : public netutil::Resolver {
   public:
    std::vector<ResolvedAddress> answer;
    Future<std::vector<ResolvedAddress>> resolve(std::string, int, int) override {
      Future<std::vector<ResolvedAddress>> f;
      f.set_result(answer);
      return f;
    }
  };
  auto resolver = std::make_shared<FixedResolver>();
  resolver->answer = {{AF_INET6, SocketAddress::from_ip("::1", refused.port)},
                      {AF_INET, SocketAddress::from_ip("127.0.0.1", port_)}};
  TCPClient client(resolver);
  testing::ExpectLog expect(log::gen_log(), "Connect error", /*required=*/false);
  const double start = io_loop()->time();
  StreamPtr stream = co_await client.connect("example.test", 1);
  EXPECT_LT(io_loop()->time() - start, kInitialConnectTimeout);
  co_await echo_once(stream, "fell back\n");
}

ASYNC_TEST_F(TCPClientTest, SourceIPFail) {
  start_server();
  TCPClient client;
  try {
    StreamPtr s = co_await client.connect("127.0.0.1", port_, AF_UNSPEC, nullptr, std::nullopt,
                                          "8.8.8.8");
    CO_FAIL() << "bound to a foreign address";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRNOTAVAIL);
  }
}

ASYNC_TEST_F(TCPClientTest, SourceIPSuccess) {
  start_server();
  TCPClient client;
  StreamPtr stream = co_await client.connect("127.0.0.1", port_, AF_UNSPEC, nullptr, std::nullopt,
                                             "127.0.0.1");
  co_await echo_once(stream, "from 127.0.0.1\n");
}

ASYNC_TEST_F(TCPClientTest, SourcePortFailAndSuccess) {
  start_server();
  TCPClient client;
  // A port in use by a listening socket (Tornado uses port 1, which root may bind).
  auto busy = testing::bind_unused_port();
  try {
    StreamPtr s = co_await client.connect("127.0.0.1", port_, AF_UNSPEC, nullptr, std::nullopt,
                                          "", busy.port);
    CO_FAIL() << "bound to a busy port";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
  }
  ::close(busy.fd);
  auto free_port = testing::bind_unused_port();
  ::close(free_port.fd);
  StreamPtr stream = co_await client.connect("127.0.0.1", port_, AF_UNSPEC, nullptr, std::nullopt,
                                             "", free_port.port);
  co_await echo_once(stream, "from a port\n");
  EXPECT_EQ(server_->peers.back(), "127.0.0.1:" + std::to_string(free_port.port));
}

ASYNC_TEST_F(TCPClientTest, ConnectTimeout) {
  class TimeoutResolver : public netutil::Resolver {
   public:
    Future<std::vector<ResolvedAddress>> resolve(std::string, int, int) override {
      return Future<std::vector<ResolvedAddress>>();  // never completes
    }
  };
  TCPClient client(std::make_shared<TimeoutResolver>());
  try {
    StreamPtr s = co_await client.connect("1.2.3.4", 12345, AF_UNSPEC, nullptr, std::nullopt, "",
                                          std::nullopt, std::chrono::milliseconds(50));
    CO_FAIL() << "no timeout";
  } catch (const gen::TimeoutError&) {
  }
}

// ---- Tornado's TCPClientTest family matrix: a real server on "localhost" per family ---
//
// Tornado's TestTCPServer binds bind_sockets(0, "localhost", family) and the client
// connects to an IP literal or "localhost" with the real resolver. Its IPv6 cases skip
// when "localhost" resolves to IPv4 only (skipIfLocalhostV4), which is the case on hosts
// whose /etc/hosts lacks "::1 localhost" -- this build machine's among them. We skip
// nothing: ::1 must exist (IPv6LoopbackExists fails loudly otherwise), and when the real
// resolver does not answer "localhost" with both families, the name is answered as a
// dual-stack host's /etc/hosts would (::1 first, then 127.0.0.1, glibc's RFC 6724 order)
// for both the server's bind and the client's resolve; every other name and every IP
// literal still goes through the real resolver.

bool can_bind(int af, const char* ip) {
  const int fd = ::socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto a = SocketAddress::from_ip(ip, 0);
  const bool ok = ::bind(fd, a.sockaddr_ptr(), a.length) == 0;
  ::close(fd);
  return ok;
}

bool localhost_is_dual_stack() {
  bool v4 = false, v6 = false;
  for (const auto& [af, a] : netutil::resolve_blocking("localhost", 80, AF_UNSPEC)) {
    v4 |= af == AF_INET;
    v6 |= af == AF_INET6;
  }
  return v4 && v6;
}

std::vector<ResolvedAddress> dual_stack_localhost(int port, int family) {
  std::vector<ResolvedAddress> out;
  if (family != AF_INET) out.push_back({AF_INET6, SocketAddress::from_ip("::1", port)});
  if (family != AF_INET6) out.push_back({AF_INET, SocketAddress::from_ip("127.0.0.1", port)});
  return out;
}

// The real resolver, except "localhost" on hosts where it is IPv4-only (see above).
class LocalhostResolver : public netutil::Resolver {
 public:
  Future<std::vector<ResolvedAddress>> resolve(std::string host, int port, int family) override {
    if (host != "localhost" || localhost_is_dual_stack()) return real_.resolve(host, port, family);
    ++localhost_answers;
    Future<std::vector<ResolvedAddress>> f;
    f.set_result(dual_stack_localhost(port, family));
    return f;
  }
  int localhost_answers = 0;

 private:
  netutil::DefaultExecutorResolver real_;
};

// Tornado's TestTCPServer: binds "localhost" for `family` on one port and queues the
// accepted streams; closes them when destroyed (Tornado's stop()).
class QueueingServer : public tcpserver::TCPServer {
 public:
  explicit QueueingServer(int family) {
    std::vector<int> sockets;
    if (localhost_is_dual_stack()) {
      sockets = netutil::bind_sockets(0, "localhost", family);
    } else {
      // bind_sockets' own port-0 rule, spelled out: every socket on the first one's port.
      // A port free on ::1 may be taken on 127.0.0.1: retry with a new port then.
      for (int attempt = 0; sockets.empty(); ++attempt) {
        int port = 0;
        try {
          for (const auto& [af, a] : dual_stack_localhost(0, family)) {
            auto fds = netutil::bind_sockets(port, a.host(), af);
            sockets.insert(sockets.end(), fds.begin(), fds.end());
            port = SocketAddress::local_of(sockets[0]).port();
          }
        } catch (const std::system_error& e) {
          for (int fd : sockets) ::close(fd);
          sockets.clear();
          if (e.code().value() != EADDRINUSE || attempt == 20) throw;
        }
      }
    }
    for (int fd : sockets) families.push_back(SocketAddress::local_of(fd).family());
    port = SocketAddress::local_of(sockets.at(0)).port();
    add_sockets(sockets);
  }
  ~QueueingServer() override {
    stop();
    for (auto& s : streams) s->close();
  }
  Future<void> handle_stream(StreamPtr stream, SocketAddress address) override {
    streams.push_back(stream);
    peer_families.push_back(address.family());
    queue.put_nowait(stream);
    co_return;
  }
  int port = 0;
  std::vector<int> families;  // of the listening sockets
  std::vector<StreamPtr> streams;
  std::vector<int> peer_families;
  queues::Queue<StreamPtr> queue;
};

class TCPClientFamilyTest : public testing::AsyncTestCase {
 protected:
  std::unique_ptr<QueueingServer> server_;
  std::shared_ptr<LocalhostResolver> resolver_ = std::make_shared<LocalhostResolver>();

  void SetUp() override {
    testing::AsyncTestCase::SetUp();
    ASSERT_TRUE(can_bind(AF_INET6, "::1"))
        << "this machine has no IPv6 loopback (::1): Tornado's IPv6 TCPClient cases cannot run";
    ASSERT_TRUE(can_bind(AF_INET, "127.0.0.1"));
  }
  void TearDown() override {
    server_.reset();
    testing::AsyncTestCase::TearDown();
  }

  // Tornado's do_test_connect; also checks the family the connection arrived over.
  Future<void> do_test_connect(int family, std::string host, int expect_peer_family,
                               std::string source_ip = "",
                               std::optional<int> source_port = std::nullopt) {
    server_ = std::make_unique<QueueingServer>(family);
    TCPClient client(resolver_);
    StreamPtr stream = co_await client.connect(host, server_->port, AF_UNSPEC, nullptr,
                                               std::nullopt, source_ip, source_port);
    StreamPtr server_stream = co_await server_->queue.get();
    co_await stream->write("hello");
    std::string data = co_await server_stream->read_bytes(5);
    EXPECT_EQ(data, "hello");
    EXPECT_EQ(server_->peer_families.back(), expect_peer_family);
    stream->close();
  }
};

TEST(TCPClientFamilyEnv, IPv6LoopbackExists) {
  // Not a skip condition: if this fails, the family matrix below fails too, loudly.
  EXPECT_TRUE(can_bind(AF_INET6, "::1")) << "no IPv6 loopback on this machine";
}

ASYNC_TEST_F(TCPClientFamilyTest, ConnectIPv4IPv4) {
  co_await do_test_connect(AF_INET, "127.0.0.1", AF_INET);
  EXPECT_EQ(server_->families, std::vector<int>{AF_INET});
}

// The client tries ::1 first (refused: the server is IPv4-only), then 127.0.0.1.
ASYNC_TEST_F(TCPClientFamilyTest, ConnectIPv4Dual) {
  testing::ExpectLog expect(log::gen_log(), "Connect error", /*required=*/false);
  const double start = io_loop()->time();
  co_await do_test_connect(AF_INET, "localhost", AF_INET);
  // The refusal moves on to IPv4 at once, without waiting for the 0.3 s timer.
  EXPECT_LT(io_loop()->time() - start, kInitialConnectTimeout);
  EXPECT_TRUE(localhost_is_dual_stack() || resolver_->localhost_answers == 1);
}

ASYNC_TEST_F(TCPClientFamilyTest, ConnectIPv6IPv6) {
  co_await do_test_connect(AF_INET6, "::1", AF_INET6);
  EXPECT_EQ(server_->families, std::vector<int>{AF_INET6});
}

ASYNC_TEST_F(TCPClientFamilyTest, ConnectIPv6Dual) {
  co_await do_test_connect(AF_INET6, "localhost", AF_INET6);
}

ASYNC_TEST_F(TCPClientFamilyTest, ConnectUnspecIPv4) {
  co_await do_test_connect(AF_UNSPEC, "127.0.0.1", AF_INET);
  std::vector<int> families = server_->families;
  std::sort(families.begin(), families.end());
  EXPECT_EQ(families, (std::vector<int>{AF_INET, AF_INET6}));  // one port, both families
}

ASYNC_TEST_F(TCPClientFamilyTest, ConnectUnspecIPv6) {
  co_await do_test_connect(AF_UNSPEC, "::1", AF_INET6);
}

// Both families listen: the first address (::1) wins.
ASYNC_TEST_F(TCPClientFamilyTest, ConnectUnspecDual) {
  co_await do_test_connect(AF_UNSPEC, "localhost", AF_INET6);
  EXPECT_EQ(server_->streams.size(), 1u);
  EXPECT_TRUE(localhost_is_dual_stack() || resolver_->localhost_answers == 1);
}

ASYNC_TEST_F(TCPClientFamilyTest, SourceIPSuccess) {
  co_await do_test_connect(AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
}

ASYNC_TEST_F(TCPClientFamilyTest, SourceIPFail) {
  try {
    co_await do_test_connect(AF_INET, "127.0.0.1", AF_INET, "8.8.8.8");
    CO_FAIL() << "bound to a foreign source address";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRNOTAVAIL);
  }
}

// Tornado uses port 1 and skips as root (root may bind it); a port held by a listening
// socket fails for everyone.
ASYNC_TEST_F(TCPClientFamilyTest, SourcePortFail) {
  auto busy = testing::bind_unused_port();
  try {
    co_await do_test_connect(AF_INET, "127.0.0.1", AF_INET, "", busy.port);
    CO_FAIL() << "bound to a busy source port";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
  }
  ::close(busy.fd);
}

Future<void> many_clients(int port, std::shared_ptr<netutil::SSLContext> tls, int n) {
  TCPClient client;
  std::vector<Future<StreamPtr>> connecting;
  for (int i = 0; i < n; ++i) connecting.push_back(client.connect("localhost", port, AF_INET, tls));
  std::vector<StreamPtr> streams;
  for (auto& f : connecting) {
    StreamPtr s = co_await f;
    streams.push_back(s);
  }
  std::vector<Future<void>> echoes;
  for (int i = 0; i < n; ++i) echoes.push_back(echo_once(streams[i], "client " + std::to_string(i) + "\n"));
  for (auto& e : echoes) co_await e;
}

ASYNC_TEST_F(TCPClientTest, FiftyConcurrentClients) {
  start_server();
  co_await many_clients(port_, nullptr, 50);
  EXPECT_EQ(server_->peers.size(), 50u);
}

ASYNC_TEST_F(TCPClientTest, FiftyConcurrentTLSClientsWithSNI) {
  netutil::SSLOptions so;
  so.certfile = testdata("localhost.crt");
  so.keyfile = testdata("localhost.key");
  start_server("127.0.0.1", AF_INET, netutil::ssl_options_to_context(so, true));
  netutil::SSLOptions co;
  co.ca_certs = testdata("ca.crt");
  auto ctx = netutil::ssl_options_to_context(co, false);
  co_await many_clients(port_, ctx, 50);
  CO_ASSERT_EQ(server_->server_names.size(), 50u);
  for (const auto& n : server_->server_names) EXPECT_EQ(n, "localhost");
}

// ---- Against a real TLS peer: openssl s_server ------------------------------------------

extern "C" char** environ;

// A child process whose stdout and stderr go to a pipe we read. The destructor kills it
// (SIGKILL), reaps it and closes the pipe, so a failing test leaves neither a zombie nor
// an fd behind.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { stop(); }

  // Starts argv[0] (an absolute path); throws std::system_error if that fails.
  void start(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);  // dup2 clears O_CLOEXEC
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      pid_ = -1;
      throw std::system_error(rc, std::generic_category(), "posix_spawn " + args[0]);
    }
    out_fd_ = fds[0];
  }

  // Blocks (call it on an executor) until a line of output starts with `prefix`; returns
  // that line, or "" if the output ended first. Everything read is kept in output().
  std::string read_line_starting_with(const std::string& prefix) {
    std::string pending;
    char buf[512];
    for (;;) {
      const ssize_t n = ::read(out_fd_, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return "";
      output_.append(buf, static_cast<size_t>(n));
      pending.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (line.rfind(prefix, 0) == 0) return line;
      }
    }
  }

  // Kills and reaps the child; returns its wait status (-1 if there was none).
  int stop() {
    int status = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    if (out_fd_ >= 0) {
      ::close(out_fd_);
      out_fd_ = -1;
    }
    return status;
  }

  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
};

std::string find_openssl() {
  for (const char* p : {"/usr/bin/openssl", "/usr/local/bin/openssl"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

// Our TLS client (BoringSSL, verifying against the test CA, SNI and ALPN) against
// OpenSSL's s_server in -rev mode (it answers each line reversed). The server listens on
// port 0 and reports the real port in its "ACCEPT 127.0.0.1:<port>" line, which is also
// how we know it is ready.
ASYNC_TEST_F(TCPClientTest, TLSAgainstOpenSSLServer) {
  const std::string openssl = find_openssl();
  if (openssl.empty()) {
    CO_FAIL() << "openssl not found in /usr/bin or /usr/local/bin (install Debian's openssl)";
  }
  ChildProcess server;
  server.start({openssl, "s_server", "-accept", "127.0.0.1:0", "-cert", testdata("localhost.crt"),
                "-key", testdata("localhost.key"), "-alpn", "http/1.1", "-rev", "-naccept", "1"});
  const std::string accept_line = co_await io_loop()->run_in_executor(
      nullptr, [&server] { return server.read_line_starting_with("ACCEPT"); });
  const size_t colon = accept_line.rfind(':');
  CO_ASSERT_NE(colon, std::string::npos) << "openssl s_server did not start:\n" << server.output();
  const int port = std::atoi(accept_line.c_str() + colon + 1);
  CO_ASSERT_GT(port, 0) << accept_line;

  netutil::SSLOptions co;
  co.ca_certs = testdata("ca.crt");
  co.alpn_protocols = {"http/1.1"};
  TCPClient client;
  StreamPtr stream = co_await client.connect("localhost", port, AF_INET,
                                             netutil::ssl_options_to_context(co, false));
  auto* tls = dynamic_cast<iostream::SSLIOStream*>(stream.get());
  CO_ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->selected_alpn_protocol(), "http/1.1");
  co_await stream->write("hello openssl\n");
  std::string reply = co_await stream->read_until("\n");
  EXPECT_EQ(reply, "lssnepo olleh\n") << server.output();
  stream->close();
  server.stop();
}

}  // namespace
}  // namespace tornado::tcpclient
