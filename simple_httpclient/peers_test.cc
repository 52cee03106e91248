// SimpleAsyncHTTPClient against real peers: Python Tornado 6.2 (Debian's python3-tornado)
// and nginx (Debian's nginx, plain and TLS, gzip on), each a child process on a port of
// its own.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gen/gen.h"
#include "gtest/gtest.h"
#include "httpclient/httpclient.h"
#include "netutil/netutil.h"
#include "testing/peer_process.h"
#include "simple_httpclient/simple_httpclient.h"
#include "simple_httpclient/test_support.h"
#include "testing/testing.h"

namespace tornado::simple_httpclient {
namespace {

using httpclient::AsyncHTTPClient;
using httpclient::HTTPRequest;
using httpclient::HTTPResponse;
using testing::PeerProcess;
using test::runfile;

const std::string kAsdf = [] {
  std::string s;
  for (int i = 0; i < 1000; ++i) s += "asdf";
  return s;
}();

std::string tmpdir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

int free_port() {
  auto s = testing::bind_unused_port();
  ::close(s.fd);
  return s.port;
}

class PeersTest : public testing::AsyncTestCase {
 protected:
  static void SetUpTestSuite() {
    // Python Tornado.
    tornado_ = new PeerProcess();
    std::string line = tornado_->start({"/usr/bin/python3", runfile("simple_httpclient/testdata/server.py")},
                                       [](const std::string& l) { return l.rfind("PORT ", 0) == 0; });
    tornado_port_ = line.empty() ? 0 : std::atoi(line.c_str() + 5);
    // nginx: files, then a config on two free ports (retried if a port was taken).
    const std::string dir = tmpdir() + "/nginx";
    std::system(("mkdir -p " + dir + "/www").c_str());
    std::ofstream(dir + "/www/hello.txt") << "Hello nginx!\n";
    std::string big;
    for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i) + " of a large text file\n";
    std::ofstream(dir + "/www/big.txt") << big;
    big_ = big;
    for (int attempt = 0; attempt < 5 && nginx_port_ == 0; ++attempt) {
      const int port = free_port(), tls_port = free_port();
      std::ofstream conf(dir + "/nginx.conf");
      conf << "daemon off; master_process off; user root root; error_log stderr notice; pid " << dir << "/nginx.pid;\n"
           << "events { worker_connections 64; }\n"
           << "http {\n access_log off; default_type text/plain;\n"
           << " client_body_temp_path " << dir << "/cb; proxy_temp_path " << dir << "/p;\n"
           << " fastcgi_temp_path " << dir << "/f; uwsgi_temp_path " << dir << "/u; scgi_temp_path " << dir
           << "/s;\n"
           << " gzip on; gzip_types text/plain; gzip_min_length 0;\n"
           << " server {\n  listen 127.0.0.1:" << port << ";\n  listen 127.0.0.1:" << tls_port << " ssl;\n"
           << "  ssl_certificate " << runfile("netutil/testdata/localhost.crt") << ";\n"
           << "  ssl_certificate_key " << runfile("netutil/testdata/localhost.key") << ";\n"
           << "  root " << dir << "/www;\n"
           << "  add_header X-Connection $connection always;\n"
           << "  location = /redirect { return 302 /hello.txt; }\n"
           << "  location = /auth { return 200 \"$http_authorization\"; }\n"
           << " }\n}\n";
      conf.close();
      auto* p = new PeerProcess();
      std::string log;
      std::string l = p->start({"/usr/sbin/nginx", "-p", dir, "-e", "stderr", "-c", dir + "/nginx.conf"},
                               [](const std::string& s) {
                                 return s.find("getrlimit") != std::string::npos ||
                                        s.find("[emerg]") != std::string::npos;
                               },
                               &log);
      if (l.find("getrlimit") != std::string::npos) {
        nginx_ = p;
        nginx_port_ = port;
        nginx_tls_port_ = tls_port;
      } else {
        std::fprintf(stderr, "nginx did not start: %s\n", log.c_str());
        delete p;
      }
    }
  }
  static void TearDownTestSuite() {
    delete tornado_;
    delete nginx_;
    tornado_ = nginx_ = nullptr;
  }
  void TearDown() override {
    for (auto& c : clients_) c->close();
    clients_.clear();
    AsyncTestCase::TearDown();
  }
  std::shared_ptr<SimpleAsyncHTTPClient> make_client(util::Kwargs kwargs = {}) {
    auto s = std::dynamic_pointer_cast<SimpleAsyncHTTPClient>(AsyncHTTPClient::instance(kwargs, true));
    clients_.push_back(s);
    return s;
  }
  HTTPResponse fetch(std::shared_ptr<SimpleAsyncHTTPClient> c, HTTPRequest req) {
    return test::run_fetch(io_loop(), *c, std::move(req));
  }
  static std::string tornado(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(tornado_port_) + path;
  }
  static std::string nginx(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(nginx_port_) + path;
  }
  static std::string nginx_tls(const std::string& path) {
    return "https://localhost:" + std::to_string(nginx_tls_port_) + path;
  }

  static inline PeerProcess* tornado_ = nullptr;
  static inline PeerProcess* nginx_ = nullptr;
  static inline int tornado_port_ = 0;
  static inline int nginx_port_ = 0;
  static inline int nginx_tls_port_ = 0;
  static inline std::string big_;
  std::vector<std::shared_ptr<SimpleAsyncHTTPClient>> clients_;
};

// ---- Python Tornado ---------------------------------------------------------------------

TEST_F(PeersTest, TornadoBasics) {
  ASSERT_NE(tornado_port_, 0);
  auto c = make_client();
  EXPECT_EQ(fetch(c, HTTPRequest(tornado("/hello?name=cpp"))).body, "Hello cpp!");
  HTTPRequest post(tornado("/echopost"), "POST");
  post.body = "arg1=foo&arg2=bar";
  EXPECT_EQ(fetch(c, post).body, "arg1=foo&arg2=bar");
  HTTPResponse r = fetch(c, HTTPRequest(tornado("/countdown/3")));
  EXPECT_EQ(r.body, "Zero");
  EXPECT_EQ(r.effective_url, tornado("/countdown/0"));
  std::vector<std::string> chunks;
  HTTPRequest chunk(tornado("/chunk"));
  chunk.streaming_callback = [&](std::string_view s) { chunks.emplace_back(s); };
  EXPECT_EQ(fetch(c, chunk).code, 200);
  ASSERT_EQ(chunks.size(), 2u);  // two chunks, 10 ms apart
  EXPECT_EQ(chunks[0] + chunks[1], "asdfqwer");
  r = fetch(c, HTTPRequest(tornado("/gzip")));
  EXPECT_EQ(r.body, kAsdf);
  EXPECT_EQ(r.headers.get("X-Consumed-Content-Encoding", ""), "gzip");
  HTTPRequest see_other(tornado("/redirect?status=303&url=/method"), "POST");
  see_other.body = "x";
  EXPECT_EQ(fetch(c, see_other).body, "GET");
  HTTPRequest auth(tornado("/auth"));
  auth.auth_username = "Aladdin";
  auth.auth_password = "open sesame";
  EXPECT_EQ(fetch(c, auth).body, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  r = fetch(c, HTTPRequest(tornado("/nowhere")));
  EXPECT_EQ(r.code, 404);
}

TEST_F(PeersTest, TornadoKeepAliveCountsOneConnection) {
  ASSERT_NE(tornado_port_, 0);
  auto c = make_client();
  const int before = std::stoi(fetch(c, HTTPRequest(tornado("/connections"))).body);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(fetch(c, HTTPRequest(tornado("/hello"))).code, 200);
  const int after = std::stoi(fetch(c, HTTPRequest(tornado("/connections"))).body);
  EXPECT_EQ(after, before);  // all on the connection that asked first
  EXPECT_EQ(c->connections_opened(), 1u);
}

TEST_F(PeersTest, TornadoExpect100AndTimeoutsAndLimits) {
  ASSERT_NE(tornado_port_, 0);
  auto c = make_client({{"max_body_size", std::size_t{100000}}});
  HTTPRequest cont(tornado("/continue"), "POST");
  cont.body = "after 100 (Continue)";
  cont.expect_100_continue = true;
  HTTPResponse r = fetch(c, cont);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "after 100 (Continue)");
  HTTPRequest hang(tornado("/hang"));
  hang.request_timeout = 0.1;
  r = fetch(c, hang);
  EXPECT_EQ(r.code, 599);
  EXPECT_THROW(r.rethrow(), httpclient::HTTPTimeoutError);
  r = fetch(c, HTTPRequest(tornado("/large?n=1000000")));
  EXPECT_EQ(r.code, 599);
  EXPECT_EQ(fetch(c, HTTPRequest(tornado("/large?n=1000"))).body.size(), 1000u);
}

TEST_F(PeersTest, BlockingHTTPClientUsesSimple) {
  // SyncHTTPClientTest: the blocking client runs its own loop with the default
  // implementation, SimpleAsyncHTTPClient once linked.
  ASSERT_NE(tornado_port_, 0);
  httpclient::HTTPClient blocking;
  EXPECT_EQ(blocking.fetch(tornado("/hello")).body, "Hello world!");
  EXPECT_EQ(blocking.fetch(tornado("/countdown/2")).body, "Zero");
  EXPECT_THROW(blocking.fetch(tornado("/nowhere")), httpclient::HTTPClientError);
  blocking.close();
}

// ---- nginx --------------------------------------------------------------------------------

TEST_F(PeersTest, NginxPlainGzipAndKeepAlive) {
  ASSERT_NE(nginx_port_, 0);
  auto c = make_client();
  HTTPResponse r = fetch(c, HTTPRequest(nginx("/hello.txt")));
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "Hello nginx!\n");
  const std::string conn = r.headers.get("X-Connection", "");
  r = fetch(c, HTTPRequest(nginx("/big.txt")));
  EXPECT_EQ(r.body, big_);
  EXPECT_EQ(r.headers.get("X-Consumed-Content-Encoding", ""), "gzip");
  HTTPRequest raw(nginx("/big.txt"));
  raw.decompress_response = false;
  r = fetch(c, raw);
  EXPECT_EQ(r.body, big_);  // no Accept-Encoding, no gzip
  EXPECT_FALSE(r.headers.contains("Content-Encoding"));
  for (int i = 0; i < 5; ++i) {
    r = fetch(c, HTTPRequest(nginx("/hello.txt")));
    EXPECT_EQ(r.headers.get("X-Connection", ""), conn);  // nginx's connection serial number
  }
  r = fetch(c, HTTPRequest(nginx("/redirect")));
  EXPECT_EQ(r.body, "Hello nginx!\n");
  EXPECT_EQ(r.effective_url, nginx("/hello.txt"));
  r = fetch(c, HTTPRequest(nginx("/hello.txt"), "HEAD"));
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.headers.get("X-Connection", ""), conn);
  EXPECT_EQ(fetch(c, HTTPRequest(nginx("/missing"))).code, 404);
  EXPECT_EQ(c->connections_opened(), 1u);
}

TEST_F(PeersTest, NginxTLS) {
  ASSERT_NE(nginx_tls_port_, 0);
  auto c = make_client();
  HTTPRequest req(nginx_tls("/hello.txt"));
  req.ca_certs = runfile("netutil/testdata/ca.crt");
  HTTPResponse r = fetch(c, req);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "Hello nginx!\n");
  const std::string conn = r.headers.get("X-Connection", "");
  HTTPRequest big(nginx_tls("/big.txt"));
  big.ca_certs = req.ca_certs;
  EXPECT_EQ(fetch(c, big).body, big_);
  r = fetch(c, req);
  EXPECT_EQ(r.headers.get("X-Connection", ""), conn);
  EXPECT_EQ(c->connections_opened(), 1u);
  HTTPRequest auth(nginx_tls("/auth"));
  auth.ca_certs = req.ca_certs;
  auth.auth_username = "u";
  auth.auth_password = "p";
  EXPECT_EQ(fetch(c, auth).body, "Basic dTpw");
  // Unknown CA.
  EXPECT_EQ(fetch(c, HTTPRequest(nginx_tls("/hello.txt"))).code, 599);
}

}  // namespace
}  // namespace tornado::simple_httpclient
