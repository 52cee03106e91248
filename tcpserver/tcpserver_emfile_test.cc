// A whole TCPServer out of file descriptors: emfile_echo_server (a line echo server that
// lowers its own RLIMIT_NOFILE to kLimit, in its own process so this test's limit is
// untouched) gets a flood of connections, more than it has descriptors. It must log the
// accept back-off, not spin the CPU while the listening socket stays readable, keep
// serving the clients it already has, and serve new clients once the flood goes away.
//
// This test talks to it with blocking sockets (receive timeouts bound every wait) and
// reads its log from a pipe; the CPU time of the server is read from /proc/<pid>/stat.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

extern "C" char** environ;

namespace {

constexpr int kLimit = 64;           // the server's RLIMIT_NOFILE
constexpr int kEarlyClients = 10;    // connected before the flood, served throughout
constexpr int kFloodClients = 100;   // below the listen backlog (128): all connect
constexpr int kWindowBackoffs = 5;   // back-off lines in the measured window, at least
constexpr double kMinWindow = 0.3;   // seconds, at least

using Clock = std::chrono::steady_clock;

std::string runfile(const std::string& path) {
  const char* src = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(src ? src : ".") + "/" + (ws ? ws : "tornado") + "/" + path;
}

// The server process; its stdout and stderr go to one pipe we read line by line.
class Server {
 public:
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (out_ >= 0) ::close(out_);
  }

  void start(const std::string& binary, int limit) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    const std::string limit_arg = std::to_string(limit);
    char* argv[] = {const_cast<char*>(binary.c_str()), const_cast<char*>(limit_arg.c_str()),
                    nullptr};
    const int rc = ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    ASSERT_EQ(rc, 0) << "posix_spawn " << binary << ": " << std::strerror(rc);
  }

  // Waits (up to `timeout_s`) for the next line containing `needle`; false on timeout or
  // end of output. Every line read is kept in output().
  bool wait_for_line(const std::string& needle, double timeout_s = 20) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      size_t nl;
      while ((nl = pending_.find('\n')) != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        lines_.push_back(line);
        if (lines_.size() > 200) lines_.erase(lines_.begin(), lines_.begin() + 100);
        if (line.find(needle) != std::string::npos) {
          last_ = line;
          return true;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{out_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      char buf[4096];
      const ssize_t got = ::read(out_, buf, sizeof(buf));
      if (got <= 0) return false;
      pending_.append(buf, static_cast<size_t>(got));
    }
  }

  // The server's user + system CPU time so far, all threads (/proc/<pid>/stat).
  double cpu_seconds() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string f;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && (fields >> f); ++i) {  // field 3 is the state
      if (i == 14) utime = std::stol(f);
      if (i == 15) stime = std::stol(f);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }

  std::string output() const {
    std::string all;
    for (const auto& l : lines_) all += l + "\n";
    return all + pending_;
  }
  const std::string& last_line() const { return last_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string pending_;
  std::string last_;
  std::vector<std::string> lines_;
};

// A blocking client socket connected to 127.0.0.1:port, every receive bounded by 10 s.
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends a line and reads the echo; "" if the server did not answer in time.
std::string echo(int fd, const std::string& line) {
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    return "";
  }
  std::string got;
  char buf[256];
  while (got.find('\n') == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST(TCPServerEmfileTest, BacksOffWithoutSpinningServesExistingAndRecovers) {
  Server server;
  ASSERT_NO_FATAL_FAILURE(server.start(runfile("tcpserver/emfile_echo_server"), kLimit));
  ASSERT_TRUE(server.wait_for_line("PORT ")) << server.output();
  const int port = std::atoi(server.last_line().c_str() + 5);
  ASSERT_GT(port, 0) << server.output();

  std::vector<int> early;
  for (int i = 0; i < kEarlyClients; ++i) {
    const int fd = connect_to(port);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    early.push_back(fd);
    ASSERT_EQ(echo(fd, "early " + std::to_string(i) + "\n"), "early " + std::to_string(i) + "\n");
  }

  // The flood: more connections than the server has descriptors left. The kernel
  // completes them all (backlog 128); the server accepts until EMFILE.
  std::vector<int> flood;
  for (int i = 0; i < kFloodClients; ++i) {
    const int fd = connect_to(port);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    flood.push_back(fd);
  }
  ASSERT_TRUE(server.wait_for_line("Too many open files; pausing accepts"))
      << "no EMFILE back-off logged:\n" << server.output();

  // The window: at least kMinWindow seconds and kWindowBackoffs more back-off lines
  // (doubling from 10 ms: 20+40+80+160+320 ms). Existing clients are served meanwhile.
  const double cpu0 = server.cpu_seconds();
  const auto t0 = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  int backoffs = 0;
  while (backoffs < kWindowBackoffs || elapsed() < kMinWindow) {
    if (backoffs < static_cast<int>(early.size())) {
      const std::string msg = "during " + std::to_string(backoffs) + "\n";
      EXPECT_EQ(echo(early[static_cast<size_t>(backoffs)], msg), msg)
          << "an existing client was not served while the server was out of fds";
    }
    ASSERT_TRUE(server.wait_for_line("Too many open files; pausing accepts"))
        << "back-off did not continue:\n" << server.output();
    ++backoffs;
  }
  const double wall = elapsed();
  const double cpu = server.cpu_seconds() - cpu0;
  std::printf("window: %.3f s wall, %.3f s server CPU, %d back-offs\n", wall, cpu, backoffs);
  // Doubling back-off: a handful of attempts (a spin would log thousands).
  EXPECT_LE(backoffs, kWindowBackoffs + 2);
  // A spinning server would burn about the whole window (at least its share of a core);
  // backing off it sleeps almost all of it.
  EXPECT_LT(cpu, 0.2 * wall + 0.03) << "the server spun while out of descriptors";
  for (size_t i = 0; i < early.size(); ++i) {
    const std::string msg = "still " + std::to_string(i) + "\n";
    EXPECT_EQ(echo(early[i], msg), msg);
  }

  // The flood goes away; the server frees its descriptors, and at its next attempt
  // drains the queued connections (all closed by now) and accepts new ones again.
  for (int fd : flood) ::close(fd);
  const int late = connect_to(port);
  ASSERT_GE(late, 0);
  // The back-off may be up to 1 s; echo() waits up to 10 s for the answer.
  if (echo(late, "late\n") != "late\n") {
    server.wait_for_line("(read whatever the server still said)", 2);
    ADD_FAILURE() << "a new client was not served after the flood went away:\n" << server.output();
  }
  ::close(late);
  for (size_t i = 0; i < early.size(); ++i) {
    const std::string msg = "after " + std::to_string(i) + "\n";
    EXPECT_EQ(echo(early[i], msg), msg);
    ::close(early[i]);
  }
}

}  // namespace
