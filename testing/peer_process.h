// tornado::testing::PeerProcess: a real peer for a test (Python Tornado, nginx, ...) as a
// child process started with posix_spawn, its stdin a pipe we hold (a crashed test leaves
// no server behind: the peer exits when it closes) and its stdout+stderr a pipe read until
// a "ready" line. Killed and reaped by the destructor.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

extern "C" char** environ;

namespace tornado::testing {

class PeerProcess {
 public:
  PeerProcess() = default;
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;
  ~PeerProcess() { stop(); }

  // Starts `args` and reads its output line by line until `ready(line)` returns true
  // (returns that line) or the output ends (returns "" and everything read in *log).
  // With `capture_stderr` false, stderr stays the test's (for a peer that logs on: the
  // pipe is not read after the ready line, and a full pipe would stall the peer).
  std::string start(std::vector<std::string> args, const std::function<bool(const std::string&)>& ready,
                    std::string* log = nullptr, bool capture_stderr = true) {
    int out[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) {
      throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    if (capture_stderr) posix_spawn_file_actions_adddup2(&actions, out[1], 2);
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
      throw std::system_error(rc, std::generic_category(), "posix_spawn " + args[0]);
    }
    out_fd_ = out[0];
    std::string line, all;
    char c;
    for (;;) {
      const ssize_t n = ::read(out_fd_, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      all.push_back(c);
      if (c != '\n') {
        line.push_back(c);
        continue;
      }
      if (ready(line)) {
        if (log) *log = all;
        return line;
      }
      line.clear();
    }
    if (log) *log = all;
    return "";
  }

  void stop() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    stdin_fd_ = -1;
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int out_fd_ = -1;
};

}  // namespace tornado::testing
