// Tornado's tornado.process in C++20: cpu_count, fork_processes / task_id (a pre-fork
// multi-process supervisor) and Subprocess (a child process with PipeIOStreams for its
// stdio and exit notification through the IOLoop, SIGCHLD read from a self-pipe).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "concurrent/future.h"
#include "iostream/iostream.h"

namespace tornado::ioloop {
class IOLoop;
}

namespace tornado::process {

using concurrent::Future;

// The number of processors (sysconf(_SC_NPROCESSORS_ONLN), else _SC_NPROCESSORS_CONF,
// as Python's multiprocessing.cpu_count); logs "Could not detect number of processors; assuming
// 1" to gen_log (ERROR) and returns 1 when neither works.
int cpu_count();

// Starts `num_processes` forked children (cpu_count() when nullopt or <= 0) and
// supervises them (Tornado's fork_processes). In each child it returns that child's task
// id (0 .. num_processes-1, also task_id() from then on). The parent never returns
// normally: it waits for its children, restarts one that died by a signal or exited with
// a non-zero status (logging to gen_log at WARNING) under the same task id, and calls
// std::exit(0) once every child has exited with status 0. More than `max_restarts`
// restarts (default 100) throw std::runtime_error("Too many child restarts, giving up")
// in the parent. Throws std::logic_error before forking when the calling thread already
// has an IOLoop (a loop's epoll fd must not be shared across processes; Tornado's rule:
// fork before creating the IOLoop), std::system_error when fork fails.
int fork_processes(std::optional<int> num_processes,
                   std::optional<int> max_restarts = std::nullopt);

// The task id of this process from fork_processes, or nullopt in the parent and when
// fork_processes was never called.
std::optional<int> task_id();

// Raised by Subprocess::wait_for_exit for a non-zero return code (Python's
// subprocess.CalledProcessError). returncode() < 0 means killed by signal -returncode().
class CalledProcessError : public std::runtime_error {
 public:
  CalledProcessError(int returncode, std::string cmd);
  int returncode() const { return returncode_; }
  const std::string& cmd() const { return cmd_; }

 private:
  int returncode_;
  std::string cmd_;
};

// A child process started with posix_spawnp (Tornado's Subprocess over subprocess.Popen).
// Its stdin / stdout / stderr can be PipeIOStreams (Subprocess::STREAM). Exit is noticed
// through SIGCHLD on the loop Subprocess::initialize() ran on; the exit callback and
// wait_for_exit's future complete on the loop that was current when the Subprocess was
// created (which must outlive the Subprocess's exit notification only in that a closed
// loop drops the notification).
//
// The object may be destroyed before the child exits: a pending exit callback still
// runs, and the child is reaped (no zombie) as long as Subprocess is initialized.
class Subprocess {
 public:
  // Redirection of one standard stream, as subprocess.Popen's stdin=/stdout=/stderr=.
  // Any value >= 0 is an fd of the caller's, dup2'ed onto the child's stream (the caller
  // keeps it).
  static constexpr int INHERIT = -1;  // Popen's None: the parent's own stream.
  static constexpr int STREAM = -2;   // a pipe, the parent's end as a PipeIOStream.
  static constexpr int DEVNULL = -3;  // /dev/null.
  static constexpr int STDOUT = -4;   // stderr only: the same as the child's stdout.

  struct Options {
    int std_in = INHERIT;
    int std_out = INHERIT;
    int std_err = INHERIT;
    // Working directory of the child (nullopt: the parent's).
    std::optional<std::string> cwd;
    // Environment of the child as "NAME=value" (nullopt: the parent's).
    std::optional<std::vector<std::string>> env;
  };

  // Starts `args` (args[0] looked up in PATH). Throws std::invalid_argument for empty
  // args or a bad redirection, std::system_error when the program cannot be started
  // (e.g. ENOENT); no fd is leaked either way. Uses IOLoop::current().
  explicit Subprocess(std::vector<std::string> args, Options options);
  explicit Subprocess(std::vector<std::string> args) : Subprocess(std::move(args), Options()) {}
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // The parent's ends for STREAM redirections, else nullptr (Tornado's subproc.stdin,
  // .stdout, .stderr; named so because stdin/stdout/stderr may be macros).
  iostream::PipeIOStream* stdin_stream() const { return stdin_.get(); }
  iostream::PipeIOStream* stdout_stream() const { return stdout_.get(); }
  iostream::PipeIOStream* stderr_stream() const { return stderr_.get(); }

  // Runs `callback(returncode)` on this Subprocess's loop once the child has exited
  // (immediately scheduled if it already has). Replaces an earlier callback. Calls
  // initialize() on the current loop if not yet initialized. Must be called on this
  // Subprocess's loop thread.
  void set_exit_callback(absl::AnyInvocable<void(int)> callback);

  // Completes with the return code once the child exits. With raise_error (the
  // default), a non-zero code fails it with CalledProcessError instead. Uses
  // set_exit_callback (so replaces any exit callback).
  Future<int> wait_for_exit(bool raise_error = true);

  // The exit status once known, as Popen.returncode: the exit code, or -signal when a
  // signal killed the child; nullopt until the exit callback machinery has run.
  std::optional<int> returncode() const;

  // Installs the SIGCHLD handler (a self-pipe registered with the current IOLoop's
  // add_handler). Idempotent. All Subprocesses, whatever their loop, are reaped from
  // there. Call uninitialize() before closing that loop.
  static void initialize();
  // Removes the handler registered by initialize() (restoring the previous SIGCHLD
  // disposition) and closes the self-pipe. Call on the loop thread initialize() ran on.
  // A no-op if not initialized.
  static void uninitialize();

  struct State;

 private:
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  std::shared_ptr<State> state_;
  std::unique_ptr<iostream::PipeIOStream> stdin_, stdout_, stderr_;
};

}  // namespace tornado::process
