// Test support for simple_httpclient: an in-process HTTP server that counts the
// connections it accepts, raw scripted TCP servers, and a recording forward proxy
// (absolute-form requests and CONNECT tunnels), all on the current IOLoop.
#pragma once

#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <brotli/encode.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "concurrent/future.h"
#include "gen/gen.h"
#include "httpclient/httpclient.h"
#include "ioloop/ioloop.h"
#include "simple_httpclient/simple_httpclient.h"
#include "testing/async_test_case.h"
#include "httpserver/httpserver.h"
#include "httputil/httputil.h"
#include "iostream/iostream.h"
#include "netutil/netutil.h"
#include "tcpclient/tcpclient.h"

namespace tornado::simple_httpclient::test {

using concurrent::Future;
using StreamPtr = std::shared_ptr<iostream::IOStream>;

// Runs client->fetch to completion on `loop`. Without raise_error, an error that fetch()
// raises (599s, bad requests) comes back as a response with code 599; a test failure or
// the 10 s run_sync timeout always propagates.
inline httpclient::HTTPResponse run_fetch(ioloop::IOLoop* loop, SimpleAsyncHTTPClient& client,
                                          httpclient::HTTPRequest req, bool raise_error = false) {
  auto f = client.fetch(std::move(req), raise_error);
  if (raise_error) return loop->run_sync([f]() { return f; }, 10.0);
  try {
    return loop->run_sync([f]() { return f; }, 10.0);
  } catch (const testing::AsyncTestFailure&) {
    throw;
  } catch (const gen::TimeoutError&) {
    throw;
  } catch (...) {
    httpclient::HTTPResponse r;
    r.code = 599;
    r.error = std::current_exception();
    return r;
  }
}

inline std::string runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

inline std::string zlib_compress(const std::string& in, int wbits) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
inline std::string gzip_compress(const std::string& in) { return zlib_compress(in, 16 + 15); }

inline std::string brotli_compress(const std::string& in) {
  std::size_t n = BrotliEncoderMaxCompressedSize(in.size());
  std::string out(n, '\0');
  BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, in.size(), reinterpret_cast<const uint8_t*>(in.data()), &n,
                        reinterpret_cast<uint8_t*>(out.data()));
  out.resize(n);
  return out;
}

// An HTTPServer that counts accepted connections.
class CountingServer : public httpserver::HTTPServer {
 public:
  using httpserver::HTTPServer::HTTPServer;
  Future<void> handle_stream(StreamPtr stream, netutil::SocketAddress address) override {
    ++accepted;
    return httpserver::HTTPServer::handle_stream(std::move(stream), address);
  }
  int listen_local() {
    auto fds = netutil::bind_sockets(0, "127.0.0.1", AF_INET);
    port = netutil::SocketAddress::local_of(fds[0]).port();
    add_sockets(fds);
    return port;
  }
  int accepted = 0;
  int port = 0;
};

// Accepts connections and runs `handler` on each stream. Closes everything on stop().
class RawServer {
 public:
  using Handler = std::function<Future<void>(StreamPtr)>;
  explicit RawServer(Handler handler) : handler_(std::move(handler)) {
    auto fds = netutil::bind_sockets(0, "127.0.0.1", AF_INET);
    fd_ = fds[0];
    port_ = netutil::SocketAddress::local_of(fd_).port();
    remove_ = netutil::add_accept_handler(fd_, [this](int conn, netutil::SocketAddress) {
      ++accepted;
      auto s = std::make_shared<iostream::IOStream>(conn);
      streams_.push_back(s);
      (void)handler_(s);
    });
  }
  ~RawServer() { stop(); }
  void stop() {
    if (fd_ < 0) return;
    remove_();
    ::close(fd_);
    fd_ = -1;
    for (auto& s : streams_) s->close();
  }
  int port() const { return port_; }
  int accepted = 0;

 private:
  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::function<void()> remove_;
  std::vector<StreamPtr> streams_;
};

inline Future<void> pump(StreamPtr from, StreamPtr to) {
  try {
    for (;;) {
      std::string data = co_await from->read_bytes(65536, true);
      Future<void> w = to->write(std::move(data));
      co_await w;
    }
  } catch (...) {
  }
  to->close();
  from->close();
}

// A forward proxy that records each request head it receives. Absolute-form requests
// are rewritten to origin-form and sent to 127.0.0.1:<port of the URL>; CONNECT
// requests get a tunnel to 127.0.0.1:<port>.
class RecordingProxy {
 public:
  RecordingProxy()
      : server_([this](StreamPtr s) { return serve(this, std::move(s)); }) {}
  ~RecordingProxy() { stop(); }
  void stop() {
    server_.stop();
    for (auto& s : upstreams_) s->close();
  }
  int port() const { return server_.port(); }
  std::vector<std::string> heads;

 private:
  static int port_of(const std::string& authority) {
    return std::atoi(authority.substr(authority.rfind(':') + 1).c_str());
  }
  static Future<void> serve(RecordingProxy* self, StreamPtr s) {
    try {
      std::string head = co_await s->read_until("\r\n\r\n", 65536);
      self->heads.push_back(head);
      const std::size_t sp1 = head.find(' ');
      const std::size_t sp2 = head.find(' ', sp1 + 1);
      const std::string method = head.substr(0, sp1);
      const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
      std::string authority = target;
      std::string rewritten;
      if (method != "CONNECT") {
        const std::size_t start = target.find("://") + 3;
        const std::size_t slash = target.find('/', start);
        authority = target.substr(start, slash - start);
        rewritten = method + " " + target.substr(slash) + head.substr(sp2);
      }
      auto up_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      auto up = std::make_shared<iostream::IOStream>(up_fd);
      self->upstreams_.push_back(up);
      const netutil::SocketAddress addr = netutil::SocketAddress::from_ip("127.0.0.1", port_of(authority));
      Future<void> c = up->connect(addr);
      co_await c;
      if (method == "CONNECT") {
        Future<void> w = s->write("HTTP/1.1 200 Connection established\r\n\r\n");
        co_await w;
      } else {
        Future<void> w = up->write(std::move(rewritten));
        co_await w;
      }
      (void)pump(s, up);
      (void)pump(up, s);
    } catch (...) {
      s->close();
    }
  }

  RawServer server_;
  std::vector<StreamPtr> upstreams_;
};

}  // namespace tornado::simple_httpclient::test
