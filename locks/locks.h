// tornado::locks, Tornado's tornado.locks: coroutine synchronisation primitives for one
// IOLoop thread: Event, Condition, Semaphore, BoundedSemaphore, Lock.
//
// Not thread-safe (like Tornado's): use each object on one loop thread. Waiting returns a
// Future; timeouts are gen::Timeout (a duration, or a gen::Deadline in loop time) and
// are timed on IOLoop::current(), which must outlive the pending wait. Destroying a
// primitive cancels its pending waiters (they see CancelledError). See locks/README.md.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "concurrent/future.h"
#include "gen/gen.h"

namespace tornado::locks {

using concurrent::Future;
using gen::Timeout;
using TimeoutError = gen::TimeoutError;

// A flag coroutines can wait for (Tornado's locks.Event). Starts clear.
class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // True once set() was called (and clear() not since).
  bool is_set() const;
  // Sets the flag and wakes every waiter (their futures complete on the next loop
  // iteration). Waits started while it is set complete at once.
  void set();
  // Clears the flag; later wait() calls block until set() again.
  void clear();
  // A Future that completes when the flag is set: already done if it is set now. With a
  // timeout, raises TimeoutError if it expires first (the internal waiter is then
  // dropped). Cancelling the returned Future is allowed and only affects this waiter.
  Future<void> wait(std::optional<Timeout> timeout = std::nullopt);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// A condition variable for coroutines (Tornado's locks.Condition). No lock is involved:
// everything runs on one thread.
class Condition {
 public:
  Condition();
  ~Condition();
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // A Future that completes with true when notified, or with false if `timeout`
  // expires first (it never raises TimeoutError, as Tornado's). A waiter whose timeout
  // fired does not consume a later notify().
  Future<bool> wait(std::optional<Timeout> timeout = std::nullopt);
  // Wakes up to `n` waiters, oldest first, skipping those that timed out or were
  // cancelled.
  void notify(std::size_t n = 1);
  // Wakes every waiter.
  void notify_all();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

namespace internal {
struct SemaphoreImpl;
}

// Holds one unit of a Semaphore (or the Lock) and gives it back when destroyed (Tornado's
// _ReleasingContextManager, used as `async with`). Move-only. Discarding it releases at
// once: keep it in a variable for as long as the unit is needed, or call detach() and
// release the semaphore by hand later. The semaphore's state is kept alive by the guard.
class [[nodiscard]] ReleasingGuard {
 public:
  ReleasingGuard() = default;
  ReleasingGuard(ReleasingGuard&& o) noexcept : impl_(std::move(o.impl_)) {}
  ReleasingGuard& operator=(ReleasingGuard&& o) noexcept;
  ~ReleasingGuard();
  // Releases now (if still held); the destructor then does nothing. Raises as the
  // semaphore's release() does.
  void release();
  // Keeps the unit acquired without releasing it on destruction; release by hand.
  void detach() { impl_.reset(); }
  // True while the guard still holds its unit.
  bool owns() const { return impl_ != nullptr; }

 private:
  friend struct internal::SemaphoreImpl;
  explicit ReleasingGuard(std::shared_ptr<internal::SemaphoreImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<internal::SemaphoreImpl> impl_;
};

// A counter of units that acquire() decrements (waiting at zero) and release()
// increments (Tornado's locks.Semaphore).
class Semaphore {
 public:
  // Throws std::invalid_argument (Tornado's ValueError) if value < 0.
  explicit Semaphore(long value = 1);
  virtual ~Semaphore();
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // A Future with a ReleasingGuard once a unit is acquired: already done if one is free.
  // Waiters are served oldest first. With a timeout, raises TimeoutError if it expires
  // first; a waiter that timed out (or was cancelled) does not consume a later release().
  Future<ReleasingGuard> acquire(std::optional<Timeout> timeout = std::nullopt);
  // Gives a unit back, waking the oldest live waiter. Semaphore never raises;
  // BoundedSemaphore raises std::invalid_argument when over-released.
  void release();
  // The number of free units (Tornado keeps it in _value).
  long value() const;

 protected:
  Semaphore(long value, bool bounded);
  std::shared_ptr<internal::SemaphoreImpl> impl_;
};

// A Semaphore whose release() raises std::invalid_argument ("Semaphore released too
// many times", Tornado's ValueError) when the value would exceed its initial value
// (Tornado's locks.BoundedSemaphore).
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(long value = 1);
};

// A mutual-exclusion lock for coroutines (Tornado's locks.Lock): a BoundedSemaphore(1).
//
//   { auto guard = co_await lock.acquire();  /* critical section */ }  // released here
class Lock {
 public:
  Lock();
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // A Future with a guard once the lock is held (FIFO among waiters). With a timeout,
  // raises TimeoutError if it expires first.
  Future<ReleasingGuard> acquire(std::optional<Timeout> timeout = std::nullopt);
  // Unlocks, waking the oldest waiter. Throws std::runtime_error ("release unlocked
  // lock", Tornado's RuntimeError) if the lock is not held.
  void release();
  // True while held (Tornado's Lock has no public equivalent; for tests and asserts).
  bool locked() const { return block_.value() == 0; }

 private:
  BoundedSemaphore block_;
};

}  // namespace tornado::locks
