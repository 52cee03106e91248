// Future<T>: Tornado's (asyncio's) Future as a C++20 coroutine type and awaitable; the
// per-thread scheduling hook an IOLoop installs; Tornado's future helpers (chain_future,
// future_set_result_unless_cancelled, ...).
//
// Threading: a Future belongs to the thread of the loop it was created on. Only that
// thread may complete it, add callbacks or read it. Other threads hand work back with
// RemoteScheduler::call_soon_threadsafe (IOLoop::add_callback). See concurrent/README.md.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/functional/any_invocable.h"
#include "concurrent/frame_pool.h"

namespace tornado::concurrent {

// A one-shot callback; invoked at most once, as an rvalue.
using Callback = absl::AnyInvocable<void() &&>;

// Raised by result()/exception()/co_await on a cancelled Future (asyncio.CancelledError).
class CancelledError : public std::runtime_error {
 public:
  CancelledError() : std::runtime_error("CancelledError") {}
  using std::runtime_error::runtime_error;
};

// Raised when a Future is used in a state that forbids it: set_result() on a done
// Future, result() on a pending one (asyncio.InvalidStateError).
class InvalidStateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// The thread-safe half of a Scheduler: any thread may call it. It outlives the Scheduler
// it belongs to; once that is closed it drops callbacks (see call_soon_threadsafe).
class RemoteScheduler {
 public:
  virtual ~RemoteScheduler() = default;
  // Runs `cb` on the scheduler's thread on a later loop iteration. Thread-safe. Returns
  // false, destroying `cb` on the calling thread, when the scheduler is closed.
  virtual bool call_soon_threadsafe(Callback cb) = 0;
};

// Where a thread's Future callbacks and coroutine resumptions run. An IOLoop installs
// itself as the current Scheduler of the thread it is current on (this is how
// `concurrent` schedules onto `ioloop` without depending on it).
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Runs `cb` on a later iteration of this scheduler. Called on the scheduler's thread.
  virtual void call_soon(Callback cb) = 0;
  // The handle other threads use to reach this scheduler; never null.
  virtual std::shared_ptr<RemoteScheduler> remote() = 0;

  // The calling thread's scheduler, or nullptr when none is installed.
  static Scheduler* current() noexcept;
  // Installs `scheduler` (may be nullptr) for the calling thread; returns the previous.
  static Scheduler* set_current(Scheduler* scheduler) noexcept;
};

template <typename T = void>
class Future;

namespace internal {

// Logs `e` to app_log with `what` as the message prefix.
void log_exception(const char* what, const std::exception_ptr& e) noexcept;
// A short description of an exception: its what() or "unknown exception".
std::string describe_exception(const std::exception_ptr& e);

// Runs `cb` now; an exception it throws is logged through app_log ("Exception in
// callback"), as IOLoop does for callbacks it runs.
void run_callback_logged(Callback& cb) noexcept;

// Runs `cb` on the thread's current Scheduler, or inline (logged) when there is none.
inline void dispatch(Callback cb) {
  if (Scheduler* s = Scheduler::current()) {
    s->call_soon(std::move(cb));
  } else {
    run_callback_logged(cb);
  }
}

// Consecutive direct hand-offs from a finishing coroutine to its awaiting coroutine
// before the next one goes through the scheduler. Symmetric transfer is a tail call only
// in optimized builds (GCC -O0/-O1 nests ~64-270 bytes per hand-off), so this bounds
// the stack in every build while long chains still take one loop hop per 64 levels.
inline constexpr int kMaxInlineTransfers = 64;
inline thread_local int inline_transfers = 0;

// Owns a suspended coroutine frame: invoking resumes it (handing the frame back to the
// coroutine, which frees itself when it finishes); destroying it un-invoked destroys
// the frame, so an abandoned suspension never leaks the frame.
class CoroutineResumer {
 public:
  explicit CoroutineResumer(std::coroutine_handle<> h) noexcept : h_(h) {}
  CoroutineResumer(CoroutineResumer&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  CoroutineResumer& operator=(CoroutineResumer&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~CoroutineResumer() { reset(); }
  // Resumes from the scheduler: the stack is shallow again, so direct hand-offs
  // between coroutines (see State::wake_after_return) may start over.
  void operator()() && {
    inline_transfers = 0;
    std::exchange(h_, {}).resume();
  }
  // Hands the frame over to the caller, who must resume or destroy it.
  std::coroutine_handle<> release() && noexcept { return std::exchange(h_, {}); }

 private:
  void reset() noexcept {
    if (h_) std::exchange(h_, {}).destroy();
  }
  std::coroutine_handle<> h_;
};

enum class Status : std::uint8_t { kPending, kResult, kException, kCancelled };

template <typename T>
struct ValueSlot {
  std::optional<T> value;
};
template <>
struct ValueSlot<void> {};

// The shared state behind Future<T> handles. Single-threaded (see file comment).
template <typename T>
class State : public std::enable_shared_from_this<State<T>> {
 public:
  using DoneFn = absl::AnyInvocable<void(Future<T>) &&>;
  // Either a suspended coroutine or a done-callback (a plain struct rather than a
  // std::variant: cheaper, and GCC's -Wmaybe-uninitialized misfires on the variant).
  struct Waiter {
    CoroutineResumer coro{std::coroutine_handle<>()};
    DoneFn fn;
    // A suspended coroutine's awaiter slot, refilled with this state when it completes.
    std::shared_ptr<State>* resume_slot = nullptr;
  };

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (status_ == Status::kException && !retrieved_) {
      log_exception("Future exception was never retrieved", exception_);
    }
  }

  bool done() const noexcept { return status_ != Status::kPending; }
  Status status() const noexcept { return status_; }

  template <typename... U>
  void set_result(U&&... v) {
    store_result(std::forward<U>(v)...);
    schedule_waiters();
  }
  void set_exception(std::exception_ptr e) {
    store_exception(std::move(e));
    schedule_waiters();
  }
  // The two halves of set_result/set_exception, for a finishing coroutine: it stores
  // its outcome first and wakes its waiters from its final suspension point.
  template <typename... U>
  void store_result(U&&... v) {
    require_pending("set_result");
    if constexpr (!std::is_void_v<T>) slot_.value.emplace(std::forward<U>(v)...);
    status_ = Status::kResult;
  }
  void store_exception(std::exception_ptr e) {
    require_pending("set_exception");
    if (!e) throw std::invalid_argument("set_exception: null exception_ptr");
    exception_ = std::move(e);
    status_ = Status::kException;
  }
  // Wakes the waiters of a just-finished coroutine's future. When the only waiter is a
  // coroutine (one `co_await` of this coroutine), returns it to be resumed at once by
  // symmetric transfer, as Python runs `await coro()` inline: no loop hop per level
  // (up to kMaxInlineTransfers in a row). Otherwise schedules the waiters as set_result
  // does and returns a no-op handle.
  std::coroutine_handle<> wake_after_return() {
    if (waiters_.size() == 1 && !waiters_[0].fn && inline_transfers < kMaxInlineTransfers) {
      ++inline_transfers;
      Waiter w = std::move(waiters_[0]);
      waiters_.clear();
      *w.resume_slot = this->shared_from_this();
      return std::move(w.coro).release();
    }
    schedule_waiters();
    return std::noop_coroutine();
  }
  bool cancel() {
    if (done()) return false;
    status_ = Status::kCancelled;
    schedule_waiters();
    return true;
  }

  // Throws the stored exception (CancelledError if cancelled, InvalidStateError if
  // pending); otherwise returns normally. Marks an exception as retrieved.
  void check() {
    switch (status_) {
      case Status::kResult:
        return;
      case Status::kException:
        retrieved_ = true;
        std::rethrow_exception(exception_);
      case Status::kCancelled:
        throw CancelledError();
      case Status::kPending:
        break;
    }
    throw InvalidStateError("Result is not ready.");
  }
  std::add_lvalue_reference_t<T> result() {
    check();
    if constexpr (!std::is_void_v<T>) return *slot_.value;
  }
  std::exception_ptr exception() {
    if (status_ == Status::kCancelled) throw CancelledError();
    if (status_ == Status::kPending) throw InvalidStateError("Exception is not set.");
    retrieved_ = true;
    return exception_;
  }

  void add_waiter(Waiter w) {
    if (done()) {
      dispatch_waiter(std::move(w));
    } else {
      waiters_.push_back(std::move(w));
    }
  }

 private:
  void require_pending(const char* what) {
    if (done()) throw InvalidStateError(std::string(what) + ": Future is already done");
  }
  void schedule_waiters() {
    if (waiters_.empty()) return;
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters) dispatch_waiter(std::move(w));
  }
  void dispatch_waiter(Waiter w);

  Status status_ = Status::kPending;
  bool retrieved_ = false;
  [[no_unique_address]] ValueSlot<T> slot_;
  std::exception_ptr exception_;
  absl::InlinedVector<Waiter, 1> waiters_;
};

// A new pending state, from the per-thread pool (frame_pool.h).
template <typename T>
std::shared_ptr<State<T>> make_state() {
  return std::allocate_shared<State<T>>(PoolAllocator<State<T>>());
}

template <typename T>
struct Promise;
template <typename T>
struct PromiseBase;

// co_await on a Future: ready if done; else suspends and resumes (through the thread's
// Scheduler) once the future completes. Rethrows the future's exception.
//
// While suspended the awaiter does not own the state: the state owns the frame (through
// its waiter) and gives itself back to the awaiter when it completes. So a future that
// nobody else can complete any more (its timer gone with a closed loop, its last handle
// dropped) frees the coroutine waiting on it instead of forming a cycle, as Python's
// garbage collector would. A Future the frame itself keeps (a named local) still holds it.
template <typename T, bool kMove>
struct FutureAwaiter {
  std::shared_ptr<State<T>> state;
  bool await_ready() const noexcept { return state->done(); }
  void await_suspend(std::coroutine_handle<> h) {
    state->add_waiter(typename State<T>::Waiter{CoroutineResumer(h), nullptr, &state});
    // Released as the last statement: if it was the last owner, the frame (and this
    // awaiter with it) is destroyed here, and nothing touches either afterwards.
    std::shared_ptr<State<T>> released = std::move(state);
  }
  decltype(auto) await_resume() {
    if constexpr (std::is_void_v<T>) {
      state->check();
    } else if constexpr (kMove) {
      return T(std::move(state->result()));
    } else {
      return state->result();
    }
  }
};

// Future<T>::settled(): waits like FutureAwaiter, but resumes without looking at the
// outcome, so nothing is thrown.
template <typename T>
struct SettledAwaiter : FutureAwaiter<T, false> {
  void await_resume() const noexcept {}
};

template <typename T>
struct IsFuture : std::false_type {};
template <typename T>
struct IsFuture<Future<T>> : std::true_type {};

}  // namespace internal

// True for Future<T> types (Tornado's is_future).
template <typename T>
inline constexpr bool is_future_v = internal::IsFuture<std::remove_cvref_t<T>>::value;

// Future<T>: the one async result type (Tornado's Future, i.e. asyncio.Future).
//
// A Future is a cheap shared handle (copies refer to the same result). A function
// returning Future<T> that uses co_await / co_return is a coroutine: it starts eagerly,
// runs synchronously up to its first co_await of a pending future, and its Future holds
// what it co_returns or the exception that escaped it. The coroutine frame owns itself:
// dropping the returned Future does not stop the coroutine.
//
// Completion (set_result/set_exception/cancel) does not run callbacks or resume
// coroutines inline: they are scheduled on the thread's current Scheduler (the current
// IOLoop) like asyncio's call_soon, in the order they were added; with no Scheduler
// installed they run inline. The exception: a finishing coroutine whose only waiter is
// the coroutine awaiting it resumes that caller directly, as Python's `await coro()`. An exception that nobody retrieves (result(), exception()
// or co_await) is logged to app_log when the last handle goes away.
//
// Not thread-safe: use it on its owning loop's thread only.
template <typename T>
class [[nodiscard]] Future {
 public:
  using value_type = T;
  using promise_type = internal::Promise<T>;

  // A new pending future.
  Future() : state_(internal::make_state<T>()) {}

  // True once a result or exception is set or the future is cancelled.
  bool done() const { return state_->done(); }
  // True if cancel() succeeded.
  bool cancelled() const { return state_->status() == internal::Status::kCancelled; }

  // The result (a reference into the shared state; void for Future<void>). Throws the
  // stored exception, CancelledError if cancelled, InvalidStateError if not done.
  std::add_lvalue_reference_t<T> result() const { return state_->result(); }
  // The stored exception, or null if the future has a result. Throws CancelledError if
  // cancelled, InvalidStateError if not done.
  std::exception_ptr exception() const { return state_->exception(); }

  // Completes the future with a value. Throws InvalidStateError if already done.
  template <typename U>
    requires(!std::is_void_v<T> && std::is_constructible_v<T, U &&>)
  void set_result(U&& value) const {
    state_->set_result(std::forward<U>(value));
  }
  void set_result() const
    requires std::is_void_v<T>
  {
    state_->set_result();
  }
  // Completes the future with an exception. Throws InvalidStateError if already done.
  void set_exception(std::exception_ptr e) const { state_->set_exception(std::move(e)); }
  template <typename E>
    requires std::is_base_of_v<std::exception, std::remove_cvref_t<E>>
  void set_exception(E&& e) const {
    state_->set_exception(std::make_exception_ptr(std::forward<E>(e)));
  }

  // Cancels a pending future (its waiters see CancelledError). Returns false if it was
  // already done. A coroutine's future being cancelled does not stop the coroutine (as
  // with Tornado's @gen.coroutine); its eventual result is discarded.
  bool cancel() const { return state_->cancel(); }

  // Calls fn(Future<T>) (or fn()) once the future is done, scheduled on the thread's
  // Scheduler even if it is already done (asyncio semantics; Tornado's
  // future_add_done_callback runs it inline instead). `fn` is kept until then.
  template <typename F>
  void add_done_callback(F fn) const {
    if constexpr (std::is_invocable_v<F&&, Future<T>>) {
      state_->add_waiter(typename internal::State<T>::Waiter{
          internal::CoroutineResumer(std::coroutine_handle<>()), std::move(fn)});
    } else {
      static_assert(std::is_invocable_v<F&&>, "callback must take Future<T> or nothing");
      state_->add_waiter(typename internal::State<T>::Waiter{
          internal::CoroutineResumer(std::coroutine_handle<>()),
          [fn = std::move(fn)](Future<T>) mutable { std::move(fn)(); }});
    }
  }

  // co_await on an lvalue yields a reference to the shared result; on an rvalue (e.g.
  // `co_await fetch()`) it moves the result out. Rethrows the future's exception.
  internal::FutureAwaiter<T, false> operator co_await() const& { return {state_}; }
  internal::FutureAwaiter<T, true> operator co_await() && { return {std::move(state_)}; }
  // `co_await f.settled()` waits until f is done without throwing its exception; then
  // exception() (or cancelled()) tells how it ended. Not in Tornado. Use it where a
  // failure is an expected outcome on a hot path: a C++ exception costs some 10,000
  // instructions to unwind (a peer closing its connection, for one).
  internal::SettledAwaiter<T> settled() const { return {{state_}}; }

  // Same shared state.
  friend bool operator==(const Future& a, const Future& b) { return a.state_ == b.state_; }

 private:
  friend struct internal::PromiseBase<T>;
  template <typename>
  friend class internal::State;
  explicit Future(std::shared_ptr<internal::State<T>> s) : state_(std::move(s)) {}

  std::shared_ptr<internal::State<T>> state_;
};

namespace internal {

template <typename T>
void State<T>::dispatch_waiter(Waiter w) {
  if (!w.fn) {
    *w.resume_slot = this->shared_from_this();
    dispatch(Callback(std::move(w.coro)));
  } else {
    dispatch(Callback([fn = std::move(w.fn),
                       f = Future<T>(this->shared_from_this())]() mutable {
      std::move(fn)(std::move(f));
    }));
  }
}

template <typename T>
struct PromiseBase {
  std::shared_ptr<State<T>> state = make_state<T>();

  // Frames come from a per-thread pool (frame_pool.h).
  static void* operator new(std::size_t n) { return allocate_frame(n); }
  static void operator delete(void* p, std::size_t n) noexcept { deallocate_frame(p, n); }

  // At the end the frame frees itself, then wakes the coroutine's waiters: a lone
  // awaiting coroutine is resumed directly (symmetric transfer), others are scheduled.
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      std::shared_ptr<State<T>> finished = std::move(h.promise().state);
      h.destroy();  // nothing below touches the frame
      return finished->wake_after_return();
    }
    void await_resume() const noexcept {}
  };

  Future<T> get_return_object() { return Future<T>(state); }
  // Eager, as Tornado's coroutines: run synchronously until the first real suspension.
  std::suspend_never initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept {
    if (state->status() == Status::kCancelled) {
      log_exception("Exception after Future was cancelled", std::current_exception());
    } else {
      state->store_exception(std::current_exception());
    }
  }
};

template <typename T>
struct Promise : PromiseBase<T> {
  template <typename U = T>
    requires std::is_constructible_v<T, U &&>
  void return_value(U&& v) {
    if (this->state->status() != Status::kCancelled) this->state->store_result(std::forward<U>(v));
  }
};

template <>
struct Promise<void> : PromiseBase<void> {
  void return_void() {
    if (state->status() != Status::kCancelled) state->store_result();
  }
};

}  // namespace internal

// Sets `future`'s result unless it was cancelled (Tornado's
// future_set_result_unless_cancelled). Throws InvalidStateError if it is otherwise done.
template <typename T, typename U>
void future_set_result_unless_cancelled(const Future<T>& future, U&& value) {
  if (!future.cancelled()) future.set_result(std::forward<U>(value));
}
inline void future_set_result_unless_cancelled(const Future<void>& future) {
  if (!future.cancelled()) future.set_result();
}

// Sets `future`'s exception unless it was cancelled, in which case the exception is
// logged to app_log ("Exception after Future was cancelled") so it is never lost.
template <typename T>
void future_set_exception_unless_cancelled(const Future<T>& future, std::exception_ptr e) {
  if (!future.cancelled()) {
    future.set_exception(std::move(e));
  } else {
    internal::log_exception("Exception after Future was cancelled", e);
  }
}

// future_set_exception_unless_cancelled with the exception being handled; call it in a
// catch block (Tornado's future_set_exc_info).
template <typename T>
void future_set_exc_info(const Future<T>& future) {
  future_set_exception_unless_cancelled(future, std::current_exception());
}

// Calls fn(future) (or fn()) when `future` is done: inline now if it is already done,
// else as add_done_callback does (Tornado's future_add_done_callback).
template <typename T, typename F>
void future_add_done_callback(const Future<T>& future, F fn) {
  if (future.done()) {
    if constexpr (std::is_invocable_v<F&&, Future<T>>) {
      std::move(fn)(future);
    } else {
      std::move(fn)();
    }
  } else {
    future.add_done_callback(std::move(fn));
  }
}

// Copies `a`'s outcome (result, exception or cancellation) to `b` when `a` completes,
// unless `b` is done by then (Tornado's chain_future). A result is copied when T is
// copyable, otherwise moved out of `a`.
template <typename T>
void chain_future(const Future<T>& a, const Future<T>& b) {
  future_add_done_callback(a, [b](Future<T> a) {
    if (b.done()) return;
    if (a.cancelled()) {
      b.cancel();
    } else if (std::exception_ptr e = a.exception()) {
      b.set_exception(std::move(e));
    } else if constexpr (std::is_void_v<T>) {
      b.set_result();
    } else if constexpr (std::is_copy_constructible_v<T>) {
      b.set_result(a.result());
    } else {
      b.set_result(std::move(a.result()));
    }
  });
}

}  // namespace tornado::concurrent
