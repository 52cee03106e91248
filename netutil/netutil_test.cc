// Tests for netutil, after Tornado's tornado/test/netutil_test.py.
#include "netutil/netutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/nid.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <utility>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ioloop/ioloop.h"
#include "log/log.h"
#include "testing/testing.h"

namespace tornado::netutil {
namespace {

using testing::AsyncTestCase;

std::string testdata(const std::string& name) {
  const char* src = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(src ? src : ".") + "/" + (ws ? ws : "tornado") + "/netutil/testdata/" + name;
}

int connect_to(const SocketAddress& addr) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::connect(fd, addr.sockaddr_ptr(), addr.length), 0) << strerror(errno);
  return fd;
}

TEST(IsValidIPTest, Valid) {
  EXPECT_TRUE(is_valid_ip("127.0.0.1"));
  EXPECT_TRUE(is_valid_ip("4.4.4.4"));
  EXPECT_TRUE(is_valid_ip("::1"));
  EXPECT_TRUE(is_valid_ip("2620:0:1cfe:face:b00c::3"));
}

TEST(IsValidIPTest, Invalid) {
  EXPECT_FALSE(is_valid_ip("www.google.com"));
  EXPECT_FALSE(is_valid_ip("localhost"));
  EXPECT_FALSE(is_valid_ip("4.4.4.4<"));
  EXPECT_FALSE(is_valid_ip(" 127.0.0.1"));
  EXPECT_FALSE(is_valid_ip(""));
  EXPECT_FALSE(is_valid_ip(" "));
  EXPECT_FALSE(is_valid_ip("\n"));
  EXPECT_FALSE(is_valid_ip(std::string("\x00", 1)));
  EXPECT_FALSE(is_valid_ip(std::string(1000, 'a')));
}

TEST(SocketAddressTest, FormatsAndParses) {
  auto a = SocketAddress::from_ip("127.0.0.1", 80);
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(a.to_string(), "127.0.0.1:80");
  auto b = SocketAddress::from_ip("::1", 443);
  EXPECT_EQ(b.to_string(), "[::1]:443");
  EXPECT_EQ(b.host(), "::1");
  EXPECT_EQ(b.port(), 443);
  EXPECT_THROW(SocketAddress::from_ip("localhost", 1), std::invalid_argument);
}

TEST(SocketAddressTest, Ipv4HostMatchesInetNtop) {
  std::mt19937 rng(7);
  std::vector<std::uint32_t> addresses = {0, 0xffffffff, 0x7f000001, 0x0a006407, 0xc0a80001};
  for (int i = 0; i < 1000; ++i) addresses.push_back(static_cast<std::uint32_t>(rng()));
  for (const std::uint32_t a : addresses) {
    SocketAddress address;
    auto* sin = reinterpret_cast<sockaddr_in*>(&address.storage);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(a);
    address.length = sizeof(sockaddr_in);
    char expected[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, &sin->sin_addr, expected, sizeof(expected)), nullptr);
    ASSERT_EQ(address.host(), expected);
  }
}

class BindTest : public AsyncTestCase {};

TEST_F(BindTest, SameProtocolSocketsShareEphemeralPort) {
  // Tornado's TestPortAllocation.test_same_port_allocation: "localhost" may give IPv4
  // and IPv6 sockets; with port 0 they all get the first one's port.
  auto fds = bind_sockets(0, "localhost");
  ASSERT_FALSE(fds.empty());
  const int port = SocketAddress::local_of(fds[0]).port();
  EXPECT_NE(port, 0);
  for (int fd : fds) {
    EXPECT_EQ(SocketAddress::local_of(fd).port(), port);
    ::close(fd);
  }
}

TEST_F(BindTest, BindsIPv4AndIPv6Literals) {
  auto v4 = bind_sockets(0, "127.0.0.1", AF_INET);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(SocketAddress::local_of(v4[0]).family(), AF_INET);
  int fd = connect_to(SocketAddress::local_of(v4[0]));
  ::close(fd);
  ::close(v4[0]);
  auto v6 = bind_sockets(0, "::1", AF_INET6);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(SocketAddress::local_of(v6[0]).family(), AF_INET6);
  int one = 0;
  socklen_t len = sizeof(one);
  getsockopt(v6[0], IPPROTO_IPV6, IPV6_V6ONLY, &one, &len);
  EXPECT_EQ(one, 1);
  ::close(v6[0]);
}

TEST_F(BindTest, ReusePortAllowsTwoListeners) {
  // Tornado's test_reuse_port.
  auto first = bind_sockets(0, "127.0.0.1", AF_INET, kDefaultBacklog, 0, /*reuse_port=*/true);
  ASSERT_EQ(first.size(), 1u);
  const int port = SocketAddress::local_of(first[0]).port();
  auto second = bind_sockets(port, "127.0.0.1", AF_INET, kDefaultBacklog, 0, true);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(SocketAddress::local_of(second[0]).port(), port);
  // Without reuse_port the same bind fails.
  EXPECT_THROW(bind_sockets(port, "127.0.0.1", AF_INET), std::system_error);
  ::close(first[0]);
  ::close(second[0]);
}

TEST_F(BindTest, SocketsAreNonBlockingAndCloexec) {
  auto fds = bind_sockets(0, "127.0.0.1");
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_TRUE(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
  ::close(fds[0]);
}

TEST_F(BindTest, BadAddressThrows) {
  EXPECT_THROW(bind_sockets(0, "no.such.host.invalid"), ResolveError);
}

TEST_F(BindTest, UnixSocket) {
  // TEST_TMPDIR is too long for sun_path; a fresh directory under /tmp is not.
  char tmpl[] = "/tmp/netutil_testXXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string path = dir + "/test.sock";
  int fd = bind_unix_socket(path, 0600);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::close(fd);
  // A stale socket file is replaced.
  fd = bind_unix_socket(path);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path, path.c_str());
  int c = ::socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&un), sizeof(un)), 0);
  ::close(c);
  ::close(fd);
  // A regular file is not replaced.
  ::unlink(path.c_str());
  FILE* f = std::fopen(path.c_str(), "w");
  std::fclose(f);
  EXPECT_THROW(bind_unix_socket(path), std::runtime_error);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

class AcceptTest : public AsyncTestCase {};

TEST_F(AcceptTest, AcceptsConnections) {
  auto fds = bind_sockets(0, "127.0.0.1");
  const auto addr = SocketAddress::local_of(fds[0]);
  std::vector<int> accepted;
  std::vector<int> clients;
  constexpr int kClients = 100;  // within the listen backlog: connect() never blocks
  auto remove = add_accept_handler(fds[0], [&](int conn, SocketAddress peer) {
    EXPECT_EQ(peer.host(), "127.0.0.1");
    EXPECT_TRUE(fcntl(conn, F_GETFL) & O_NONBLOCK);
    accepted.push_back(conn);
    if (accepted.size() == kClients) stop();
  });
  for (int i = 0; i < kClients; ++i) clients.push_back(connect_to(addr));
  wait();
  EXPECT_EQ(accepted.size(), static_cast<size_t>(kClients));
  remove();
  remove();  // idempotent
  // After remove, new connections are not accepted.
  int late = connect_to(addr);
  io_loop()->add_callback([this] { io_loop()->add_callback([this] { stop(); }); });
  wait();
  EXPECT_EQ(accepted.size(), static_cast<size_t>(kClients));
  for (int fd : accepted) ::close(fd);
  for (int fd : clients) ::close(fd);
  ::close(late);
  ::close(fds[0]);
}

class ResolverTest : public AsyncTestCase {};

ASYNC_TEST_F(ResolverTest, LocalhostResolves) {
  DefaultExecutorResolver resolver;
  auto addrs = co_await resolver.resolve("localhost", 80);
  CO_ASSERT_FALSE(addrs.empty());
  bool found = false;
  for (auto& [family, a] : addrs) {
    EXPECT_EQ(a.port(), 80);
    if ((family == AF_INET && a.host() == "127.0.0.1") || (family == AF_INET6 && a.host() == "::1")) found = true;
  }
  EXPECT_TRUE(found);
}

ASYNC_TEST_F(ResolverTest, IPLiteralNeedsNoThread) {
  DefaultExecutorResolver resolver;
  auto f = resolver.resolve("::1", 8080);
  CO_ASSERT_TRUE(f.done());
  auto addrs = co_await f;
  CO_ASSERT_EQ(addrs.size(), 1u);
  EXPECT_EQ(addrs[0].first, AF_INET6);
  EXPECT_EQ(addrs[0].second.to_string(), "[::1]:8080");
  bool threw = false;
  try {
    co_await resolver.resolve("127.0.0.1", 80, AF_INET6);
  } catch (const ResolveError&) {
    threw = true;
  }
  EXPECT_TRUE(threw);
}

ASYNC_TEST_F(ResolverTest, BadHostRaises) {
  // Tornado's test_bad_host (a name under .invalid never resolves, RFC 6761).
  DefaultExecutorResolver resolver;
  bool threw = false;
  try {
    co_await resolver.resolve("an invalid domain.invalid", 80);
  } catch (const ResolveError& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("getaddrinfo"), std::string::npos);
  }
  EXPECT_TRUE(threw);
}

ASYNC_TEST_F(ResolverTest, OverrideResolver) {
  // Tornado's OverrideResolverTest.
  OverrideResolver resolver(std::make_shared<DefaultExecutorResolver>(),
                            {{"google.com", "127.0.0.1"},
                             {"example.com:80", "127.0.0.2:8080"},
                             {"example.com:443:10", "[::1]:8443"}});
  auto a = co_await resolver.resolve("google.com", 80);
  CO_ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].second.to_string(), "127.0.0.1:80");
  auto b = co_await resolver.resolve("example.com", 80);
  EXPECT_EQ(b[0].second.to_string(), "127.0.0.2:8080");
  auto c = co_await resolver.resolve("example.com", 443, AF_INET6);
  EXPECT_EQ(c[0].second.to_string(), "[::1]:8443");
  // Unmapped names go to the wrapped resolver.
  auto e = co_await resolver.resolve("127.0.0.3", 1);
  EXPECT_EQ(e[0].second.to_string(), "127.0.0.3:1");
}

TEST(SSLContextTest, BuildsServerAndClientContexts) {
  SSLOptions server;
  server.certfile = testdata("localhost.crt");
  server.keyfile = testdata("localhost.key");
  server.alpn_protocols = {"h2", "http/1.1"};
  server.ciphers = "ECDHE+AESGCM";
  auto s = ssl_options_to_context(server, true);
  EXPECT_TRUE(s->server_side());
  EXPECT_EQ(SSL_CTX_get_min_proto_version(s->get()), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_verify_mode(s->get()), SSL_VERIFY_NONE);
  SSLOptions client;
  client.ca_certs = testdata("ca.crt");
  auto c = ssl_options_to_context(client, false);
  EXPECT_TRUE(c->check_hostname());
  EXPECT_EQ(SSL_CTX_get_verify_mode(c->get()), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  client.cert_reqs = CertReqs::kNone;
  EXPECT_FALSE(ssl_options_to_context(client, false)->check_hostname());
  SSLOptions optional;
  optional.cert_reqs = CertReqs::kOptional;
  optional.ca_certs = testdata("ca.crt");
  EXPECT_EQ(SSL_CTX_get_verify_mode(ssl_options_to_context(optional, true)->get()), SSL_VERIFY_PEER);
  SSLOptions no_tickets;
  no_tickets.session_tickets = false;
  EXPECT_TRUE(SSL_CTX_get_options(ssl_options_to_context(no_tickets, false)->get()) & SSL_OP_NO_TICKET);
}

// A TLS 1.2 handshake in memory between a bare BoringSSL client offering `client_ciphers`
// and `server`; the suite agreed, or "" if the handshake failed.
std::string handshake_tls12(SSL_CTX* server, const char* client_ciphers) {
  SSL_CTX* cctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_set_cipher_list(cctx, client_ciphers), 1);
  SSL* c = SSL_new(cctx);
  SSL* s = SSL_new(server);
  BIO *cb = nullptr, *sb = nullptr;
  EXPECT_EQ(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
  SSL_set_bio(c, cb, cb);
  SSL_set_bio(s, sb, sb);
  SSL_set_connect_state(c);
  SSL_set_accept_state(s);
  bool c_done = false, s_done = false, failed = false;
  for (int i = 0; i < 50 && !(c_done && s_done) && !failed; ++i) {
    for (auto [ssl, done] : {std::pair{c, &c_done}, std::pair{s, &s_done}}) {
      if (*done) continue;
      const int r = SSL_do_handshake(ssl);
      const int err = SSL_get_error(ssl, r);
      if (r == 1) {
        *done = true;
      } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        failed = true;
      }
    }
  }
  ERR_clear_error();
  std::string cipher = c_done && s_done ? SSL_CIPHER_get_name(SSL_get_current_cipher(c)) : "";
  SSL_free(c);
  SSL_free(s);
  SSL_CTX_free(cctx);
  return cipher;
}

// The default suites (testssl.sh's findings on BoringSSL's defaults): TLS 1.2 offers
// only forward-secret AEAD suites, in the server's order.
TEST(SSLContextTest, DefaultCiphersAreForwardSecretAEADInServerOrder) {
  SSLOptions so;
  so.certfile = testdata("localhost.crt");
  so.keyfile = testdata("localhost.key");
  auto server = ssl_options_to_context(so, true);
  auto client = ssl_options_to_context(SSLOptions{}, false);
  for (SSL_CTX* ctx : {server->get(), client->get()}) {
    STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(ctx);
    ASSERT_GT(sk_SSL_CIPHER_num(list), 0u);
    for (size_t i = 0; i < sk_SSL_CIPHER_num(list); ++i) {
      const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(list, i);
      EXPECT_TRUE(SSL_CIPHER_is_aead(cipher)) << SSL_CIPHER_get_name(cipher);
      EXPECT_EQ(SSL_CIPHER_get_kx_nid(cipher), NID_kx_ecdhe) << SSL_CIPHER_get_name(cipher);
    }
  }
  EXPECT_TRUE(SSL_CTX_get_options(server->get()) & SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Refused: CBC (LUCKY13), 3DES (SWEET32), RSA key exchange (no forward secrecy).
  EXPECT_EQ(handshake_tls12(server->get(), "ECDHE-RSA-AES128-SHA"), "");
  EXPECT_EQ(handshake_tls12(server->get(), "DES-CBC3-SHA"), "");
  EXPECT_EQ(handshake_tls12(server->get(), "AES128-GCM-SHA256:AES256-SHA"), "");
  // Accepted, and the server's order wins over the client's.
  EXPECT_EQ(handshake_tls12(server->get(), "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256"),
            "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(handshake_tls12(server->get(), "ECDHE-RSA-CHACHA20-POLY1305"),
            "ECDHE-RSA-CHACHA20-POLY1305");
  // An explicit cipher string still replaces the default.
  so.ciphers = "AES128-SHA";
  EXPECT_EQ(handshake_tls12(ssl_options_to_context(so, true)->get(), "AES128-SHA"), "AES128-SHA");
}

TEST(SSLContextTest, BadOptionsThrow) {
  SSLOptions missing;
  missing.certfile = testdata("nonexistent.crt");
  EXPECT_THROW(ssl_options_to_context(missing, true), SSLError);
  SSLOptions mismatch;
  mismatch.certfile = testdata("localhost.crt");
  mismatch.keyfile = testdata("other.example.key");
  EXPECT_THROW(ssl_options_to_context(mismatch, true), SSLError);
  SSLOptions ciphers;
  ciphers.ciphers = "NOT-A-CIPHER";
  EXPECT_THROW(ssl_options_to_context(ciphers, true), SSLError);
  SSLOptions ca;
  ca.ca_certs = testdata("nonexistent.crt");
  EXPECT_THROW(ssl_options_to_context(ca, false), SSLError);
  SSLOptions alpn;
  alpn.alpn_protocols = {""};
  EXPECT_THROW(ssl_options_to_context(alpn, true), SSLError);
}

}  // namespace
}  // namespace tornado::netutil
