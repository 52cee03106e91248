// tornado::locks: Event, Condition, Semaphore, BoundedSemaphore, Lock.
#include "locks/locks.h"

#include <algorithm>
#include <exception>
#include <string>

#include "ioloop/ioloop.h"

namespace tornado::locks {
namespace {

// Drops done (timed-out or cancelled) waiters once enough of them have expired: amortised
// O(1) per timeout, and the container never holds more than about twice the live waiters
// plus 100 (Tornado's _TimeoutGarbageCollector collects every 100 timeouts).
template <typename C>
void collect_expired(C& waiters, std::size_t& expired) {
  ++expired;
  if (expired < 100 && expired * 2 < waiters.size()) return;
  expired = 0;
  waiters.erase(std::remove_if(waiters.begin(), waiters.end(), [](const auto& w) { return w.done(); }),
                waiters.end());
}

template <typename C>
void cancel_all(C& waiters) {
  for (auto& w : waiters) w.cancel();
  waiters.clear();
}

// Removes the timer once `waiter` completes (whichever way), as Tornado's waiters do.
template <typename T>
void remove_timeout_when_done(const Future<T>& waiter, ioloop::IOLoop* loop, ioloop::TimeoutHandle h) {
  waiter.add_done_callback([loop, h] { loop->remove_timeout(h); });
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Event

struct Event::Impl {
  bool value = false;
  std::vector<Future<void>> waiters;
  std::size_t expired = 0;
};

Event::Event() : impl_(std::make_shared<Impl>()) {}
Event::~Event() { cancel_all(impl_->waiters); }

bool Event::is_set() const { return impl_->value; }

void Event::set() {
  if (impl_->value) return;
  impl_->value = true;
  auto waiters = std::move(impl_->waiters);
  impl_->waiters.clear();
  impl_->expired = 0;
  for (auto& w : waiters) {
    if (!w.done()) w.set_result();
  }
}

void Event::clear() { impl_->value = false; }

Future<void> Event::wait(std::optional<Timeout> timeout) {
  Future<void> fut;
  if (impl_->value) {
    fut.set_result();
    return fut;
  }
  impl_->waiters.push_back(fut);
  if (!timeout) return fut;
  Future<void> timed = gen::with_timeout(*timeout, fut, gen::quiet<concurrent::CancelledError>());
  // When the timeout wins (or the caller cancels), cancel the internal waiter so that
  // it is dropped rather than completed by a later set().
  std::weak_ptr<Impl> weak = impl_;
  timed.add_done_callback([fut, weak] {
    if (fut.done()) return;
    fut.cancel();
    if (auto impl = weak.lock()) collect_expired(impl->waiters, impl->expired);
  });
  return timed;
}

// ---------------------------------------------------------------------------------------
// Condition

struct Condition::Impl {
  std::deque<Future<bool>> waiters;
  std::size_t expired = 0;
};

Condition::Condition() : impl_(std::make_shared<Impl>()) {}
Condition::~Condition() { cancel_all(impl_->waiters); }

Future<bool> Condition::wait(std::optional<Timeout> timeout) {
  Future<bool> waiter;
  impl_->waiters.push_back(waiter);
  if (timeout) {
    ioloop::IOLoop* loop = ioloop::IOLoop::current();
    std::weak_ptr<Impl> weak = impl_;
    ioloop::TimeoutHandle h = loop->call_at(timeout->deadline(*loop), [waiter, weak] {
      if (!waiter.done()) waiter.set_result(false);
      if (auto impl = weak.lock()) collect_expired(impl->waiters, impl->expired);
    });
    remove_timeout_when_done(waiter, loop, h);
  }
  return waiter;
}

void Condition::notify(std::size_t n) {
  std::vector<Future<bool>> woken;
  auto& waiters = impl_->waiters;
  while (n > 0 && !waiters.empty()) {
    Future<bool> w = std::move(waiters.front());
    waiters.pop_front();
    if (!w.done()) {  // it may have timed out or been cancelled
      --n;
      woken.push_back(std::move(w));
    }
  }
  for (auto& w : woken) w.set_result(true);
}

void Condition::notify_all() { notify(impl_->waiters.size()); }

// ---------------------------------------------------------------------------------------
// Semaphore

namespace internal {

struct SemaphoreImpl : std::enable_shared_from_this<SemaphoreImpl> {
  long value;
  long initial;
  bool bounded;
  std::deque<Future<ReleasingGuard>> waiters;
  std::size_t expired = 0;

  SemaphoreImpl(long v, bool b) : value(v), initial(v), bounded(b) {}

  ReleasingGuard guard() { return ReleasingGuard(shared_from_this()); }

  void release() {
    if (bounded && value >= initial) throw std::invalid_argument("Semaphore released too many times");
    ++value;
    while (!waiters.empty()) {
      Future<ReleasingGuard> w = std::move(waiters.front());
      waiters.pop_front();
      if (!w.done()) {  // it may have timed out or been cancelled
        --value;
        w.set_result(guard());
        break;
      }
    }
  }
};

}  // namespace internal

ReleasingGuard& ReleasingGuard::operator=(ReleasingGuard&& o) noexcept {
  if (this != &o) {
    ReleasingGuard old(std::move(*this));  // releases the unit this guard held
    impl_ = std::move(o.impl_);
  }
  return *this;
}

ReleasingGuard::~ReleasingGuard() {
  if (!impl_) return;
  try {
    release();
  } catch (...) {
    concurrent::internal::log_exception("Exception releasing a semaphore guard", std::current_exception());
  }
}

void ReleasingGuard::release() {
  if (auto impl = std::move(impl_)) impl->release();
}

Semaphore::Semaphore(long value) : Semaphore(value, false) {}
Semaphore::Semaphore(long value, bool bounded) {
  if (value < 0) throw std::invalid_argument("semaphore initial value must be >= 0");
  impl_ = std::make_shared<internal::SemaphoreImpl>(value, bounded);
}
Semaphore::~Semaphore() { cancel_all(impl_->waiters); }

long Semaphore::value() const { return impl_->value; }

void Semaphore::release() { impl_->release(); }

Future<ReleasingGuard> Semaphore::acquire(std::optional<Timeout> timeout) {
  Future<ReleasingGuard> waiter;
  if (impl_->value > 0) {
    --impl_->value;
    waiter.set_result(impl_->guard());
    return waiter;
  }
  impl_->waiters.push_back(waiter);
  if (timeout) {
    ioloop::IOLoop* loop = ioloop::IOLoop::current();
    std::weak_ptr<internal::SemaphoreImpl> weak = impl_;
    ioloop::TimeoutHandle h = loop->call_at(timeout->deadline(*loop), [waiter, weak] {
      if (!waiter.done()) waiter.set_exception(TimeoutError("Timeout"));
      if (auto impl = weak.lock()) collect_expired(impl->waiters, impl->expired);
    });
    remove_timeout_when_done(waiter, loop, h);
  }
  return waiter;
}

BoundedSemaphore::BoundedSemaphore(long value) : Semaphore(value, true) {}

// ---------------------------------------------------------------------------------------
// Lock

Lock::Lock() : block_(1) {}

Future<ReleasingGuard> Lock::acquire(std::optional<Timeout> timeout) { return block_.acquire(timeout); }

void Lock::release() {
  try {
    block_.release();
  } catch (const std::invalid_argument&) {
    throw std::runtime_error("release unlocked lock");
  }
}

}  // namespace tornado::locks
