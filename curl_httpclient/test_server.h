// Test support: the Python Tornado peer (testdata/server.py) as a child process.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

extern "C" char** environ;

namespace tornado::curl_httpclient::test {

// The directory of a test data file, under the test's runfiles.
inline std::string runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

// testdata/server.py run by /usr/bin/python3 (Debian's, with python3-tornado). It reads
// its stdin, a pipe we hold, and exits when that closes: a crashed test leaves no
// server behind. The destructor also kills and reaps it.
class PeerServer {
 public:
  PeerServer() = default;
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;
  ~PeerServer() { stop(); }

  // Starts the server and blocks until it prints its port; throws on failure.
  void start(const std::vector<std::string>& extra_args = {}) {
    int out[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) {
      throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    std::vector<std::string> args = {"/usr/bin/python3", runfile("curl_httpclient/testdata/server.py")};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(in[0]);
    stdin_fd_ = in[1];
    if (rc != 0) {
      ::close(out[0]);
      pid_ = -1;
      throw std::system_error(rc, std::generic_category(), "posix_spawn python3");
    }
    std::string output;
    char c;
    while (output.find('\n') == std::string::npos) {
      const ssize_t n = ::read(out[0], &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      output.push_back(c);
    }
    ::close(out[0]);
    if (output.rfind("PORT ", 0) != 0) throw std::runtime_error("server.py did not start: " + output);
    port_ = std::atoi(output.c_str() + 5);
  }

  void stop() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    stdin_fd_ = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
  }

  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
};

}  // namespace tornado::curl_httpclient::test
