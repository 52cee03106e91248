// tornado::gen, Tornado's tornado.gen: coroutine helpers over concurrent::Future:
// sleep, moment, multi / multi_future (vectors, maps, tuples of futures), with_timeout,
// WaitIterator, convert_yielded, and the Timeout / Deadline types that locks and queues
// take for their timeouts.
//
// Everything here belongs to the calling thread's current IOLoop (IOLoop::current()),
// like the Futures it returns. See gen/README.md.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "concurrent/future.h"
#include "ioloop/ioloop.h"

namespace tornado::gen {

using concurrent::Future;
// Raised by with_timeout and the locks' / queues' timeouts (tornado.util.TimeoutError,
// which Tornado re-exports as tornado.gen.TimeoutError).
using TimeoutError = ioloop::TimeoutError;

// An absolute deadline in loop time (IOLoop::time(), seconds): Tornado's float timeouts.
struct Deadline {
  double when;
};

// A timeout as Tornado's APIs take it: a duration from now (Tornado's timedelta) or an
// absolute Deadline in loop time (Tornado's float). Implicit from both.
class Timeout {
 public:
  Timeout(Deadline d) : value_(d.when), relative_(false) {}  // NOLINT: implicit
  template <typename Rep, typename Period>
  Timeout(std::chrono::duration<Rep, Period> d)  // NOLINT: implicit
      : value_(std::chrono::duration<double>(d).count()), relative_(true) {}
  // The absolute loop time this timeout expires at on `loop`.
  double deadline(const ioloop::IOLoop& loop) const { return relative_ ? loop.time() + value_ : value_; }

 private:
  double value_;
  bool relative_;
};

// Decides whether an exception is expected and need not be logged (Tornado's
// quiet_exceptions tuple). Empty: nothing is quiet.
using QuietExceptions = std::function<bool(const std::exception_ptr&)>;

// A QuietExceptions that matches exceptions of any of the types E... (or derived).
template <typename... E>
QuietExceptions quiet() {
  return [](const std::exception_ptr& e) -> bool {
    if (!e) return false;
    bool matched = false;
    auto try_one = [&]<typename X>() {
      if (matched) return;
      try {
        std::rethrow_exception(e);
      } catch (const X&) {
        matched = true;
      } catch (...) {
      }
    };
    (try_one.template operator()<E>(), ...);
    return matched;
  };
}

// A Future that completes (with no value) after `duration` on the current IOLoop
// (Tornado's gen.sleep). Cancelling it leaves the timer to fire harmlessly. The current
// IOLoop must outlive the timer.
template <typename Rep, typename Period>
Future<void> sleep(std::chrono::duration<Rep, Period> duration);
// As above, in seconds.
Future<void> sleep(double seconds);

// `co_await gen::moment;` gives up control for one loop iteration: the coroutine is
// resumed by a callback queued on the current Scheduler (Tornado's gen.moment), so
// callbacks already queued run first. With no Scheduler installed it does not suspend.
struct MomentAwaiter {
  bool await_ready() const noexcept { return concurrent::Scheduler::current() == nullptr; }
  void await_suspend(std::coroutine_handle<> h) const {
    concurrent::Scheduler::current()->call_soon(concurrent::internal::CoroutineResumer(h));
  }
  void await_resume() const noexcept {}
};
inline constexpr MomentAwaiter moment{};

// The value type multi() gives for a Future<T>: T, or std::monostate for Future<void>.
template <typename T>
using MultiValue = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

namespace internal {

// The exception a done child carries (CancelledError for a cancelled one), or null.
template <typename T>
std::exception_ptr child_error(const Future<T>& f) {
  if (f.cancelled()) return std::make_exception_ptr(concurrent::CancelledError());
  return f.exception();
}

// Tornado's multi_future error rule, applied to the children in order once all are done:
// the first error goes to `out`; later ones are logged unless quiet. Returns true if
// `out` is still to be completed with a result.
template <typename Out>
bool route_error(const Out& out, std::exception_ptr e, const QuietExceptions& quiet) {
  if (!e) return true;
  if (out.done()) {
    if (!quiet || !quiet(e)) {
      concurrent::internal::log_exception("Multiple exceptions in yield list", e);
    }
  } else {
    out.set_exception(std::move(e));
  }
  return false;
}

template <typename T>
MultiValue<T> take_value(const Future<T>& f) {
  if constexpr (std::is_void_v<T>) {
    return std::monostate{};
  } else if constexpr (std::is_copy_constructible_v<T>) {
    return f.result();
  } else {
    return std::move(f.result());
  }
}

// Calls `on_done` once per child when it completes (inline for those already done).
template <typename T, typename F>
void each_done(const Future<T>& child, F on_done) {
  concurrent::future_add_done_callback(child, [on_done = std::move(on_done)](Future<T>) mutable {
    on_done();
  });
}

}  // namespace internal

// Waits for all `children` and gives their results in order (Tornado's multi /
// multi_future over a list). Completes once every child is done, even when one fails
// early (as Tornado). If any failed (or was cancelled), the returned Future raises the
// first failure in list order; the others are logged to app_log ("Multiple exceptions in
// yield list") unless `quiet_exceptions` matches them. An empty vector completes at once.
// Results are copied out of the children (moved when T is move-only; then do not list
// the same Future twice). The children are kept alive until they are done.
template <typename T>
Future<std::vector<T>> multi(std::vector<Future<T>> children, QuietExceptions quiet_exceptions = {})
  requires(!std::is_void_v<T>);
// As above for Future<void> children: completes with no value.
Future<void> multi(std::vector<Future<void>> children, QuietExceptions quiet_exceptions = {});
// As above over a map: the results keep the children's keys (Tornado's dict form).
template <typename K, typename T, typename C>
Future<std::map<K, MultiValue<T>, C>> multi(std::map<K, Future<T>, C> children,
                                             QuietExceptions quiet_exceptions = {});
// As above over a heterogeneous tuple of futures: a tuple of their values
// (std::monostate for Future<void>).
template <typename... T>
Future<std::tuple<MultiValue<T>...>> multi(std::tuple<Future<T>...> children,
                                           QuietExceptions quiet_exceptions = {});

// Tornado's name for the same operation.
template <typename C>
auto multi_future(C children, QuietExceptions quiet_exceptions = {}) {
  return multi(std::move(children), std::move(quiet_exceptions));
}

// A Future with `future`'s outcome, or TimeoutError("Timeout") if `timeout` expires first
// (Tornado's with_timeout). `future` itself is NOT cancelled on timeout (as Tornado);
// if it later fails, its exception is logged to app_log ("Exception in Future after
// timeout") unless `quiet_exceptions` matches it (cancellation is never logged). A
// result is copied (moved when T is move-only). The current IOLoop must outlive the
// timer; the timer is removed once `future` completes.
template <typename T>
Future<T> with_timeout(Timeout timeout, Future<T> future, QuietExceptions quiet_exceptions = {});

// Iterates over futures in the order they complete (Tornado's WaitIterator):
//
//   gen::WaitIterator<int> it({f1, f2, f3});
//   while (!it.done()) {
//     try { int r = co_await it.next(); use(r, it.current_index()); }
//     catch (const std::exception& e) { ... }
//   }
//
// next() returns a Future with the outcome of the next future to complete (copied, or
// moved when T is move-only); current_index() / current_future() then name that future
// (its position, or its key for the map form). Only one next() may be outstanding. The
// iterator must stay alive while a next() Future is pending; the futures it watches
// need not (they are held until done). Key defaults to the position (std::size_t).
template <typename T, typename Key = std::size_t>
class WaitIterator {
 public:
  // Watches `futures`; keys are their positions.
  explicit WaitIterator(std::vector<Future<T>> futures)
    requires std::is_same_v<Key, std::size_t>;
  // Watches the map's futures; keys are the map's keys (Tornado's keyword form).
  template <typename C>
  explicit WaitIterator(std::map<Key, Future<T>, C> futures);

  // True once every future has been returned by next() (Tornado's done()); then
  // current_index() / current_future() are reset.
  bool done();
  // A Future for the next future to complete: already done if one has completed and not
  // been returned yet. Throws std::logic_error when done() or while an earlier next()
  // Future is still pending (Tornado would return a Future that never completes).
  Future<T> next();
  // The index / key of the future the last next() returned (Tornado's current_index);
  // nullopt before the first next() Future completes and after done().
  const std::optional<Key>& current_index() const { return state_->current_index; }
  // That future itself (Tornado's current_future).
  const std::optional<Future<T>>& current_future() const { return state_->current_future; }

 private:
  struct State {
    std::vector<std::pair<Key, Future<T>>> entries;
    std::size_t unfinished = 0;
    std::deque<std::size_t> finished;  // entries done but not yet returned
    std::optional<Future<T>> running;
    std::optional<Key> current_index;
    std::optional<Future<T>> current_future;

    void on_done(std::size_t i) {
      if (running && !running->done()) {
        (void)return_result(i);
      } else {
        finished.push_back(i);
      }
    }
    Future<T> return_result(std::size_t i) {
      Future<T> res = *running;
      running.reset();
      concurrent::chain_future(entries[i].second, res);
      current_index = entries[i].first;
      current_future = entries[i].second;
      --unfinished;
      return res;
    }
  };
  void watch();
  std::shared_ptr<State> state_;
};

// Makes an awaitable Future out of what a Tornado coroutine might yield (Tornado's
// convert_yielded): a Future is returned as is; a vector, map or tuple of Futures goes
// through multi(). (co_await already takes a Future; there are no other yieldables in C++.)
template <typename T>
Future<T> convert_yielded(Future<T> f) {
  return f;
}
template <typename T>
auto convert_yielded(std::vector<Future<T>> v) {
  return multi(std::move(v));
}
template <typename K, typename T, typename C>
auto convert_yielded(std::map<K, Future<T>, C> m) {
  return multi(std::move(m));
}
template <typename... T>
auto convert_yielded(std::tuple<Future<T>...> t) {
  return multi(std::move(t));
}

// ---------------------------------------------------------------------------------------
// Template definitions.

template <typename Rep, typename Period>
Future<void> sleep(std::chrono::duration<Rep, Period> duration) {
  return sleep(std::chrono::duration<double>(duration).count());
}

template <typename T>
Future<std::vector<T>> multi(std::vector<Future<T>> children, QuietExceptions quiet_exceptions)
  requires(!std::is_void_v<T>)
{
  struct State {
    std::vector<Future<T>> children;
    std::size_t remaining;
    Future<std::vector<T>> out;
    QuietExceptions quiet;
    void finish() {
      bool ok = true;
      for (auto& c : children) ok = internal::route_error(out, internal::child_error(c), quiet) && ok;
      if (!ok || out.done()) return;
      std::vector<T> results;
      results.reserve(children.size());
      for (auto& c : children) results.push_back(internal::take_value(c));
      out.set_result(std::move(results));
    }
  };
  auto st = std::make_shared<State>(State{std::move(children), 0, {}, std::move(quiet_exceptions)});
  Future<std::vector<T>> out = st->out;
  st->remaining = st->children.size();
  if (st->remaining == 0) {
    out.set_result(std::vector<T>{});
    return out;
  }
  for (std::size_t i = 0, n = st->children.size(); i < n; ++i) {
    internal::each_done(st->children[i], [st] {
      if (--st->remaining == 0) st->finish();
    });
  }
  return out;
}

template <typename K, typename T, typename C>
Future<std::map<K, MultiValue<T>, C>> multi(std::map<K, Future<T>, C> children,
                                             QuietExceptions quiet_exceptions) {
  using Out = std::map<K, MultiValue<T>, C>;
  struct State {
    std::map<K, Future<T>, C> children;
    std::size_t remaining;
    Future<Out> out;
    QuietExceptions quiet;
    void finish() {
      bool ok = true;
      for (auto& [k, c] : children) ok = internal::route_error(out, internal::child_error(c), quiet) && ok;
      if (!ok || out.done()) return;
      Out results(children.key_comp());
      for (auto& [k, c] : children) results.emplace(k, internal::take_value(c));
      out.set_result(std::move(results));
    }
  };
  auto st = std::make_shared<State>(State{std::move(children), 0, {}, std::move(quiet_exceptions)});
  Future<Out> out = st->out;
  st->remaining = st->children.size();
  if (st->remaining == 0) {
    out.set_result(Out(st->children.key_comp()));
    return out;
  }
  for (auto& kv : st->children) {
    internal::each_done(kv.second, [st] {
      if (--st->remaining == 0) st->finish();
    });
  }
  return out;
}

template <typename... T>
Future<std::tuple<MultiValue<T>...>> multi(std::tuple<Future<T>...> children,
                                           QuietExceptions quiet_exceptions) {
  using Out = std::tuple<MultiValue<T>...>;
  struct State {
    std::tuple<Future<T>...> children;
    std::size_t remaining;
    Future<Out> out;
    QuietExceptions quiet;
    void finish() {
      bool ok = std::apply(
          [&](auto&... c) {
            bool all = true;
            ((all = internal::route_error(out, internal::child_error(c), quiet) && all), ...);
            return all;
          },
          children);
      if (!ok || out.done()) return;
      out.set_result(std::apply([](auto&... c) { return Out(internal::take_value(c)...); }, children));
    }
  };
  auto st = std::make_shared<State>(State{std::move(children), sizeof...(T), {}, std::move(quiet_exceptions)});
  Future<Out> out = st->out;
  if constexpr (sizeof...(T) == 0) {
    out.set_result(Out{});
  } else {
    std::apply(
        [&](auto&... c) {
          (internal::each_done(c, [st] {
             if (--st->remaining == 0) st->finish();
           }),
           ...);
        },
        st->children);
  }
  return out;
}

template <typename T>
Future<T> with_timeout(Timeout timeout, Future<T> future, QuietExceptions quiet_exceptions) {
  Future<T> result;
  concurrent::chain_future(future, result);
  ioloop::IOLoop* loop = ioloop::IOLoop::current();
  ioloop::TimeoutHandle handle = loop->call_at(
      timeout.deadline(*loop), [result, future, quiet = std::move(quiet_exceptions)]() mutable {
        if (!result.done()) result.set_exception(TimeoutError("Timeout"));
        // The wrapped future may go on to fail: log it, as Tornado does.
        concurrent::future_add_done_callback(future, [quiet = std::move(quiet)](Future<T> f) {
          if (f.cancelled()) return;
          std::exception_ptr e = f.exception();
          if (e && (!quiet || !quiet(e))) {
            concurrent::internal::log_exception("Exception in Future after timeout", e);
          }
        });
      });
  concurrent::future_add_done_callback(future, [loop, handle] { loop->remove_timeout(handle); });
  return result;
}

template <typename T, typename Key>
WaitIterator<T, Key>::WaitIterator(std::vector<Future<T>> futures)
  requires std::is_same_v<Key, std::size_t>
    : state_(std::make_shared<State>()) {
  state_->entries.reserve(futures.size());
  for (std::size_t i = 0; i < futures.size(); ++i) state_->entries.emplace_back(i, std::move(futures[i]));
  watch();
}

template <typename T, typename Key>
template <typename C>
WaitIterator<T, Key>::WaitIterator(std::map<Key, Future<T>, C> futures) : state_(std::make_shared<State>()) {
  state_->entries.reserve(futures.size());
  for (auto& [k, f] : futures) state_->entries.emplace_back(k, std::move(f));
  watch();
}

template <typename T, typename Key>
void WaitIterator<T, Key>::watch() {
  state_->unfinished = state_->entries.size();
  std::weak_ptr<State> weak = state_;
  for (std::size_t i = 0; i < state_->entries.size(); ++i) {
    concurrent::future_add_done_callback(state_->entries[i].second, [weak, i] {
      if (auto st = weak.lock()) st->on_done(i);
    });
  }
}

template <typename T, typename Key>
bool WaitIterator<T, Key>::done() {
  if (!state_->finished.empty() || state_->unfinished > 0) return false;
  state_->current_index.reset();
  state_->current_future.reset();
  return true;
}

template <typename T, typename Key>
Future<T> WaitIterator<T, Key>::next() {
  State& st = *state_;
  if (st.running && !st.running->done()) {
    throw std::logic_error("WaitIterator::next: the previous next() is still pending");
  }
  if (st.unfinished == 0) throw std::logic_error("WaitIterator::next: no futures left");
  st.running.emplace();
  if (!st.finished.empty()) {
    std::size_t i = st.finished.front();
    st.finished.pop_front();
    return st.return_result(i);
  }
  return *st.running;
}

}  // namespace tornado::gen
