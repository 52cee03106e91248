// tornado::ioloop, Tornado's tornado.ioloop: IOLoop (level-triggered epoll, eventfd
// waker, callbacks, a timer heap, run_sync, executors) and PeriodicCallback.
//
// One IOLoop per thread. Only add_callback (and stop) may be called from other threads;
// everything else belongs to the thread running (or, when stopped, using) the loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "concurrent/executor.h"
#include "concurrent/future.h"
#include "util/util.h"

namespace tornado::ioloop {

using concurrent::Future;

// Raised by run_sync when its timeout expires: util::TimeoutError (Tornado re-exports
// tornado.util.TimeoutError as tornado.ioloop.TimeoutError).
using TimeoutError = util::TimeoutError;

// Identifies a timer for remove_timeout (Tornado's opaque timeout handle). Default-
// constructed handles refer to nothing; removing a fired or removed timer is a no-op.
class TimeoutHandle {
 public:
  TimeoutHandle() = default;
  bool valid() const { return index_ != kNone; }

 private:
  friend class IOLoop;
  static constexpr std::uint32_t kNone = 0xffffffffu;
  TimeoutHandle(std::uint32_t index, std::uint32_t generation)
      : index_(index), generation_(generation) {}
  std::uint32_t index_ = kNone;
  std::uint32_t generation_ = 0;
};

namespace internal {
class Waker;
template <typename R>
struct UnwrapFuture {
  using type = R;
};
template <typename T>
struct UnwrapFuture<Future<T>> {
  using type = T;
};
}  // namespace internal

// The event loop (Tornado's IOLoop): epoll, level-triggered, plus callbacks and timers.
//
// Each iteration: poll for I/O (without blocking if callbacks are pending or a stop is
// requested; otherwise until the next timer), run the ready fd handlers, then the
// callbacks that were queued when the iteration began (callbacks added meanwhile wait for
// the next iteration), then the timers that were due, in deadline order (ties in the
// order they were added). Exceptions from any of these go to handle_callback_exception
// and the loop keeps running.
//
// While running (or after make_current / current()), the loop is its thread's
// concurrent::Scheduler, so Future callbacks and coroutine resumptions run on it.
class IOLoop : public concurrent::Scheduler {
 public:
  // Event bits for handlers (Tornado's IOLoop.READ / WRITE / ERROR); epoll's values.
  static constexpr std::uint32_t NONE = 0;
  static constexpr std::uint32_t READ = 0x001;   // EPOLLIN
  static constexpr std::uint32_t WRITE = 0x004;  // EPOLLOUT
  static constexpr std::uint32_t ERROR = 0x018;  // EPOLLERR | EPOLLHUP
  // Not in Tornado: add to READ / WRITE for edge-triggered readiness (EPOLLET). The
  // handler hears of each change once (new bytes, freed send space), not while the fd
  // stays ready; it must itself remember what it left unread or unwritten.
  static constexpr std::uint32_t EDGE = 0x80000000u;  // EPOLLET
  // Not in Tornado: the peer shut down its sending side (a socket's FIN). Reported with
  // READ when asked for; edge-triggered readers need it, since a short read can leave the
  // end of the stream unread with no further report to come.
  static constexpr std::uint32_t RDHUP = 0x2000;  // EPOLLRDHUP

  using Callback = concurrent::Callback;
  // Called with the fd and the events that are ready.
  using Handler = absl::AnyInvocable<void(int fd, std::uint32_t events)>;

  struct Options {
    // Make the new loop its thread's current loop (Tornado's make_current=True); throws
    // std::runtime_error if the thread already has one.
    bool make_current = false;
    // The loop's clock in seconds (default: monotonic). Tests use it to control time.
    std::function<double()> time_func = nullptr;
  };

  IOLoop();
  explicit IOLoop(Options options);
  // Closes the loop if it is not closed. Must not run while the loop is running.
  ~IOLoop() override;
  IOLoop(const IOLoop&) = delete;
  IOLoop& operator=(const IOLoop&) = delete;

  // The calling thread's current loop. With `instance` (the default), creates one on
  // demand, owned by the thread and destroyed at thread exit (Tornado's
  // IOLoop.current()); else returns nullptr when there is none.
  static IOLoop* current(bool instance = true);
  // Makes this loop the calling thread's current loop (and its Scheduler). The loop must
  // outlive that, or be replaced / cleared first (its destructor clears it).
  void make_current();
  // Clears the calling thread's current loop.
  static void clear_current();

  // Runs the loop until stop(). Makes the loop current while it runs and restores the
  // previous current loop when it returns. Throws std::runtime_error if the loop is
  // already running, closed, or another loop is running on this thread.
  void start();
  // Asks the loop to return from start() after the current iteration (if not running, the
  // next start() runs one iteration and returns). Thread-safe.
  void stop();
  // True between start() and its return.
  bool is_running() const { return running_; }

  // Releases the loop's resources: epoll and waker fds, handlers (and with all_fds, the
  // fds registered with add_handler), pending callbacks and timers (destroyed, not run),
  // and the default executor (shut down, waiting for its threads). Throws
  // std::runtime_error if running. Later add_callback calls are silently dropped.
  void close(bool all_fds = false);
  bool closed() const { return closed_; }

  // Runs fn() on the loop and returns its result (Tornado's run_sync). fn may return a
  // Future<T> (e.g. it is a coroutine) or a plain value. Starts the loop, stops it when
  // the result is ready, rethrows the exception fn threw or its Future carries. With a
  // timeout (seconds), throws TimeoutError when it expires first, after cancelling fn's
  // Future (a coroutine keeps running until it finishes, see concurrent/README.md). If
  // the loop is stopped before the result is ready, throws std::runtime_error ("Event
  // loop stopped before Future completed."). `fn` and what it captures must outlive its
  // Future.
  template <typename F>
  auto run_sync(F fn, std::optional<double> timeout = std::nullopt);

  // Registers `handler` for `events` on `fd` (ERROR is always included). Throws
  // std::runtime_error if the fd is already registered or epoll refuses it. The loop
  // does not own the fd (close(all_fds=true) closes it).
  void add_handler(int fd, Handler handler, std::uint32_t events);
  // Changes the events `fd` listens for. Throws std::runtime_error if not registered.
  void update_handler(int fd, std::uint32_t events);
  // Stops listening on `fd`; a no-op if it is not registered. Safe from inside a handler
  // (including its own): a removed handler is never called again, even for events
  // already returned by the same poll.
  void remove_handler(int fd);
  // remove_handler for an fd the caller closes right after: an edge-triggered
  // registration is left for the close to remove (one system call less per connection,
  // as nginx does). Not in Tornado.
  void remove_handler_before_close(int fd);

  // Runs `cb` on the loop's next iteration. Thread-safe: from another thread it wakes the
  // loop. If `cb` returns a Future, an exception it carries is logged like a callback
  // exception. Dropped (destroyed) if the loop is closed.
  void add_callback(Callback cb);
  template <typename F>
    requires concurrent::is_future_v<std::invoke_result_t<F&&>>
  void add_callback(F fn);
  // add_callback for callbacks that nobody waits on (Tornado's spawn_callback). Same
  // thread-safety and exception logging as add_callback.
  template <typename F>
  void spawn_callback(F fn) {
    add_callback(std::move(fn));
  }

  // Calls callback(future) on the loop once `future` is done (Tornado's add_future).
  // An exception from the callback goes to handle_callback_exception. Loop thread only.
  template <typename T, typename F>
  void add_future(const Future<T>& future, F callback);

  // Runs `cb` at the loop time `when` (seconds, as time()); returns a handle for
  // remove_timeout. Loop thread only (Tornado's call_at).
  TimeoutHandle call_at(double when, Callback cb);
  // Runs `cb` `delay` seconds from now (Tornado's call_later).
  TimeoutHandle call_later(double delay, Callback cb) { return call_at(time() + delay, std::move(cb)); }
  // Tornado's add_timeout: an absolute deadline in loop time, or a duration from now.
  TimeoutHandle add_timeout(double deadline, Callback cb) { return call_at(deadline, std::move(cb)); }
  template <typename Rep, typename Period>
  TimeoutHandle add_timeout(std::chrono::duration<Rep, Period> delay, Callback cb) {
    return call_later(std::chrono::duration<double>(delay).count(), std::move(cb));
  }
  // Cancels a timer; a no-op if it already ran or was removed. Cancelled timers are
  // dropped from the heap lazily: when more than 512 and more than half of the heap.
  void remove_timeout(TimeoutHandle handle);

  // The loop's clock: seconds, monotonic (or Options::time_func).
  double time() const;

  // Runs fn() on `executor` (nullptr: the loop's default executor, a ThreadPoolExecutor
  // of 5 threads per CPU created on first use) and returns a Future on this loop
  // (Tornado's run_in_executor). Loop thread only. The executor must outlive the call.
  template <typename F>
  Future<std::invoke_result_t<F&>> run_in_executor(concurrent::Executor* executor, F fn);
  // Replaces the default executor used by run_in_executor(nullptr, ...).
  void set_default_executor(std::shared_ptr<concurrent::Executor> executor);

  // Called with the exception a callback, handler or timer threw; logs it to app_log as
  // "Exception in callback" (Tornado's handle_callback_exception). Override to change.
  virtual void handle_callback_exception(std::exception_ptr e);

  // concurrent::Scheduler: Future callbacks and coroutine resumptions land here.
  void call_soon(Callback cb) override { add_callback(std::move(cb)); }
  std::shared_ptr<concurrent::RemoteScheduler> remote() override;

  // Diagnostics: timer heap entries, including cancelled ones not yet compacted away.
  std::size_t timer_heap_size() const { return heap_.size(); }
  // Diagnostics: live (not cancelled, not run) timers.
  std::size_t pending_timers() const { return live_timers_; }

 private:
  struct HandlerEntry;
  struct TimerSlot {
    Callback cb;
    std::uint32_t generation = 0;
    bool active = false;
    bool in_heap = false;
  };
  struct HeapEntry {
    double deadline;
    std::uint64_t seq;
    std::uint32_t index;
    std::uint32_t generation;
  };

  void run_once();
  void forget_handler(int fd, bool fd_closing);
  void run_callback(Callback& cb) noexcept;
  bool timer_live(const HeapEntry& e) const;
  void free_timer_slot(std::uint32_t index);
  void compact_timers();
  concurrent::Executor& default_executor();
  int poll_timeout_ms() const;

  std::shared_ptr<internal::Waker> waker_;
  int epoll_fd_ = -1;
  std::function<double()> time_func_;
  bool running_ = false;
  bool closed_ = false;
  std::atomic<bool> stop_requested_{false};

  // Callbacks queued from the loop's own thread while it runs; others arrive via waker_.
  std::vector<Callback> callbacks_;
  std::vector<Callback> running_callbacks_;

  absl::flat_hash_map<int, std::shared_ptr<HandlerEntry>> handlers_;
  // The handler running now, and that handler if it removed itself (freed after it returns).
  HandlerEntry* running_handler_ = nullptr;
  std::shared_ptr<HandlerEntry> retired_handler_;
  std::uint32_t handler_generation_ = 0;

  std::vector<HeapEntry> heap_;
  std::vector<TimerSlot> timer_slots_;
  std::vector<std::uint32_t> free_timer_slots_;
  std::vector<HeapEntry> due_timers_;
  std::uint64_t timer_seq_ = 0;
  std::size_t cancellations_ = 0;
  std::size_t live_timers_ = 0;

  std::shared_ptr<concurrent::Executor> executor_;
  bool owns_executor_ = false;
};

// Calls `callback` every callback_time milliseconds on the current IOLoop (Tornado's
// PeriodicCallback). The period runs from the start of one call to the start of the
// next; if a call overruns, the missed runs are skipped (not run late in a burst). With
// jitter j, each period is scaled by a random factor in [1 - j/2, 1 + j/2]. A callback
// returning a Future is awaited before the next run is scheduled. Exceptions are logged
// to app_log and the callback keeps being scheduled. Loop thread only; the loop must
// outlive the PeriodicCallback while it runs (the destructor stops it).
class PeriodicCallback {
 public:
  // `callback` returns void or a Future (then awaited); callback_time_ms must be > 0
  // (std::invalid_argument otherwise).
  template <typename F>
    requires std::is_invocable_v<F&>
  PeriodicCallback(F callback, double callback_time_ms, double jitter = 0)
      : PeriodicCallback(wrap(std::move(callback)), callback_time_ms, jitter, Tag{}) {}
  template <typename F, typename Rep, typename Period>
  PeriodicCallback(F callback, std::chrono::duration<Rep, Period> callback_time, double jitter = 0)
      : PeriodicCallback(std::move(callback),
                         std::chrono::duration<double, std::milli>(callback_time).count(), jitter) {}
  ~PeriodicCallback();
  PeriodicCallback(const PeriodicCallback&) = delete;
  PeriodicCallback& operator=(const PeriodicCallback&) = delete;

  // Starts calling on IOLoop::current(); the first call is one period from now.
  void start();
  // Stops; a call in progress (a Future being awaited) finishes but is not rescheduled.
  void stop();
  bool is_running() const;
  // The loop time of the next scheduled call (diagnostics and tests).
  double next_timeout() const;

  // Tornado's _update_next: the next deadline after `next_timeout` given the loop time
  // `now` and the period in seconds, skipping missed periods.
  static double next_deadline(double next_timeout, double now, double period_s);

 private:
  struct Tag {};
  struct Impl;
  PeriodicCallback(absl::AnyInvocable<Future<void>()> callback, double callback_time_ms,
                   double jitter, Tag);
  template <typename F>
  static absl::AnyInvocable<Future<void>()> wrap(F f) {
    if constexpr (concurrent::is_future_v<std::invoke_result_t<F&>>) {
      return f;
    } else {
      return [f = std::move(f)]() mutable {
        f();
        Future<void> done;
        done.set_result();
        return done;
      };
    }
  }
  std::shared_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------
// Template definitions.

template <typename F>
  requires concurrent::is_future_v<std::invoke_result_t<F&&>>
void IOLoop::add_callback(F fn) {
  add_callback(Callback([this, fn = std::move(fn)]() mutable {
    auto f = std::move(fn)();
    add_future(f, [](auto done) { done.result(); });
  }));
}

template <typename T, typename F>
void IOLoop::add_future(const Future<T>& future, F callback) {
  concurrent::future_add_done_callback(
      future, [this, callback = std::move(callback)](Future<T> f) mutable {
        add_callback([callback = std::move(callback), f = std::move(f)]() mutable {
          std::move(callback)(std::move(f));
        });
      });
}

template <typename F>
Future<std::invoke_result_t<F&>> IOLoop::run_in_executor(concurrent::Executor* executor, F fn) {
  concurrent::Scheduler* previous = concurrent::Scheduler::set_current(this);
  struct Restore {
    concurrent::Scheduler* previous;
    ~Restore() { concurrent::Scheduler::set_current(previous); }
  } restore{previous};
  return (executor != nullptr ? *executor : default_executor()).submit(std::move(fn));
}

template <typename F>
auto IOLoop::run_sync(F fn, std::optional<double> timeout) {
  using R = std::invoke_result_t<F&>;
  using T = typename internal::UnwrapFuture<std::remove_cvref_t<R>>::type;

  std::optional<Future<T>> result;
  add_callback([&] {
    try {
      if constexpr (concurrent::is_future_v<R>) {
        result.emplace(fn());
      } else if constexpr (std::is_void_v<R>) {
        fn();
        result.emplace();
        result->set_result();
      } else {
        result.emplace();
        result->set_result(fn());
      }
    } catch (...) {
      result.emplace();
      result->set_exception(std::current_exception());
    }
    add_future(*result, [this](const Future<T>&) { stop(); });
  });
  TimeoutHandle timeout_handle;
  bool timed_out = false;
  if (timeout) {
    timeout_handle = call_later(*timeout, [this, &result, &timed_out] {
      timed_out = true;
      if (!result || !result->cancel()) stop();
    });
  }
  start();
  if (timeout) remove_timeout(timeout_handle);
  if (timed_out && (!result || result->cancelled() || !result->done())) {
    throw TimeoutError("Operation timed out after " + std::to_string(*timeout) + " seconds");
  }
  if (!result || !result->done()) {
    throw std::runtime_error("Event loop stopped before Future completed.");
  }
  if constexpr (std::is_void_v<T>) {
    result->result();
  } else {
    return T(std::move(result->result()));
  }
}

}  // namespace tornado::ioloop
