// Tests for process: fork_processes (inside a forked supervisor), task_id, cpu_count,
// Subprocess (pipes, exit codes, CalledProcessError, SIGCHLD with many children).
#include "process/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ioloop/ioloop.h"
#include "iostream/iostream.h"
#include "testing/testing.h"

namespace tornado::process {
namespace {

// ---------------------------------------------------------------------------------------
// fork_processes: run inside a supervisor forked from the test, so the gtest process
// itself is never the fork_processes parent.

// Reads one '\n'-terminated line from `fd`, blocking up to `timeout_ms` (a guard
// against a hung test, not a wait for a condition). Returns "" on EOF or timeout.
std::string read_line(int fd, std::string& buffer, int timeout_ms = 20000) {
  for (;;) {
    auto nl = buffer.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      return line;
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return "";
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";
    buffer.append(buf, static_cast<std::size_t>(n));
  }
}

void write_all(int fd, const char* s) {
  std::size_t len = std::strlen(s);
  while (len > 0) {
    ssize_t n = ::write(fd, s, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s += n;
    len -= static_cast<std::size_t>(n);
  }
}

// Waits for `pid` (blocking; the supervisor exits once its children do).
int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

TEST(ForkProcessesTest, TaskIdIsNulloptInTheParent) {
  EXPECT_FALSE(task_id().has_value());
  EXPECT_GE(cpu_count(), 1);
}

TEST(ForkProcessesTest, RefusesWhenAnIOLoopExists) {
  ioloop::IOLoop loop;
  loop.make_current();
  ASSERT_EQ(ioloop::IOLoop::current(false), &loop);
  try {
    fork_processes(2);
    FAIL() << "fork_processes did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("IOLoop"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(task_id().has_value());
  ioloop::IOLoop::clear_current();
  loop.close();
}

// Three children report "id task_id pid"; the test SIGKILLs task 1, which must come back
// with the same id (and task_id()) in a new pid; then every child exits 0 and the
// supervisor (the fork_processes parent) exits 0.
TEST(ForkProcessesTest, KilledChildIsRestartedWithItsTaskId) {
  ASSERT_EQ(ioloop::IOLoop::current(false), nullptr);
  int report[2], go[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  std::fflush(nullptr);
  pid_t supervisor = ::fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    ::close(report[0]);
    ::close(go[1]);
    int id = -1;
    try {
      id = fork_processes(3, 5);
    } catch (const std::exception& e) {
      std::string msg = std::string("error ") + e.what() + "\n";
      write_all(report[1], msg.c_str());
      ::_exit(3);
    }
    // Worker: report, then block until the test closes `go`.
    char line[64];
    std::snprintf(line, sizeof line, "%d %d %d\n", id, task_id().value_or(-1),
                  static_cast<int>(::getpid()));
    write_all(report[1], line);
    char c;
    while (::read(go[0], &c, 1) != 0) {
    }
    ::_exit(0);
  }
  ::close(report[1]);
  ::close(go[0]);
  std::string buffer;
  std::map<int, int> pids;  // task id -> pid
  for (int i = 0; i < 3; ++i) {
    int id = -1, tid = -2, pid = 0;
    std::string line = read_line(report[0], buffer);
    ASSERT_EQ(std::sscanf(line.c_str(), "%d %d %d", &id, &tid, &pid), 3) << line;
    EXPECT_EQ(id, tid);
    pids[id] = pid;
  }
  EXPECT_EQ((std::set<int>{pids.begin()->first, std::next(pids.begin())->first,
                           std::prev(pids.end())->first}),
            (std::set<int>{0, 1, 2}));
  ASSERT_EQ(::kill(pids[1], SIGKILL), 0);
  {
    int id = -1, tid = -2, pid = 0;
    std::string line = read_line(report[0], buffer);
    ASSERT_EQ(std::sscanf(line.c_str(), "%d %d %d", &id, &tid, &pid), 3) << line;
    EXPECT_EQ(id, 1);
    EXPECT_EQ(tid, 1);
    EXPECT_NE(pid, pids[1]);
  }
  ::close(go[1]);  // every worker exits 0
  int status = wait_status(supervisor);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(read_line(report[0], buffer), "");  // nothing else was reported
  ::close(report[0]);
}

// A child that keeps exiting with status 1 is restarted max_restarts times, then the
// parent throws "Too many child restarts, giving up".
TEST(ForkProcessesTest, TooManyRestartsThrows) {
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  std::fflush(nullptr);
  pid_t supervisor = ::fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    ::close(report[0]);
    int id = -1;
    try {
      id = fork_processes(1, 2);
    } catch (const std::runtime_error& e) {
      std::string msg = std::string("error ") + e.what() + "\n";
      write_all(report[1], msg.c_str());
      ::_exit(3);
    }
    char line[32];
    std::snprintf(line, sizeof line, "child %d\n", id);
    write_all(report[1], line);
    ::_exit(1);
  }
  ::close(report[1]);
  std::string buffer;
  // The first run and two restarts, then the error.
  EXPECT_EQ(read_line(report[0], buffer), "child 0");
  EXPECT_EQ(read_line(report[0], buffer), "child 0");
  EXPECT_EQ(read_line(report[0], buffer), "child 0");
  EXPECT_EQ(read_line(report[0], buffer), "error Too many child restarts, giving up");
  int status = wait_status(supervisor);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  ::close(report[0]);
}

// ---------------------------------------------------------------------------------------
// Subprocess

class SubprocessTest : public testing::AsyncTestCase {
 protected:
  void TearDown() override {
    Subprocess::uninitialize();  // before the loop closes its fds
    AsyncTestCase::TearDown();
  }
};

// True once `pid` has been collected by someone (ECHILD); never reaps it itself.
bool is_reaped(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == -1 &&
         errno == ECHILD;
}

using Opt = Subprocess::Options;
constexpr int kInherit = Subprocess::INHERIT;

Opt io(int in, int out = kInherit, int err = kInherit) {
  Opt o;
  o.std_in = in;
  o.std_out = out;
  o.std_err = err;
  return o;
}

ASYNC_TEST_F(SubprocessTest, PipeThroughCat) {
  Subprocess subproc({"cat"}, io(Subprocess::STREAM, Subprocess::STREAM));
  CO_ASSERT_TRUE(subproc.stdin_stream() != nullptr);
  CO_ASSERT_TRUE(subproc.stdout_stream() != nullptr);
  EXPECT_EQ(subproc.stderr_stream(), nullptr);
  co_await subproc.stdin_stream()->write("hello\n");
  std::string line = co_await subproc.stdout_stream()->read_until("\n");
  CO_ASSERT_EQ(line, "hello\n");
  co_await subproc.stdin_stream()->write(std::string(100000, 'x'));
  std::string big = co_await subproc.stdout_stream()->read_bytes(100000);
  CO_ASSERT_EQ(big, std::string(100000, 'x'));
  subproc.stdin_stream()->close();  // cat sees EOF and exits
  std::string rest = co_await subproc.stdout_stream()->read_until_close();
  CO_ASSERT_EQ(rest, "");
  int ret = co_await subproc.wait_for_exit();
  CO_ASSERT_EQ(ret, 0);
  CO_ASSERT_EQ(subproc.returncode(), std::optional<int>(0));
}

ASYNC_TEST_F(SubprocessTest, StdoutAndStderr) {
  Subprocess subproc({"sh", "-c", "echo out; echo err >&2"},
                     io(kInherit, Subprocess::STREAM, Subprocess::STREAM));
  std::string out = co_await subproc.stdout_stream()->read_until_close();
  std::string err = co_await subproc.stderr_stream()->read_until_close();
  CO_ASSERT_EQ(out, "out\n");
  CO_ASSERT_EQ(err, "err\n");
  int ret = co_await subproc.wait_for_exit();
  CO_ASSERT_EQ(ret, 0);
}

ASYNC_TEST_F(SubprocessTest, StderrToStdoutDevNullCwdAndEnv) {
  Opt opts = io(Subprocess::DEVNULL, Subprocess::STREAM, Subprocess::STDOUT);
  opts.cwd = "/";
  opts.env = std::vector<std::string>{"FOO=bar", "PATH=/usr/bin:/bin"};
  Subprocess subproc({"sh", "-c", "pwd; echo \"$FOO\" >&2; cat"},
                     opts);
  std::string out = co_await subproc.stdout_stream()->read_until_close();
  CO_ASSERT_EQ(out, "/\nbar\n");
  int ret = co_await subproc.wait_for_exit();
  CO_ASSERT_EQ(ret, 0);
}

ASYNC_TEST_F(SubprocessTest, ChildSeesNoInheritedFds) {
  int p[2];
  CO_ASSERT_EQ(::pipe(p), 0);  // not close-on-exec: close_fds must still hide it
  Subprocess subproc({"sh", "-c", "ls /proc/self/fd | wc -l"},
                     io(kInherit, Subprocess::STREAM));
  ::close(p[0]);
  ::close(p[1]);
  std::string out = co_await subproc.stdout_stream()->read_until_close();
  // 0, 1, 2 and the fd ls opens for the directory.
  CO_ASSERT_EQ(out, "4\n");
  co_await subproc.wait_for_exit();
}

ASYNC_TEST_F(SubprocessTest, ExitCodesAndCalledProcessError) {
  {
    Subprocess subproc({"sh", "-c", "exit 3"});
    int ret = co_await subproc.wait_for_exit(/*raise_error=*/false);
    CO_ASSERT_EQ(ret, 3);
    CO_ASSERT_EQ(subproc.returncode(), std::optional<int>(3));
  }
  {
    Subprocess subproc({"sh", "-c", "exit 1"});
    bool raised = false;
    try {
      co_await subproc.wait_for_exit();
    } catch (const CalledProcessError& e) {
      raised = true;
      EXPECT_EQ(e.returncode(), 1);
      EXPECT_EQ(e.cmd(), "sh -c exit 1");
      EXPECT_STREQ(e.what(), "Command 'sh -c exit 1' returned non-zero exit status 1.");
    }
    CO_ASSERT_TRUE(raised);
  }
}

// Tornado's test_sigchild_signal: a child killed by SIGTERM returns -SIGTERM.
ASYNC_TEST_F(SubprocessTest, KilledBySignal) {
  Subprocess::initialize();
  Subprocess subproc({"sleep", "30"});
  concurrent::Future<int> code;
  subproc.set_exit_callback([code](int ret) { code.set_result(ret); });
  CO_ASSERT_EQ(::kill(subproc.pid(), SIGTERM), 0);
  int ret = co_await code;
  CO_ASSERT_EQ(ret, -SIGTERM);
  CO_ASSERT_EQ(subproc.returncode(), std::optional<int>(-SIGTERM));
  Subprocess killed({"sleep", "30"});
  CO_ASSERT_EQ(::kill(killed.pid(), SIGKILL), 0);
  try {
    co_await killed.wait_for_exit();
    CO_FAIL() << "no CalledProcessError";
  } catch (const CalledProcessError& e) {
    EXPECT_EQ(e.returncode(), -SIGKILL);
    EXPECT_STREQ(e.what(), "Command 'sleep 30' died with signal 9.");
  }
}

// Tornado's test_sigchild: set_exit_callback, also after the child already exited.
TEST_F(SubprocessTest, SetExitCallback) {
  Subprocess::initialize();
  Subprocess subproc({"true"});
  subproc.set_exit_callback([this](int ret) { stop(ret); });
  int ret = wait_for<int>();
  EXPECT_EQ(ret, 0);
  EXPECT_EQ(subproc.returncode(), std::optional<int>(0));
  // A second callback after the exit is known still runs, with the same code.
  subproc.set_exit_callback([this](int ret) { stop(ret + 100); });
  EXPECT_EQ(wait_for<int>(), 100);
}

// The exit callback runs although the Subprocess object is gone.
TEST_F(SubprocessTest, CallbackOutlivesObject) {
  pid_t pid;
  {
    Subprocess subproc({"sh", "-c", "exit 7"});
    pid = subproc.pid();
    subproc.set_exit_callback([this](int ret) { stop(ret); });
  }
  EXPECT_EQ(wait_for<int>(), 7);
  EXPECT_TRUE(is_reaped(pid));  // no zombie
}

// A Subprocess destroyed without an exit callback is still reaped (kept by the reaper as
// Popen keeps unreaped children in _active). Its exit is observed through a pipe it
// holds; then each SIGCHLD pass (driven by short-lived marker children we await) must
// have collected it once it is a zombie.
ASYNC_TEST_F(SubprocessTest, DestroyedWithoutCallbackIsReaped) {
  Subprocess::initialize();
  int p[2];
  CO_ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  pid_t pid;
  {
    Subprocess subproc({"true"}, io(kInherit, p[1]));
    pid = subproc.pid();
  }
  ::close(p[1]);
  iostream::PipeIOStream reader(p[0]);
  co_await reader.read_until_close();  // the child has exited (or is exiting)
  bool reaped = false;
  for (int i = 0; i < 100 && !reaped; ++i) {
    Subprocess marker({"true"});
    co_await marker.wait_for_exit();
    reaped = is_reaped(pid);
  }
  CO_ASSERT_TRUE(reaped);
}

// Many children at once: SIGCHLDs coalesce, every child is reaped with its own code.
ASYNC_TEST_F(SubprocessTest, ManyChildrenReaped) {
  Subprocess::initialize();
  constexpr int kN = 50;
  std::vector<std::unique_ptr<Subprocess>> procs;
  std::vector<concurrent::Future<int>> futures;
  for (int i = 0; i < kN; ++i) {
    procs.push_back(std::make_unique<Subprocess>(
        std::vector<std::string>{i % 2 == 0 ? "true" : "false"}));
    futures.push_back(procs.back()->wait_for_exit(/*raise_error=*/false));
  }
  for (int i = 0; i < kN; ++i) {
    int ret = co_await futures[i];
    CO_ASSERT_EQ(ret, i % 2 == 0 ? 0 : 1) << "child " << i;
    CO_ASSERT_EQ(procs[i]->returncode(), std::optional<int>(ret));
  }
  for (auto& p : procs) {
    EXPECT_TRUE(is_reaped(p->pid())) << "zombie " << p->pid();
  }
}

TEST_F(SubprocessTest, MissingProgramThrowsAndLeaksNothing) {
  try {
    Subprocess subproc({"/nonexistent/program"},
                       io(Subprocess::STREAM, Subprocess::STREAM, Subprocess::STREAM));
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
  }
  EXPECT_THROW(Subprocess({}), std::invalid_argument);
  EXPECT_THROW(Subprocess({"true"}, io(Subprocess::STDOUT)), std::invalid_argument);
  // The fd leak check in TearDown verifies the pipes were closed.
}

TEST_F(SubprocessTest, InitializeIsIdempotentAndUninitializeRestores) {
  struct sigaction before;
  ::sigaction(SIGCHLD, nullptr, &before);
  Subprocess::initialize();
  Subprocess::initialize();
  struct sigaction during;
  ::sigaction(SIGCHLD, nullptr, &during);
  EXPECT_NE(during.sa_handler, before.sa_handler);
  Subprocess::uninitialize();
  Subprocess::uninitialize();
  struct sigaction after;
  ::sigaction(SIGCHLD, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

}  // namespace
}  // namespace tornado::process
