// A line echo TCPServer under a lowered RLIMIT_NOFILE, the child process of
// tcpserver_emfile_test: it lowers its own soft limit (so the test process keeps its
// own), listens on 127.0.0.1 port 0, prints "PORT <n>" on stdout and serves until
// killed. Its log (the accept back-off lines) goes to stderr.
//
// usage: emfile_echo_server <nofile soft limit>
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// UBSan's vptr check (--config=asan builds) probes memory through a pipe() it opens on a
// type-cache miss; with this process's descriptor table full by design, that pipe fails
// and UBSan reports a false "invalid vptr" and aborts (about one run in six). This
// definition of pipe() (the executable's symbol wins over libc's for the sanitizer
// runtime too) gives such a pipe two descriptors above the soft limit, raising it just
// for that call and restoring it at once; the loop is single-threaded, so no accept()
// can run in between. Nothing else here calls pipe() (the loop's waker exists before
// the flood), so without sanitizers it changes nothing.
extern "C" int pipe(int fds[2]) {
  int r = static_cast<int>(::syscall(SYS_pipe2, fds, 0));
  if (r == 0 || errno != EMFILE) return r;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return r;
  rlimit raised = limit;
  raised.rlim_cur += 2;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) return r;
  r = static_cast<int>(::syscall(SYS_pipe2, fds, 0));
  const int err = errno;
  setrlimit(RLIMIT_NOFILE, &limit);
  errno = err;
  return r;
}

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
