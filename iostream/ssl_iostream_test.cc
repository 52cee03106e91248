// Tests for SSLIOStream and start_tls, after Tornado's iostream_test.py (TestIOStreamSSL,
// TestIOStreamStartTLS, WaitForHandshakeTest), with Python's ssl client as a real peer.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "iostream/iostream.h"
#include "ioloop/ioloop.h"
#include "log/log.h"
#include "netutil/netutil.h"
#include "testing/testing.h"

namespace tornado::iostream {
namespace {

using concurrent::Future;
using netutil::SocketAddress;
using netutil::SSLOptions;

std::string runfile(const std::string& path) {
  const char* src = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(src ? src : ".") + "/" + (ws ? ws : "tornado") + "/" + path;
}
std::string testdata(const std::string& name) { return runfile("netutil/testdata/" + name); }

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

std::shared_ptr<netutil::SSLContext> server_context(SSLOptions o = {}) {
  o.certfile = testdata("localhost.crt");
  o.keyfile = testdata("localhost.key");
  return netutil::ssl_options_to_context(o, true);
}
std::shared_ptr<netutil::SSLContext> client_context(SSLOptions o = {}) {
  o.ca_certs = testdata("ca.crt");
  return netutil::ssl_options_to_context(o, false);
}

template <typename T>
Future<std::exception_ptr> failure(Future<T> f) {
  try {
    co_await f;
  } catch (const StreamClosedError& e) {
    co_return e.real_error() ? e.real_error() : std::make_exception_ptr(e);
  }
  co_return nullptr;
}

std::string what(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  }
}

class SSLIOStreamTest : public testing::AsyncTestCase {};

ASYNC_TEST_F(SSLIOStreamTest, EchoWithVerificationAndALPN) {
  auto [s, c] = tcp_pair();
  SSLOptions so;
  so.alpn_protocols = {"http/1.1", "h2"};
  SSLOptions co;
  co.alpn_protocols = {"h2"};
  SSLIOStream server(s, server_context(so));
  SSLIOStream client(c, client_context(co), "localhost");
  // Writes and reads queue until the handshake is done.
  auto w = client.write("ping\n");
  auto r = server.read_until("\n");
  co_await client.wait_for_handshake();
  co_await server.wait_for_handshake();
  CO_ASSERT_EQ(co_await r, "ping\n");
  co_await w;
  co_await server.write(std::string(1 << 20, 'x'));  // many records
  CO_ASSERT_EQ((co_await client.read_bytes(1 << 20)).size(), static_cast<std::size_t>(1 << 20));
  EXPECT_EQ(client.selected_alpn_protocol(), "h2");
  EXPECT_EQ(server.selected_alpn_protocol(), "h2");
  EXPECT_EQ(server.server_name(), "localhost");
  EXPECT_EQ(client.version(), "TLSv1.3");
  // A clean close reaches the other side as EOF.
  client.close();
  CO_ASSERT_EQ(co_await server.read_until_close(), "");
}

// A staged close over TLS: shutdown_write sends close_notify (the client's read ends)
// while the server still reads what the client sends.
ASYNC_TEST_F(SSLIOStreamTest, ShutdownWriteEndsPeersReadsOnly) {
  auto [s, c] = tcp_pair();
  SSLIOStream server(s, server_context());
  SSLIOStream client(c, client_context(), "localhost");
  co_await client.wait_for_handshake();
  co_await server.wait_for_handshake();
  co_await server.write("last words");
  server.shutdown_write();
  co_await client.write("after");
  CO_ASSERT_EQ(co_await server.read_bytes(5), "after");
  CO_ASSERT_EQ(co_await client.read_until_close(), "last words");
}

ASYNC_TEST_F(SSLIOStreamTest, ConnectWithServerHostname) {
  auto listeners = netutil::bind_sockets(0, "127.0.0.1", AF_INET);
  Future<int> accepted;
  auto remove = netutil::add_accept_handler(listeners[0], [accepted](int fd, SocketAddress) {
    accepted.set_result(fd);
  });
  SSLIOStream client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), client_context());
  auto connected = client.connect(SocketAddress::local_of(listeners[0]), "localhost");
  // (co_await kept out of an expression with temporaries: GCC 12 miscompiles that.)
  const int server_fd = co_await accepted;
  SSLIOStream server(server_fd, server_context());
  co_await connected;  // completes after the handshake
  co_await client.write("over tls");
  CO_ASSERT_EQ(co_await server.read_bytes(8), "over tls");
  remove();
  ::close(listeners[0]);
}

ASYNC_TEST_F(SSLIOStreamTest, HostnameMismatchFails) {
  // Tornado's test_check_hostname.
  auto [s, c] = tcp_pair();
  SSLIOStream server(s, server_context());
  testing::ExpectLog expect(log::gen_log(), "SSL Error");
  SSLIOStream client(c, client_context(), "wrong.example");
  auto e = co_await failure(client.wait_for_handshake());
  CO_ASSERT_TRUE(e != nullptr);
  EXPECT_NE(what(e).find("certificate verify failed"), std::string::npos) << what(e);
  EXPECT_TRUE(client.closed());
}

ASYNC_TEST_F(SSLIOStreamTest, UntrustedCertificateFails) {
  auto [s, c] = tcp_pair();
  SSLIOStream server(s, server_context());
  testing::ExpectLog expect(log::gen_log(), "SSL Error");
  SSLOptions no_ca;
  no_ca.ca_certs = testdata("other.example.crt");  // not the CA that signed localhost
  SSLIOStream client(c, netutil::ssl_options_to_context(no_ca, false), "localhost");
  auto e = co_await failure(client.wait_for_handshake());
  CO_ASSERT_TRUE(e != nullptr);
  EXPECT_THROW(std::rethrow_exception(e), netutil::SSLError);
}

ASYNC_TEST_F(SSLIOStreamTest, GarbageInsteadOfClientHello) {
  // Tornado's test_handshake_fail / test_error_logging: a plain-text client.
  auto [s, c] = tcp_pair();
  testing::ExpectLog expect(log::gen_log(), "SSL Error");
  SSLIOStream server(s, server_context());
  IOStream plain(c);
  co_await plain.write("GET / HTTP/1.0\r\n\r\n");
  auto e = co_await failure(server.wait_for_handshake());
  CO_ASSERT_TRUE(e != nullptr);
  EXPECT_THROW(std::rethrow_exception(e), netutil::SSLError);
  EXPECT_TRUE(server.closed());
  EXPECT_NE(server.error(), nullptr);
}

ASYNC_TEST_F(SSLIOStreamTest, PeerClosesDuringHandshake) {
  auto [s, c] = tcp_pair();
  testing::ExpectLog expect(log::gen_log(), "SSL Error");
  SSLIOStream server(s, server_context());
  ::close(c);
  auto e = co_await failure(server.wait_for_handshake());
  CO_ASSERT_TRUE(e != nullptr);
}

ASYNC_TEST_F(SSLIOStreamTest, SNISelectsCertificate) {
  auto [s, c] = tcp_pair();
  SSLOptions so;
  so.sni_certificates["other.example"] = {testdata("other.example.crt"), testdata("other.example.key")};
  SSLIOStream server(s, server_context(so));
  SSLIOStream client(c, client_context(), "other.example");  // verifies other.example's cert
  co_await client.wait_for_handshake();
  EXPECT_EQ(server.server_name(), "other.example");
  co_await client.write("sni");
  CO_ASSERT_EQ(co_await server.read_bytes(3), "sni");
}

ASYNC_TEST_F(SSLIOStreamTest, ClientCertificateRequired) {
  auto [s, c] = tcp_pair();
  SSLOptions so;
  so.cert_reqs = netutil::CertReqs::kRequired;
  so.ca_certs = testdata("ca.crt");
  testing::ExpectLog expect(log::gen_log(), "SSL Error");
  SSLIOStream server(s, server_context(so));
  SSLIOStream client(c, client_context(), "localhost");  // no client certificate
  auto e = co_await failure(server.wait_for_handshake());
  CO_ASSERT_TRUE(e != nullptr);
  // With a client certificate signed by the CA it works.
  auto [s2, c2] = tcp_pair();
  SSLIOStream server2(s2, server_context(so));
  SSLOptions co;
  co.certfile = testdata("other.example.crt");
  co.keyfile = testdata("other.example.key");
  SSLIOStream client2(c2, client_context(co), "localhost");
  co_await server2.wait_for_handshake();
  co_await client2.wait_for_handshake();
}

ASYNC_TEST_F(SSLIOStreamTest, MinimumVersionIsTLS12) {
  auto [s, c] = tcp_pair();
  SSLIOStream server(s, server_context());
  SSLOptions old;
  old.minimum_version = TLS1_VERSION;
  old.ciphers = "ECDHE-RSA-AES128-SHA";  // a suite TLS 1.1 has (the default AEAD ones are 1.2+)
  auto ctx = client_context(old);
  SSL_CTX_set_max_proto_version(ctx->get(), TLS1_1_VERSION);  // a client stuck on TLS 1.1
  testing::ExpectLog expect(log::gen_log(), "SSL Error");
  SSLIOStream client(c, ctx, "localhost");
  auto e = co_await failure(server.wait_for_handshake());
  CO_ASSERT_TRUE(e != nullptr);
  EXPECT_NE(what(e).find("PROTOCOL"), std::string::npos) << what(e);
}

ASYNC_TEST_F(SSLIOStreamTest, StartTLS) {
  // Tornado's TestIOStreamStartTLS: a plain-text exchange, then TLS on both sides.
  auto [s, c] = tcp_pair();
  IOStream server(s);
  IOStream client(c);
  co_await client.write("STARTTLS\r\n");
  CO_ASSERT_EQ(co_await server.read_until("\r\n"), "STARTTLS\r\n");
  co_await server.write("220 go ahead\r\n");
  CO_ASSERT_EQ(co_await client.read_until("\r\n"), "220 go ahead\r\n");
  auto server_tls_f = server.start_tls(true, server_context());
  auto client_tls_f = client.start_tls(false, client_context(), "localhost");
  EXPECT_TRUE(server.closed());
  auto server_tls = co_await server_tls_f;
  auto client_tls = co_await client_tls_f;
  co_await client_tls->write("secret\r\n");
  CO_ASSERT_EQ(co_await server_tls->read_until("\r\n"), "secret\r\n");
}

ASYNC_TEST_F(SSLIOStreamTest, StartTLSKeepsANodelayNotAppliedYet) {
  // A plain stream applies TCP_NODELAY at its second send; one that never sent hands
  // the wish on to its TLS stream, which applies it at once.
  auto [s, c] = tcp_pair();
  IOStream server(s);
  IOStream client(c);
  server.set_nodelay(true);
  co_await client.write("STARTTLS\r\n");
  CO_ASSERT_EQ(co_await server.read_until("\r\n"), "STARTTLS\r\n");
  auto server_tls_f = server.start_tls(true, server_context());
  auto client_tls_f = client.start_tls(false, client_context(), "localhost");
  auto server_tls = co_await server_tls_f;
  co_await client_tls_f;
  int nodelay = 0;
  socklen_t length = sizeof(nodelay);
  CO_ASSERT_EQ(::getsockopt(server_tls->fileno(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &length), 0);
  EXPECT_EQ(nodelay, 1);
}

ASYNC_TEST_F(SSLIOStreamTest, StartTLSRequiresIdleStreamAndVerifies) {
  {
    auto [s, c] = tcp_pair();
    IOStream busy(s);
    IOStream other(c);
    auto r = busy.read_bytes(1);
    EXPECT_THROW(busy.start_tls(true, server_context()), std::logic_error);
    busy.close();
    co_await failure(r);
  }
  // Tornado's test_check_hostname over start_tls: a wrong name fails the handshake.
  auto [s, c] = tcp_pair();
  IOStream server(s);
  IOStream client(c);
  testing::ExpectLog expect(log::gen_log(), "SSL Error");
  auto server_tls_f = server.start_tls(true, server_context());
  auto client_tls_f = client.start_tls(false, client_context(), "wrong.example");
  auto e = co_await failure(client_tls_f);
  CO_ASSERT_TRUE(e != nullptr);
  EXPECT_NE(what(e).find("certificate verify failed"), std::string::npos) << what(e);
  auto e2 = co_await failure(server_tls_f);  // the client's alert ends the server's too
  CO_ASSERT_TRUE(e2 != nullptr);
}

// A real second TLS implementation: Python's ssl module (OpenSSL) as the client
// (iostream/ssl_client.py), run on an executor thread; its output and exit status.
Future<std::string> run_python_client(int port, const std::string& mode = "") {
  const std::string cmd = "/usr/bin/python3 " + runfile("iostream/ssl_client.py") + " " +
                          std::to_string(port) + " " + testdata("ca.crt") + " localhost " + mode;
  return ioloop::IOLoop::current()->run_in_executor(nullptr, [cmd] {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return std::string("popen failed");
    char buf[256];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    const int rc = ::pclose(p);
    return out + "rc=" + std::to_string(rc);
  });
}

// A listening socket whose first connection completes `accepted`.
struct OneAccept {
  OneAccept() {
    listener = netutil::bind_sockets(0, "127.0.0.1", AF_INET).at(0);
    port = SocketAddress::local_of(listener).port();
    remove = netutil::add_accept_handler(listener, [f = accepted](int fd, SocketAddress) {
      f.set_result(fd);
    });
  }
  ~OneAccept() {
    remove();
    ::close(listener);
  }
  int listener;
  int port;
  Future<int> accepted;
  std::function<void()> remove;
};

ASYNC_TEST_F(SSLIOStreamTest, PythonSSLClient) {
  OneAccept listen;
  SSLOptions so;
  so.alpn_protocols = {"http/1.1"};
  auto output = run_python_client(listen.port);
  const int fd = co_await listen.accepted;
  SSLIOStream server(fd, server_context(so));
  std::string line = co_await server.read_until("\n");
  CO_ASSERT_EQ(line, "hello python\n");
  co_await server.write("HELLO PYTHON\n");
  std::string out = co_await output;
  EXPECT_EQ(out, "HELLO PYTHON http/1.1 TLSv1.3\nrc=0");
}

// A TLS peer that resets the connection ends a pending read with the socket's error,
// reported as a plain socket's is (a result code from read_from_fd, not a throw). The
// close_notify sent on close then meets the reset: EPIPE, not a process-ending SIGPIPE.
ASYNC_TEST_F(SSLIOStreamTest, PeerResetWhileReading) {
  OneAccept listen;
  auto output = run_python_client(listen.port, "reset");
  const int fd = co_await listen.accepted;
  SSLIOStream server(fd, server_context());
  std::string line = co_await server.read_until("\n");
  CO_ASSERT_EQ(line, "hello python\n");
  co_await server.write("HELLO PYTHON\n");
  std::exception_ptr error = co_await failure(server.read_bytes(1));
  CO_ASSERT_TRUE(error);
  EXPECT_EQ(what(error), "read: Connection reset by peer");
  EXPECT_TRUE(server.closed());
  std::string out = co_await output;
  EXPECT_EQ(out, "HELLO PYTHON None TLSv1.3\nrc=0");
}

}  // namespace
}  // namespace tornado::iostream
