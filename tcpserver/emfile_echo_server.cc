// A line echo TCPServer under a lowered RLIMIT_NOFILE, the child process of
// tcpserver_emfile_test: it lowers its own soft limit (so the test process keeps its
// own), listens on 127.0.0.1 port 0, prints "PORT <n>" on stdout and serves until
// killed. Its log (the accept back-off lines) goes to stderr.
//
// usage: emfile_echo_server <nofile soft limit>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "ioloop/ioloop.h"
#include "iostream/iostream.h"
#include "log/log.h"
#include "netutil/netutil.h"
#include "tcpserver/tcpserver.h"

namespace {

using tornado::concurrent::Future;

class LineEchoServer : public tornado::tcpserver::TCPServer {
 public:
  Future<void> handle_stream(std::shared_ptr<tornado::iostream::IOStream> stream,
                             tornado::netutil::SocketAddress) override {
    try {
      for (;;) {
        std::string line = co_await stream->read_until("\n");
        co_await stream->write(std::move(line));
      }
    } catch (const tornado::iostream::StreamClosedError&) {
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <nofile soft limit>\n", argv[0]);
    return 2;
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1;
  limit.rlim_cur = std::strtoul(argv[1], nullptr, 10);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    std::perror("setrlimit");
    return 1;
  }
  // Warm the error-logging path while descriptors are free (sanitizer runtimes may need
  // one the first time); the test does not count this line.
  tornado::log::gen_log().error("emfile_echo_server: warm-up line, limit {}", argv[1]);
  LineEchoServer server;
  server.listen(0, "127.0.0.1", AF_INET);
  const int port = tornado::netutil::SocketAddress::local_of(server.sockets().at(0)).port();
  std::printf("PORT %d\n", port);
  std::fflush(stdout);
  tornado::ioloop::IOLoop::current()->start();
  return 0;
}
