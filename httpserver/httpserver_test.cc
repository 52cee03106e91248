// Tests for HTTPServer, after Tornado's tornado/test/httpserver_test.py: request callback
// and delegate forms, xheaders (XHeaderTest), options (max_body_size, decompression,
// idle timeout, no_keep_alive), close_all_connections, graceful shutdown under load,
// a throwing callback, real clients (curl, python http.client, requests, h11) and nginx
// as the reverse proxy in front.
#include "httpserver/httpserver.h"

#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "concurrent/future.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "httputil/httputil.h"
#include "ioloop/ioloop.h"
#include "iostream/iostream.h"
#include "log/log.h"
#include "netutil/netutil.h"
#include "testing/loopback.h"
#include "testing/peer_process.h"
#include "testing/testing.h"

namespace tornado::httpserver {
namespace {

using concurrent::Future;
using httputil::HTTPHeaders;
using httputil::HTTPServerRequest;
using httputil::ResponseStartLine;
using iostream::IOStream;
using iostream::StreamClosedError;
using netutil::SocketAddress;
using testing::http_body_of;
using testing::http_exchange;
using testing::http_status_of;
using testing::read_http_response;

std::string runfile(const std::string& path) {
  const char* src = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(src ? src : ".") + "/" + (ws ? ws : "tornado") + "/" + path;
}

int port_of(const HTTPServer& server) {
  return SocketAddress::local_of(server.sockets().at(0)).port();
}

void respond(HTTPServerRequest& request, const std::string& body) {
  HTTPHeaders h{{"Content-Length", std::to_string(body.size())}};
  const bool head = request.method == "HEAD";
  (void)request.connection->write_headers(ResponseStartLine{"HTTP/1.1", 200, "OK"}, h,
                                          head ? std::string() : body);
  request.connection->finish();
}

// "<method> <uri> <body>"; /info answers "<remote_ip> <protocol>"; /throw throws;
// /chunked-response streams two chunks.
void echo(HTTPServerRequest& request) {
  if (request.path == "/throw") throw std::runtime_error("callback failed");
  if (request.path == "/info") return respond(request, request.remote_ip + " " + request.protocol);
  if (request.path == "/args") {
    std::string out;
    for (const auto& [name, values] : request.arguments) {
      for (const auto& v : values) out += name + "=" + v + ";";
    }
    for (const auto& [name, files] : request.files)
      out += "file " + name + "=" + files[0].body + ";";
    return respond(request, out);
  }
  if (request.path == "/chunked-response") {
    (void)request.connection->write_headers(ResponseStartLine{"HTTP/1.1", 200, "OK"},
                                            HTTPHeaders{});
    (void)request.connection->write("chunk1");
    (void)request.connection->write("chunk2");
    request.connection->finish();
    return;
  }
  respond(request, request.method + " " + request.uri + " " + request.body);
}

class HTTPServerTest : public testing::AsyncTestCase {};

ASYNC_TEST_F(HTTPServerTest, RequestCallback) {
  HTTPServer server(echo);
  server.listen(0, "127.0.0.1");
  std::string r = co_await http_exchange(
      port_of(server),
      "POST /p?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
  EXPECT_EQ(http_status_of(r), 200) << r;
  EXPECT_EQ(http_body_of(r), "POST /p?x=1 abc");
  EXPECT_NE(r.find("\r\nDate: "), std::string::npos);
  r = co_await http_exchange(port_of(server), "GET /info HTTP/1.0\r\n\r\n");
  EXPECT_EQ(http_body_of(r), "127.0.0.1 http");
}

ASYNC_TEST_F(HTTPServerTest, CallbackSeesParsedBodyArguments) {
  HTTPServer server(echo);
  server.listen(0, "127.0.0.1");
  std::string r = co_await http_exchange(
      port_of(server),
      "POST /args?q=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=2&b=3");
  EXPECT_EQ(http_body_of(r), "a=2;b=3;q=1;") << r;
  std::string multipart =
      "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\r\n"
      "hello\r\n--B--\r\n";
  r = co_await http_exchange(port_of(server),
                             "POST /args HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
                             "Content-Type: multipart/form-data; boundary=B\r\nContent-Length: " +
                                 std::to_string(multipart.size()) + "\r\n\r\n" + multipart);
  EXPECT_EQ(http_body_of(r), "file f=hello;") << r;
}

ASYNC_TEST_F(HTTPServerTest, DelegateForm) {
  class Delegate : public httputil::HTTPServerConnectionDelegate {
   public:
    class Request : public httputil::HTTPMessageDelegate {
     public:
      explicit Request(httputil::HTTPConnection* c) : c_(c) {}
      std::optional<Future<void>> headers_received(const httputil::StartLine&,
                                                   HTTPHeaders) override {
        return std::nullopt;
      }
      std::optional<Future<void>> data_received(std::string) override { return std::nullopt; }
      void finish() override {
        (void)c_->write_headers(ResponseStartLine{"HTTP/1.1", 201, "Created"},
                                HTTPHeaders{{"Content-Length", "0"}});
        c_->finish();
      }
      void on_connection_close() override {}
      httputil::HTTPConnection* c_;
    };
    std::unique_ptr<httputil::HTTPMessageDelegate> start_request(
        httputil::HTTPServerConnection*, httputil::HTTPConnection* c) override {
      return std::make_unique<Request>(c);
    }
    void on_close(httputil::HTTPServerConnection*) override { ++closed; }
    int closed = 0;
  } delegate;
  HTTPServer server(&delegate);
  server.listen(0, "127.0.0.1");
  std::string r = co_await http_exchange(port_of(server), "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(http_status_of(r), 201) << r;
  while (delegate.closed < 1) co_await gen::moment;
}

// Tornado's XHeaderTest.
ASYNC_TEST_F(HTTPServerTest, XHeaders) {
  HTTPServerOptions o;
  o.xheaders = true;
  o.trusted_downstream = {"5.5.5.5"};
  HTTPServer server(echo, o);
  server.listen(0, "127.0.0.1");
  auto client = testing::plain_client(port_of(server));
  auto ask = [&](std::string headers) -> Future<std::string> {
    auto pending_9 = client->write("GET /info HTTP/1.1\r\nHost: a\r\n" + headers + "\r\n");
    co_await pending_9;
    std::string r = co_await read_http_response(client.get());
    co_return http_body_of(r);
  };
  std::string got = co_await ask("X-Real-Ip: 4.4.4.4\r\n");
  EXPECT_EQ(got, "4.4.4.4 http");
  got = co_await ask("X-Forwarded-For: 4.4.4.4, 5.5.5.5\r\n");
  EXPECT_EQ(got, "4.4.4.4 http");  // the trusted proxy is skipped
  got = co_await ask("X-Forwarded-For: 4.4.4.4, 6.6.6.6\r\n");
  EXPECT_EQ(got, "6.6.6.6 http");
  got = co_await ask("X-Real-Ip: 2620:0:1cfe:face:b00c::3\r\n");
  EXPECT_EQ(got, "2620:0:1cfe:face:b00c::3 http");
  got = co_await ask("X-Real-Ip: 4.4.4.4<script>\r\n");
  EXPECT_EQ(got, "127.0.0.1 http");  // invalid: ignored
  got = co_await ask("X-Scheme: https\r\n");
  EXPECT_EQ(got, "127.0.0.1 https");
  got = co_await ask("X-Forwarded-Proto: http, https\r\n");
  EXPECT_EQ(got, "127.0.0.1 https");
  got = co_await ask("X-Forwarded-Proto: unknown\r\n");
  EXPECT_EQ(got, "127.0.0.1 http");
  got = co_await ask("");  // the previous request's rewrite does not stick
  EXPECT_EQ(got, "127.0.0.1 http");
}

ASYNC_TEST_F(HTTPServerTest, NoXHeadersByDefault) {
  HTTPServer server(echo);
  server.listen(0, "127.0.0.1");
  std::string r = co_await http_exchange(
      port_of(server), "GET /info HTTP/1.0\r\nX-Real-Ip: 4.4.4.4\r\nX-Scheme: https\r\n\r\n");
  EXPECT_EQ(http_body_of(r), "127.0.0.1 http");
}

ASYNC_TEST_F(HTTPServerTest, ProtocolOption) {
  HTTPServerOptions o;
  o.protocol = "https";
  HTTPServer server(echo, o);
  server.listen(0, "127.0.0.1");
  std::string r = co_await http_exchange(port_of(server), "GET /info HTTP/1.0\r\n\r\n");
  EXPECT_EQ(http_body_of(r), "127.0.0.1 https");
}

ASYNC_TEST_F(HTTPServerTest, ThrowingCallbackGives500AndServerServesOn) {
  HTTPServer server(echo);
  server.listen(0, "127.0.0.1");
  {
    testing::ExpectLog expect(log::app_log(), "Uncaught exception");
    std::string r =
        co_await http_exchange(port_of(server), "GET /throw HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(http_status_of(r), 500) << r;
  }
  std::string r = co_await http_exchange(port_of(server), "GET /ok HTTP/1.0\r\n\r\n");
  EXPECT_EQ(http_body_of(r), "GET /ok ");
}

ASYNC_TEST_F(HTTPServerTest, MaxBodySizeAndDecompression) {
  HTTPServerOptions o;
  o.max_body_size = 1000;
  o.decompress_request = true;
  HTTPServer server(echo, o);
  server.listen(0, "127.0.0.1");
  std::string r = co_await http_exchange(
      port_of(server), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n");
  EXPECT_EQ(http_status_of(r), 413) << r;
  const std::string z = testing::gzip_compress("compressed body");
  auto pending_10 =
      http_exchange(port_of(server),
                    "POST /z HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Encoding: gzip\r\n"
                    "Content-Length: " +
                        std::to_string(z.size()) + "\r\n\r\n" + z);
  r = co_await pending_10;
  EXPECT_EQ(http_body_of(r), "POST /z compressed body");
}

// The client is still sending a large body when the 413 goes out: the server must not
// reset the connection before the client read the answer (lingering close).
ASYNC_TEST_F(HTTPServerTest, TooLargeBodyAnsweredWhileClientStillSends) {
  HTTPServerOptions o;
  o.max_body_size = 1000;
  HTTPServer server(echo, o);
  server.listen(0, "127.0.0.1");
  const std::string script =
      "import socket,sys\n"
      "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n"
      "s.sendall(b'POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 4000000\\r\\n\\r\\n')\n"
      "try:\n"
      "  s.sendall(b'x'*4000000)\n"
      "except OSError:\n"
      "  pass\n"
      "print(s.recv(100).split(b'\\r\\n')[0].decode())\n";
  auto pending_11 = testing::run_command("/usr/bin/python3 -c \"" + script + "\" " +
                                         std::to_string(port_of(server)) + " 2>&1");
  std::string out = co_await pending_11;
  EXPECT_EQ(out, "HTTP/1.1 413 Content Too Large\nrc=0");
}

ASYNC_TEST_F(HTTPServerTest, IdleConnectionTimeout) {
  HTTPServerOptions o;
  o.idle_connection_timeout = 0.05;
  HTTPServer server(echo, o);
  server.listen(0, "127.0.0.1");
  auto client = testing::plain_client(port_of(server));
  co_await client->write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string r = co_await client->read_until_close();  // answered, then closed when idle
  EXPECT_EQ(http_status_of(r), 200);
  while (server.connection_count() > 0) co_await gen::moment;
}

ASYNC_TEST_F(HTTPServerTest, NoKeepAlive) {
  HTTPServerOptions o;
  o.no_keep_alive = true;
  HTTPServer server(echo, o);
  server.listen(0, "127.0.0.1");
  auto client = testing::plain_client(port_of(server));
  co_await client->write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  std::string r = co_await client->read_until_close();
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
}

ASYNC_TEST_F(HTTPServerTest, CloseAllConnections) {
  HTTPServer server(echo);
  server.listen(0, "127.0.0.1");
  std::vector<std::unique_ptr<IOStream>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(testing::plain_client(port_of(server)));
    co_await clients.back()->write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    co_await read_http_response(clients.back().get());
  }
  EXPECT_EQ(server.connection_count(), 3u);
  co_await server.close_all_connections();
  EXPECT_EQ(server.connection_count(), 0u);
  for (auto& c : clients) {
    std::string rest = co_await c->read_until_close();
    EXPECT_EQ(rest, "");
  }
}

// Graceful shutdown under load: 40 keep-alive clients send requests back to back (some
// answered late by a timer); shutdown() mid-way. Every request the server started gets
// its response; every connection ends; shutdown completes.
ASYNC_TEST_F_TIMEOUT(HTTPServerTest, GracefulShutdownUnderLoad, 30) {
  int started = 0;
  HTTPServer server([&started](HTTPServerRequest& request) {
    ++started;
    if (request.path == "/slow") {
      auto* conn = request.connection;
      ioloop::IOLoop::current()->call_later(0.02, [conn] {
        (void)conn->write_headers(ResponseStartLine{"HTTP/1.1", 200, "OK"},
                                  HTTPHeaders{{"Content-Length", "4"}}, "slow");
        conn->finish();
      });
      return;
    }
    respond(request, "fast");
  });
  server.listen(0, "127.0.0.1");
  const int port = port_of(server);
  int answered = 0;
  int closed_clients = 0;
  int completed_total = 0;
  auto client = [&](int i) -> Future<void> {
    auto stream = testing::plain_client(port);
    try {
      for (int n = 0;; ++n) {
        const std::string path = (n + i) % 5 == 0 ? "/slow" : "/fast";
        auto pending_12 = stream->write("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
        co_await pending_12;
        std::string r = co_await read_http_response(stream.get());
        EXPECT_EQ(http_status_of(r), 200);
        ++answered;
        ++completed_total;
        if (r.find("Connection: close") != std::string::npos) {
          std::string rest = co_await stream->read_until_close();
          EXPECT_EQ(rest, "");
          break;
        }
      }
    } catch (const StreamClosedError&) {
      // Closed between requests: the last request was never started by the server.
    }
    ++closed_clients;
  };
  std::vector<Future<void>> clients;
  for (int i = 0; i < 40; ++i) clients.push_back(client(i));
  while (completed_total < 400) co_await gen::moment;
  Future<void> done = server.shutdown();
  co_await done;
  for (auto& c : clients) co_await c;
  EXPECT_EQ(closed_clients, 40);
  EXPECT_EQ(answered, started);
  EXPECT_EQ(server.connection_count(), 0u);
  // Not listening any more.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const auto addr = SocketAddress::from_ip("127.0.0.1", port);
  EXPECT_NE(::connect(fd, addr.sockaddr_ptr(), addr.length), 0);
  ::close(fd);
}

// ---- Real clients.

ASYNC_TEST_F(HTTPServerTest, CurlHTTP10AndKeepAliveReuse) {
  HTTPServer server(echo);
  server.listen(0, "127.0.0.1");
  const std::string base = "http://127.0.0.1:" + std::to_string(port_of(server));
  auto pending_13 = testing::run_command("curl -sS -0 " + base + "/ten 2>&1");
  std::string out = co_await pending_13;
  EXPECT_EQ(out, "GET /ten rc=0");
  auto pending_14 = testing::run_command("curl -sS -v " + base + "/one " + base + "/two 2>&1");
  out = co_await pending_14;
  EXPECT_NE(out.find("GET /one "), std::string::npos) << out;
  EXPECT_NE(out.find("GET /two "), std::string::npos) << out;
  EXPECT_NE(out.find("Re-using existing connection"), std::string::npos) << out;
}

ASYNC_TEST_F(HTTPServerTest, CurlChunkedUploadExpectContinueAndGzip) {
  HTTPServerOptions o;
  o.decompress_request = true;
  HTTPServer server(echo, o);
  server.listen(0, "127.0.0.1");
  const std::string base = "http://127.0.0.1:" + std::to_string(port_of(server));
  const std::string dir = std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";
  const std::string file = dir + "/upload.txt";
  std::ofstream(file) << std::string(100000, 'u');
  auto pending_15 =
      testing::run_command("curl -sS -H 'Transfer-Encoding: chunked' --data-binary @" + file + " " +
                           base + "/chunked | wc -c 2>&1");
  std::string out = co_await pending_15;
  // "POST /chunked " + 100000 bytes.
  EXPECT_EQ(out, std::to_string(14 + 100000) + "\nrc=0") << out;
  auto pending_16 = testing::run_command(
      "curl -sS -v -H 'Expect: 100-continue' --data-binary @" + file + " " + base +
      "/expect 2>&1 | grep -a -c -e '< HTTP/1.1 100 Continue' -e '< HTTP/1.1 200 OK'");
  out = co_await pending_16;
  EXPECT_EQ(out, "2\nrc=0") << out;
  const std::string gz = dir + "/upload.gz";
  std::ofstream(gz, std::ios::binary) << testing::gzip_compress("gzipped upload");
  auto pending_17 = testing::run_command("curl -sS -H 'Content-Encoding: gzip' --data-binary @" +
                                         gz + " " + base + "/gz 2>&1");
  out = co_await pending_17;
  EXPECT_EQ(out, "POST /gz gzipped uploadrc=0") << out;
}

// The test certificate (CN localhost, signed by netutil/testdata/ca.crt) as ssl_options.
HTTPServerOptions tls_options() {
  HTTPServerOptions o;
  netutil::SSLOptions ssl;
  ssl.certfile = runfile("netutil/testdata/localhost.crt");
  ssl.keyfile = runfile("netutil/testdata/localhost.key");
  o.ssl_options = ssl;
  return o;
}

// TLS through ssl_options: curl verifies our certificate, the request reports "https",
// keep-alive works over TLS.
ASYNC_TEST_F(HTTPServerTest, CurlOverTLS) {
  HTTPServer server(echo, tls_options());
  server.listen(0, "127.0.0.1");
  const std::string base = "https://localhost:" + std::to_string(port_of(server));
  const std::string resolve =
      " --resolve localhost:" + std::to_string(port_of(server)) + ":127.0.0.1";
  auto pending_18 = testing::run_command("curl -sS --cacert " + runfile("netutil/testdata/ca.crt") +
                                         resolve + " " + base + "/info " + base + "/two 2>&1");
  std::string out = co_await pending_18;
  EXPECT_EQ(out, "127.0.0.1 httpsGET /two rc=0") << out;
}

// Pipelined requests over TLS (openssl s_client sends them in one record): the held
// responses and the last one leave together, in order, through SSLIOStream.
ASYNC_TEST_F(HTTPServerTest, PipelinedOverTLS) {
  HTTPServer server(echo, tls_options());
  server.listen(0, "127.0.0.1");
  const std::string requests =
      "GET /a HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
      "GET /b HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
      "GET /c HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n";
  auto pending = testing::run_command(
      "printf '" + requests + "' | openssl s_client -quiet -connect 127.0.0.1:" +
      std::to_string(port_of(server)) + " 2>/dev/null | grep -ao 'GET /[abc] '");
  std::string out = co_await pending;
  EXPECT_EQ(out, "GET /a \nGET /b \nGET /c \nrc=0") << out;
}

std::string python_clients(const std::string& mode, int port) {
  return "/usr/bin/python3 " + runfile("httpserver/testdata/clients.py") + " " + mode + " " +
         std::to_string(port) + " 2>&1";
}

// A TLS client that resets its idle keep-alive connection (browsers do): the server's
// read fails, and the close_notify it then sends meets the reset as EPIPE, not as a
// SIGPIPE that would end the process. It serves the next client.
ASYNC_TEST_F(HTTPServerTest, TLSClientResetWhileIdle) {
  HTTPServer server(echo, tls_options());
  server.listen(0, "127.0.0.1");
  std::string out = co_await testing::run_command(python_clients("tls_reset", port_of(server)));
  EXPECT_EQ(out, "HTTP/1.1 200 OK 127.0.0.1 https\nrc=0");
  auto pending = testing::run_command(
      "printf 'GET /after HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | "
      "openssl s_client -quiet -connect 127.0.0.1:" + std::to_string(port_of(server)) +
      " 2>/dev/null | grep -ao 'GET /after '");
  out = co_await pending;
  EXPECT_EQ(out, "GET /after \nrc=0");
}

ASYNC_TEST_F(HTTPServerTest, PythonHTTPClient) {
  HTTPServer server(echo);
  server.listen(0, "127.0.0.1");
  std::string out = co_await testing::run_command(python_clients("http_client", port_of(server)));
  EXPECT_EQ(out,
            "200 GET /a \n200 POST /b xyz\n200 GET /c?q=1 \n200 PUT /chunked abcd\nreused\nrc=0");
}

ASYNC_TEST_F(HTTPServerTest, PythonRequests) {
  HTTPServer server(echo);
  server.listen(0, "127.0.0.1");
  std::string out = co_await testing::run_command(python_clients("requests", port_of(server)));
  EXPECT_EQ(out,
            "200 GET /r1 \n200 POST /r2 payload\n200 POST /r3 generated\n"
            "200 chunk1chunk2 chunked\nrc=0");
}

ASYNC_TEST_F(HTTPServerTest, PythonH11StrictClient) {
  HTTPServer server(echo);
  server.listen(0, "127.0.0.1");
  std::string out = co_await testing::run_command(python_clients("h11", port_of(server)));
  EXPECT_EQ(out,
            "200 GET /h1 \n200 POST /h2 chunked\n200 chunk1chunk2\n200 \n"
            "states DONE DONE\nrc=0");
}

// nginx (Debian's) as the reverse proxy in front of the server, as deployments run it:
// X-Forwarded-For/X-Forwarded-Proto set by nginx reach the request through xheaders,
// nginx's keep-alive upstream carries several requests on one connection, a chunked
// upload arrives with its body, and a 1 MB response passes through whole.
class NginxProxyTest : public HTTPServerTest {
 protected:
  // Answers "<remote_ip> <protocol> <body size>", or 1 MB for /big, and counts the
  // server connections requests arrived on.
  class Delegate : public httputil::HTTPServerConnectionDelegate {
   public:
    class Request : public httputil::HTTPMessageDelegate {
     public:
      explicit Request(httputil::HTTPConnection* c) : c_(c) {}
      std::optional<Future<void>> headers_received(const httputil::StartLine& start,
                                                   HTTPHeaders) override {
        big_ = std::get<httputil::RequestStartLine>(start).path == "/big";
        return std::nullopt;
      }
      std::optional<Future<void>> data_received(std::string chunk) override {
        body_size_ += chunk.size();
        return std::nullopt;
      }
      void finish() override {
        std::string body = big_ ? std::string(1 << 20, 'x')
                                : c_->context().remote_ip + " " + c_->context().protocol + " " +
                                      std::to_string(body_size_);
        HTTPHeaders headers{{"Content-Length", std::to_string(body.size())}};
        (void)c_->write_headers(ResponseStartLine{"HTTP/1.1", 200, "OK"}, headers, std::move(body));
        c_->finish();
      }
      void on_connection_close() override {}

     private:
      httputil::HTTPConnection* c_;
      std::size_t body_size_ = 0;
      bool big_ = false;
    };
    std::unique_ptr<httputil::HTTPMessageDelegate> start_request(
        httputil::HTTPServerConnection* server_conn, httputil::HTTPConnection* c) override {
      if (live_.insert(server_conn).second) ++connections;
      return std::make_unique<Request>(c);
    }
    // A closed connection's address may come back for a new one: forget it on close.
    void on_close(httputil::HTTPServerConnection* server_conn) override {
      live_.erase(server_conn);
    }
    int connections = 0;

   private:
    std::set<httputil::HTTPServerConnection*> live_;
  };

  // Starts nginx on a free port proxying to `upstream_port`; returns nginx's port.
  int start_nginx(int upstream_port) {
    const std::string dir = std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto [fd, port] = testing::bind_unused_port();
      ::close(fd);  // nginx binds it next; another process taking it first means a retry
      std::ofstream conf(dir + "/nginx.conf");
      conf << "daemon off; master_process off; user root root; error_log stderr notice;\n"
           << "pid " << dir << "/nginx.pid;\nevents { worker_connections 64; }\n"
           << "http {\n access_log off;\n client_body_temp_path " << dir << ";\n"
           << " proxy_temp_path " << dir << "; fastcgi_temp_path " << dir << ";\n"
           << " uwsgi_temp_path " << dir << "; scgi_temp_path " << dir << ";\n"
           << " upstream app { server 127.0.0.1:" << upstream_port << "; keepalive 4; }\n"
           << " server {\n  listen 127.0.0.1:" << port << ";\n  location / {\n"
           << "   proxy_pass http://app;\n   proxy_http_version 1.1;\n"
           << "   proxy_set_header Connection \"\";\n"
           << "   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
           << "   proxy_set_header X-Forwarded-Proto $scheme;\n  }\n }\n}\n";
      conf.close();
      std::string log;
      const std::string line = nginx_.start(
          {"/usr/sbin/nginx", "-p", dir, "-e", "stderr", "-c", dir + "/nginx.conf"},
          [](const std::string& l) {
            // nginx's worker logs its fd limit once it listens; [emerg] is a failed start.
            return l.find("getrlimit") != std::string::npos ||
                   l.find("[emerg]") != std::string::npos;
          },
          &log);
      if (line.find("getrlimit") != std::string::npos) return port;
      nginx_.stop();
      std::fprintf(stderr, "nginx did not start (attempt %d): %s\n", attempt + 1, log.c_str());
    }
    throw std::runtime_error("nginx did not start");
  }

  void TearDown() override {
    nginx_.stop();  // before the fixture's check for leaked fds (its pipes)
    HTTPServerTest::TearDown();
  }

  testing::PeerProcess nginx_;
};

ASYNC_TEST_F(NginxProxyTest, XHeadersKeepAliveUpstreamChunkedUploadLargeResponse) {
  Delegate delegate;
  HTTPServerOptions o;
  o.xheaders = true;
  o.trusted_downstream = {"127.0.0.1"};  // nginx's own hop in X-Forwarded-For
  HTTPServer server(&delegate, o);
  server.listen(0, "127.0.0.1");
  const int port = start_nginx(port_of(server));

  // The client claims 203.0.113.7 forwarded it; nginx appends 127.0.0.1 (trusted).
  std::string r = co_await http_exchange(
      port,
      "GET /info HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(http_status_of(r), 200) << r;
  EXPECT_EQ(http_body_of(r), "203.0.113.7 http 0");

  r = co_await http_exchange(port,
                             "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                             "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(http_body_of(r), "127.0.0.1 http 11") << r;

  r = co_await http_exchange(port, "GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(http_status_of(r), 200);
  EXPECT_EQ(http_body_of(r), std::string(1 << 20, 'x'));

  for (int i = 0; i < 5; ++i) {
    r = co_await http_exchange(port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(http_status_of(r), 200) << r;
  }
  // Eight requests over nginx's keep-alive upstream pool: one connection to us.
  EXPECT_EQ(delegate.connections, 1);
}

}  // namespace
}  // namespace tornado::httpserver
