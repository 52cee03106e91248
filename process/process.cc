// fork_processes / task_id / cpu_count and Subprocess (posix_spawnp + SIGCHLD self-pipe).
#include "process/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>

#include "ioloop/ioloop.h"
#include "log/log.h"

extern char** environ;

namespace tornado::process {

namespace {

std::optional<int> g_task_id;

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

}  // namespace

int cpu_count() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (n <= 0) n = ::sysconf(_SC_NPROCESSORS_CONF);
  if (n > 0) return static_cast<int>(n);
  TORNADO_LOG_ERROR(log::gen_log(), "Could not detect number of processors; assuming 1");
  return 1;
}

std::optional<int> task_id() { return g_task_id; }

int fork_processes(std::optional<int> num_processes, std::optional<int> max_restarts) {
  if (g_task_id.has_value()) {
    throw std::logic_error("fork_processes: already called in this process (task id " +
                           std::to_string(*g_task_id) + ")");
  }
  if (ioloop::IOLoop::current(/*instance=*/false) != nullptr) {
    throw std::logic_error(
        "fork_processes: an IOLoop already exists on this thread; call fork_processes "
        "before creating any IOLoop");
  }
  const int restarts_allowed = max_restarts.value_or(100);
  const int n = (!num_processes || *num_processes <= 0) ? cpu_count() : *num_processes;
  TORNADO_LOG_INFO(log::gen_log(), "Starting {} processes", n);

  std::map<pid_t, int> children;
  // Forks a child for task `id`: returns true in the child.
  auto start_child = [&children](int id) {
    pid_t pid = ::fork();
    if (pid < 0) throw_errno(errno, "fork");
    if (pid == 0) {
      g_task_id = id;
      return true;
    }
    children.emplace(pid, id);
    return false;
  };

  for (int i = 0; i < n; ++i) {
    if (start_child(i)) return i;
  }
  int num_restarts = 0;
  while (!children.empty()) {
    int status = 0;
    pid_t pid = ::wait(&status);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "wait");
    }
    auto it = children.find(pid);
    if (it == children.end()) continue;
    const int id = it->second;
    children.erase(it);
    if (WIFSIGNALED(status)) {
      TORNADO_LOG_WARNING(log::gen_log(), "child {} (pid {}) killed by signal {}, restarting", id, pid,
                          WTERMSIG(status));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      TORNADO_LOG_WARNING(log::gen_log(), "child {} (pid {}) exited with status {}, restarting", id, pid,
                          WEXITSTATUS(status));
    } else {
      TORNADO_LOG_INFO(log::gen_log(), "child {} (pid {}) exited normally", id, pid);
      continue;
    }
    ++num_restarts;
    if (num_restarts > restarts_allowed) {
      throw std::runtime_error("Too many child restarts, giving up");
    }
    if (start_child(id)) return id;
  }
  // All children exited cleanly (Tornado: sys.exit(0)).
  std::exit(0);
}

// ---------------------------------------------------------------------------------------
// CalledProcessError

namespace {
std::string called_process_message(int returncode, const std::string& cmd) {
  if (returncode < 0) {
    return "Command '" + cmd + "' died with signal " + std::to_string(-returncode) + ".";
  }
  return "Command '" + cmd + "' returned non-zero exit status " +
         std::to_string(returncode) + ".";
}
}  // namespace

CalledProcessError::CalledProcessError(int returncode, std::string cmd)
    : std::runtime_error(called_process_message(returncode, cmd)),
      returncode_(returncode),
      cmd_(std::move(cmd)) {}

// ---------------------------------------------------------------------------------------
// Subprocess

struct Subprocess::State {
  pid_t pid = -1;
  std::string cmd;
  // The owner loop (where the exit callback runs); survives the loop.
  std::shared_ptr<concurrent::RemoteScheduler> remote;
  // Owner loop thread only.
  absl::AnyInvocable<void(int)> exit_callback;
  std::optional<int> returncode;
  // Guarded by g_mu: waitpid has collected the child.
  bool reaped = false;

  void set_returncode(int status) {
    if (WIFSIGNALED(status)) {
      returncode = -WTERMSIG(status);
    } else {
      returncode = WEXITSTATUS(status);
    }
    if (exit_callback) {
      auto cb = std::move(exit_callback);
      exit_callback = nullptr;
      cb(*returncode);
    }
  }
};

namespace {

// Cross-thread: Subprocesses on any loop register here; the SIGCHLD loop reaps.
std::mutex g_mu;
std::map<pid_t, std::shared_ptr<Subprocess::State>>& waiting() {
  static auto* m = new std::map<pid_t, std::shared_ptr<Subprocess::State>>();
  return *m;
}
// initialize()/uninitialize() state, guarded by g_mu (the handler reads only the fd).
std::atomic<int> g_wakeup_fd{-1};
int g_read_fd = -1;
ioloop::IOLoop* g_loop = nullptr;
struct sigaction g_old_action;

extern "C" void on_sigchld(int) {
  const int saved = errno;
  const int fd = g_wakeup_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    char c = 0;
    [[maybe_unused]] ssize_t r = ::write(fd, &c, 1);  // full pipe: a wakeup is pending
  }
  errno = saved;
}

void schedule(std::shared_ptr<Subprocess::State> state, int status) {
  auto remote = state->remote;
  remote->call_soon_threadsafe(
      [state = std::move(state), status] { state->set_returncode(status); });
}

// Tornado's _try_cleanup_process: reaps `pid` if it exited (and is ours).
void try_cleanup_process(pid_t pid) {
  std::shared_ptr<Subprocess::State> state;
  int status = 0;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = waiting().find(pid);
    if (it == waiting().end()) return;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r <= 0) return;  // still running, or not our child any more (ECHILD)
    state = std::move(it->second);
    waiting().erase(it);
    state->reaped = true;
  }
  schedule(std::move(state), status);
}

// Tornado's _cleanup: tries every waiting pid (SIGCHLDs coalesce).
void cleanup() {
  std::vector<std::pair<std::shared_ptr<Subprocess::State>, int>> done;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    for (auto it = waiting().begin(); it != waiting().end();) {
      int status = 0;
      pid_t r = ::waitpid(it->first, &status, WNOHANG);
      if (r > 0) {
        it->second->reaped = true;
        done.emplace_back(std::move(it->second), status);
        it = waiting().erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [state, status] : done) schedule(std::move(state), status);
}

class FdCloser {
 public:
  ~FdCloser() {
    for (int fd : fds_) ::close(fd);
  }
  int add(int fd) {
    fds_.push_back(fd);
    return fd;
  }
  // Removes `fd` from the set (the caller took ownership).
  int release(int fd) {
    std::erase(fds_, fd);
    return fd;
  }

 private:
  std::vector<int> fds_;
};

class SpawnActions {
 public:
  SpawnActions() { ::posix_spawn_file_actions_init(&fa); }
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&fa); }
  posix_spawn_file_actions_t fa;
};

class SpawnAttr {
 public:
  SpawnAttr() { ::posix_spawnattr_init(&attr); }
  ~SpawnAttr() { ::posix_spawnattr_destroy(&attr); }
  posix_spawnattr_t attr;
};

void check_spawn(int err, const char* what) {
  if (err != 0) throw_errno(err, what);
}

}  // namespace

Subprocess::Subprocess(std::vector<std::string> args, Options options)
    : args_(std::move(args)) {
  if (args_.empty()) throw std::invalid_argument("Subprocess: empty args");
  auto check_redirect = [](int v, bool allow_stdout, const char* name) {
    if (v >= 0 || v == INHERIT || v == STREAM || v == DEVNULL) return;
    if (v == STDOUT && allow_stdout) return;
    throw std::invalid_argument(std::string("Subprocess: bad redirection for ") + name);
  };
  check_redirect(options.std_in, false, "stdin");
  check_redirect(options.std_out, false, "stdout");
  check_redirect(options.std_err, true, "stderr");

  ioloop::IOLoop* loop = ioloop::IOLoop::current();
  FdCloser child_side;   // closed after the spawn, success or not
  FdCloser parent_side;  // closed only on failure
  int parent_fd[3] = {-1, -1, -1};
  SpawnActions actions;
  const int redirect[3] = {options.std_in, options.std_out, options.std_err};
  for (int target = 0; target < 3; ++target) {
    const int r = redirect[target];
    int child_fd = -1;
    if (r == STREAM) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
      // stdin: the child reads p[0]; stdout/stderr: the child writes p[1].
      const bool child_reads = target == 0;
      child_fd = child_side.add(child_reads ? p[0] : p[1]);
      parent_fd[target] = parent_side.add(child_reads ? p[1] : p[0]);
    } else if (r == DEVNULL) {
      int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (fd < 0) throw_errno(errno, "open /dev/null");
      child_fd = child_side.add(fd);
    } else if (r == STDOUT) {
      child_fd = 1;
    } else if (r >= 0) {
      child_fd = r;
    }
    if (child_fd >= 0) {
      check_spawn(::posix_spawn_file_actions_adddup2(&actions.fa, child_fd, target),
                  "posix_spawn_file_actions_adddup2");
    }
  }
  if (options.cwd) {
    check_spawn(::posix_spawn_file_actions_addchdir_np(&actions.fa, options.cwd->c_str()),
                "posix_spawn_file_actions_addchdir_np");
  }
  // Popen's close_fds=True: nothing but 0, 1, 2 reaches the child.
  check_spawn(::posix_spawn_file_actions_addclosefrom_np(&actions.fa, 3),
              "posix_spawn_file_actions_addclosefrom_np");

  SpawnAttr attr;
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  // Popen's restore_signals, plus SIGCHLD: a clean signal state in the child.
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXFSZ);
  sigaddset(&defaults, SIGCHLD);
  check_spawn(::posix_spawnattr_setsigmask(&attr.attr, &empty), "posix_spawnattr_setsigmask");
  check_spawn(::posix_spawnattr_setsigdefault(&attr.attr, &defaults),
              "posix_spawnattr_setsigdefault");
  check_spawn(::posix_spawnattr_setflags(&attr.attr, POSIX_SPAWN_SETSIGMASK |
                                                         POSIX_SPAWN_SETSIGDEF),
              "posix_spawnattr_setflags");

  std::vector<char*> argv;
  for (auto& a : args_) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  std::vector<char*> envp;
  char** env = environ;
  if (options.env) {
    env_storage = *options.env;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    env = envp.data();
  }
  int err = ::posix_spawnp(&pid_, argv[0], &actions.fa, &attr.attr, argv.data(), env);
  if (err != 0) throw_errno(err, "Subprocess: cannot start '" + args_[0] + "'");

  if (parent_fd[0] >= 0) stdin_ = std::make_unique<iostream::PipeIOStream>(parent_side.release(parent_fd[0]));
  if (parent_fd[1] >= 0) stdout_ = std::make_unique<iostream::PipeIOStream>(parent_side.release(parent_fd[1]));
  if (parent_fd[2] >= 0) stderr_ = std::make_unique<iostream::PipeIOStream>(parent_side.release(parent_fd[2]));

  state_ = std::make_shared<State>();
  state_->pid = pid_;
  for (const auto& a : args_) {
    if (!state_->cmd.empty()) state_->cmd += ' ';
    state_->cmd += a;
  }
  state_->remote = loop->remote();
}

Subprocess::~Subprocess() {
  // Keep the child known to the reaper so it never stays a zombie (Popen's _active).
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (state_->reaped) return;
    waiting().emplace(pid_, state_);
  }
  try_cleanup_process(pid_);
}

void Subprocess::set_exit_callback(absl::AnyInvocable<void(int)> callback) {
  state_->exit_callback = std::move(callback);
  initialize();
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (state_->reaped) {
      // Already collected (a callback scheduled earlier ran or is about to run); report
      // the known code without waiting again.
      if (state_->returncode) {
        auto state = state_;
        state_->remote->call_soon_threadsafe([state] {
          if (state->exit_callback && state->returncode) {
            auto cb = std::move(state->exit_callback);
            state->exit_callback = nullptr;
            cb(*state->returncode);
          }
        });
      }
      return;
    }
    waiting()[pid_] = state_;
  }
  try_cleanup_process(pid_);
}

Future<int> Subprocess::wait_for_exit(bool raise_error) {
  Future<int> future;
  std::string cmd = state_->cmd;
  set_exit_callback([future, raise_error, cmd = std::move(cmd)](int ret) {
    if (future.done()) return;  // cancelled
    if (ret != 0 && raise_error) {
      future.set_exception(std::make_exception_ptr(CalledProcessError(ret, cmd)));
    } else {
      future.set_result(ret);
    }
  });
  return future;
}

std::optional<int> Subprocess::returncode() const { return state_->returncode; }

void Subprocess::initialize() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_loop != nullptr) return;
  ioloop::IOLoop* loop = ioloop::IOLoop::current();
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno(errno, "pipe2");
  const int read_fd = p[0];
  try {
    loop->add_handler(
        read_fd,
        [read_fd](int, std::uint32_t) {
          char buf[256];
          while (::read(read_fd, buf, sizeof buf) > 0) {
          }
          cleanup();
        },
        ioloop::IOLoop::READ);
  } catch (...) {
    ::close(p[0]);
    ::close(p[1]);
    throw;
  }
  g_wakeup_fd.store(p[1], std::memory_order_relaxed);
  struct sigaction sa = {};
  sa.sa_handler = on_sigchld;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  if (::sigaction(SIGCHLD, &sa, &g_old_action) != 0) {
    const int err = errno;
    g_wakeup_fd.store(-1);
    loop->remove_handler(read_fd);
    ::close(p[0]);
    ::close(p[1]);
    throw_errno(err, "sigaction(SIGCHLD)");
  }
  g_read_fd = read_fd;
  g_loop = loop;
  // Children that exited before the handler was installed.
  [[maybe_unused]] ssize_t r = ::write(p[1], "", 1);
}

void Subprocess::uninitialize() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_loop == nullptr) return;
  ::sigaction(SIGCHLD, &g_old_action, nullptr);
  const int write_fd = g_wakeup_fd.exchange(-1);
  g_loop->remove_handler(g_read_fd);
  ::close(g_read_fd);
  ::close(write_fd);
  g_read_fd = -1;
  g_loop = nullptr;
}

}  // namespace tornado::process
