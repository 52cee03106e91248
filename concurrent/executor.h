// Executors (Python's concurrent.futures executors as Tornado uses them):
// ThreadPoolExecutor, DummyExecutor, and run_on_executor.
//
// submit() returns a Future<R> owned by the submitting thread's loop: the function runs
// elsewhere and its outcome is handed back to that loop with call_soon_threadsafe, so the
// Future is only ever touched on its own thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "concurrent/future.h"

namespace tornado::concurrent {

namespace internal {

// The outcome of running a function: its value or the exception it threw.
template <typename R>
struct Outcome {
  std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value;
  std::exception_ptr error;

  template <typename F>
  static Outcome run(F& fn) noexcept {
    Outcome out;
    try {
      if constexpr (std::is_void_v<R>) {
        std::invoke(fn);
        out.value.emplace(true);
      } else {
        out.value.emplace(std::invoke(fn));
      }
    } catch (...) {
      out.error = std::current_exception();
    }
    return out;
  }

  // Completes `f` with this outcome unless `f` was cancelled meanwhile.
  void deliver(const Future<R>& f) && {
    if (error) {
      future_set_exception_unless_cancelled(f, std::move(error));
    } else if constexpr (std::is_void_v<R>) {
      future_set_result_unless_cancelled(f);
    } else {
      future_set_result_unless_cancelled(f, std::move(*value));
    }
  }
};

template <typename P>
decltype(auto) deref(P& p) {
  if constexpr (requires { *p; }) {
    return *p;
  } else {
    return (p);
  }
}

}  // namespace internal

// Base class of executors: runs functions somewhere and reports through Futures.
class Executor {
 public:
  virtual ~Executor() = default;

  // Runs fn() on the executor and returns a Future<R> for its result (or exception),
  // completed on the calling thread's loop (its current Scheduler), so the calling thread
  // must have one (an IOLoop that is current there) unless the executor runs inline.
  // Throws std::runtime_error after shutdown(), std::logic_error with no current
  // Scheduler. `fn` is moved to the executor and destroyed there; whatever it refers to
  // must outlive the call. If the loop is closed before the result arrives the result is
  // dropped.
  template <typename F>
  Future<std::invoke_result_t<F&>> submit(F fn) {
    using R = std::invoke_result_t<F&>;
    Future<R> future;
    if (runs_inline()) {
      internal::Outcome<R>::run(fn).deliver(future);
      return future;
    }
    Scheduler* scheduler = Scheduler::current();
    if (scheduler == nullptr) {
      throw std::logic_error(
          "Executor::submit needs a current IOLoop (Scheduler) on the calling thread");
    }
    execute([fn = std::move(fn), future, remote = scheduler->remote()]() mutable {
      auto outcome = internal::Outcome<R>::run(fn);
      remote->call_soon_threadsafe([outcome = std::move(outcome), future = std::move(future)]() mutable {
        std::move(outcome).deliver(future);
      });
    });
    return future;
  }

  // Stops accepting work. Work already submitted still runs. With wait, blocks until it
  // has finished and the worker threads have exited (never call it with wait from one of
  // the executor's own threads).
  virtual void shutdown(bool wait = true) = 0;

 protected:
  // Runs `task` on some other thread. Throws std::runtime_error after shutdown.
  virtual void execute(absl::AnyInvocable<void() &&> task) = 0;
  // True if the executor runs functions synchronously in submit (DummyExecutor).
  virtual bool runs_inline() const { return false; }
};

// A pool of up to max_workers threads, started on demand (Python's ThreadPoolExecutor).
// submit() and shutdown() are thread-safe. The destructor shuts down and joins.
class ThreadPoolExecutor final : public Executor {
 public:
  // max_workers <= 0 picks min(32, hardware threads + 4), as Python does.
  explicit ThreadPoolExecutor(int max_workers = 0);
  ~ThreadPoolExecutor() override;
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  void shutdown(bool wait = true) override;
  int max_workers() const { return max_workers_; }
  // Threads started so far (never more than max_workers()).
  int num_threads() const;

 private:
  void execute(absl::AnyInvocable<void() &&> task) override;
  void worker_loop();

  // std::mutex rather than absl::Mutex: the system abseil is not built with ThreadSanitizer
  // annotations, so tsan cannot see absl::Mutex's ordering; pthread-based locks it can.
  const int max_workers_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void() &&>> queue_;  // guarded by mu_
  bool shutdown_ = false;                            // guarded by mu_
  int idle_ = 0;                                     // guarded by mu_
  std::vector<std::thread> threads_;                 // guarded by mu_
  std::mutex join_mu_;  // serialises joining between concurrent shutdown(true) calls
};

// Runs functions synchronously inside submit() (Tornado's DummyExecutor); the returned
// Future is already done. Needs no Scheduler.
class DummyExecutor final : public Executor {
 public:
  void shutdown(bool wait = true) override {}

 private:
  void execute(absl::AnyInvocable<void() &&> task) override { std::move(task)(); }
  bool runs_inline() const override { return true; }
};

// The process-wide DummyExecutor (Tornado's dummy_executor).
DummyExecutor& dummy_executor();

// Runs (self->*method)(args...) on `executor` and returns its Future (the explicit form
// of Tornado's @run_on_executor(executor=...)). `self` and `executor` must outlive the
// call; the arguments are copied.
template <typename Obj, typename Method, typename... Args>
auto run_on_executor_with(Executor& executor, Obj* self, Method method, Args... args) {
  return executor.submit([self, method, ... args = std::move(args)]() mutable {
    return std::invoke(method, self, std::move(args)...);
  });
}

// Tornado's @run_on_executor: runs (self->*method)(args...) on `self->executor_` (an
// Executor, or a raw/smart pointer to one) and returns a Future for the result.
//   Future<int> Worker::compute(int x) { return run_on_executor(this, &Worker::compute_sync, x); }
template <typename Obj, typename Method, typename... Args>
auto run_on_executor(Obj* self, Method method, Args... args) {
  return run_on_executor_with(internal::deref(self->executor_), self, method, std::move(args)...);
}

// As above with another executor member (Tornado's run_on_executor(executor="name")):
//   run_on_executor<&Worker::io_pool_>(this, &Worker::read_sync)
template <auto ExecutorMember, typename Obj, typename Method, typename... Args>
  requires std::is_member_object_pointer_v<decltype(ExecutorMember)>
auto run_on_executor(Obj* self, Method method, Args... args) {
  return run_on_executor_with(internal::deref(self->*ExecutorMember), self, method,
                              std::move(args)...);
}

}  // namespace tornado::concurrent
