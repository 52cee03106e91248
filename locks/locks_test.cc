// Tests for tornado::locks, after Tornado's tornado/test/locks_test.py.
#include "locks/locks.h"

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "concurrent/test_scheduler.h"
#include "gen/gen.h"
#include "ioloop/ioloop.h"
#include "locks/version.h"

namespace tornado::locks {
namespace {

using concurrent::Future;
using ioloop::IOLoop;
using namespace std::chrono_literals;

// Records `label` in `history` once `f` is done (Tornado's record_done).
template <typename T>
void record_done(const Future<T>& f, std::vector<std::string>* history, std::string label) {
  f.add_done_callback([history, label] { history->push_back(label); });
}

// ----------------------------------------------------------------------------- Condition

TEST(ConditionTest, Notify) {
  IOLoop loop;
  Condition c;
  std::vector<std::string> history;
  loop.run_sync([&]() -> Future<void> {
    loop.call_later(0.01, [&] { c.notify(); });
    bool r = co_await c.wait();
    EXPECT_TRUE(r);
    history.push_back("notified");
  });
  EXPECT_EQ(history, std::vector<std::string>{"notified"});
}

TEST(ConditionTest, NotifyOneWakesTheOldestWaiters) {
  IOLoop loop;
  Condition c;
  std::vector<std::string> history;
  loop.run_sync([&]() -> Future<void> {
    record_done(c.wait(), &history, "wait1");
    record_done(c.wait(), &history, "wait2");
    c.notify(1);
    co_await gen::moment;
    history.push_back("notify1");
    c.notify(1);
    co_await gen::moment;
    history.push_back("notify2");
  });
  EXPECT_EQ(history, (std::vector<std::string>{"wait1", "notify1", "wait2", "notify2"}));
}

TEST(ConditionTest, NotifyN) {
  IOLoop loop;
  Condition c;
  std::vector<std::string> history;
  loop.run_sync([&]() -> Future<void> {
    for (int i = 0; i < 6; ++i) record_done(c.wait(), &history, "wait" + std::to_string(i));
    c.notify(3);
    co_await gen::moment;
    co_await gen::moment;
    EXPECT_EQ(history, (std::vector<std::string>{"wait0", "wait1", "wait2"}));
    c.notify(1);
    co_await gen::moment;
    co_await gen::moment;
    EXPECT_EQ(history.size(), 4u);
    c.notify(2);
    co_await gen::moment;
    co_await gen::moment;
  });
  EXPECT_EQ(history, (std::vector<std::string>{"wait0", "wait1", "wait2", "wait3", "wait4", "wait5"}));
}

TEST(ConditionTest, NotifyAll) {
  IOLoop loop;
  Condition c;
  std::vector<std::string> history;
  loop.run_sync([&]() -> Future<void> {
    for (int i = 0; i < 4; ++i) record_done(c.wait(), &history, "wait" + std::to_string(i));
    c.notify_all();
    co_await gen::moment;
    co_await gen::moment;
    history.push_back("notify_all");
  });
  EXPECT_EQ(history, (std::vector<std::string>{"wait0", "wait1", "wait2", "wait3", "notify_all"}));
}

TEST(ConditionTest, WaitTimeoutGivesFalse) {
  IOLoop loop;
  Condition c;
  double start = loop.time();
  bool r = loop.run_sync([&]() -> Future<bool> { co_return co_await c.wait(10ms); });
  EXPECT_FALSE(r);
  EXPECT_GE(loop.time() - start, 0.009);
}

TEST(ConditionTest, WaitTimeoutPreempted) {
  IOLoop loop;
  Condition c;
  bool r = loop.run_sync([&]() -> Future<bool> {
    loop.call_later(0.01, [&] { c.notify(); });
    co_return co_await c.wait(1s);
  });
  EXPECT_TRUE(r);
  EXPECT_EQ(loop.pending_timers(), 0u) << "the waiter's timer is removed once notified";
}

TEST(ConditionTest, WaitWithAbsoluteDeadline) {
  IOLoop loop;
  Condition c;
  bool r = loop.run_sync([&]() -> Future<bool> { co_return co_await c.wait(gen::Deadline{loop.time() + 0.01}); });
  EXPECT_FALSE(r);
}

// Tornado's test_notify_n_with_timeout: a waiter whose timeout fired is skipped.
TEST(ConditionTest, NotifyNWithTimeout) {
  IOLoop loop;
  Condition c;
  std::vector<std::string> history;
  loop.run_sync([&]() -> Future<void> {
    // Wait for callback 1 with a timeout, then 0, 2 and 3 without.
    record_done(c.wait(), &history, "0");
    record_done(c.wait(10ms), &history, "1");
    record_done(c.wait(), &history, "2");
    record_done(c.wait(), &history, "3");
    co_await gen::sleep(20ms);  // wait 1 times out
    EXPECT_EQ(history, std::vector<std::string>{"1"});
    c.notify(2);
    co_await gen::sleep(10ms);
    EXPECT_EQ(history, (std::vector<std::string>{"1", "0", "2"}));
    c.notify();
    co_await gen::moment;
    co_await gen::moment;
    EXPECT_EQ(history, (std::vector<std::string>{"1", "0", "2", "3"}));
  });
}

TEST(ConditionTest, NotifyAllWithTimeout) {
  IOLoop loop;
  Condition c;
  std::vector<std::string> history;
  loop.run_sync([&]() -> Future<void> {
    record_done(c.wait(), &history, "0");
    record_done(c.wait(10ms), &history, "1");
    record_done(c.wait(), &history, "2");
    co_await gen::sleep(20ms);
    EXPECT_EQ(history, std::vector<std::string>{"1"});
    c.notify_all();
    co_await gen::moment;
    co_await gen::moment;
    EXPECT_EQ(history, (std::vector<std::string>{"1", "0", "2"}));
  });
}

Future<void> nested_waiter(Condition* c, std::vector<std::string>* history, int n) {
  bool r = co_await c->wait();
  history->push_back("wait" + std::to_string(n) + (r ? "" : "!"));
  if (n == 1) c->notify(2);  // a woken waiter wakes the next ones
}

TEST(ConditionTest, NestedNotify) {
  IOLoop loop;
  Condition c;
  std::vector<std::string> history;
  loop.run_sync([&]() -> Future<void> {
    std::vector<Future<void>> fs;
    for (int i = 1; i <= 3; ++i) fs.push_back(nested_waiter(&c, &history, i));
    c.notify(1);
    co_await gen::multi(fs);
  });
  EXPECT_EQ(history, (std::vector<std::string>{"wait1", "wait2", "wait3"}));
}

TEST(ConditionTest, GarbageCollectionOfTimedOutWaiters) {
  IOLoop loop;
  Condition c;
  loop.run_sync([&]() -> Future<void> {
    for (int i = 0; i < 1000; ++i) {
      bool r = co_await c.wait(gen::Deadline{loop.time()});
      EXPECT_FALSE(r);
    }
    // The timed-out waiters are gone: a live waiter is the one notify() reaches.
    Future<bool> live = c.wait();
    c.notify(1);
    EXPECT_TRUE(co_await live);
  });
}

TEST(ConditionTest, DestroyingCancelsWaiters) {
  IOLoop loop;
  Future<bool> w;
  {
    Condition c;
    w = c.wait();
  }
  EXPECT_TRUE(w.cancelled());
}

// --------------------------------------------------------------------------------- Event

TEST(EventTest, Event) {
  IOLoop loop;
  Event e;
  loop.run_sync([&]() -> Future<void> {
    Future<void> f1 = e.wait();
    Future<void> f2 = e.wait();
    EXPECT_FALSE(e.is_set());
    co_await gen::moment;
    EXPECT_FALSE(f1.done());
    e.set();
    EXPECT_TRUE(e.is_set());
    co_await f1;
    co_await f2;
    Future<void> f3 = e.wait();
    EXPECT_TRUE(f3.done());
  });
}

TEST(EventTest, EventTimeout) {
  IOLoop loop;
  Event e;
  loop.run_sync([&]() -> Future<void> {
    bool timed_out = false;
    try {
      co_await e.wait(10ms);
    } catch (const TimeoutError&) {
      timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    // After a timed-out wait, set() still wakes a new waiter.
    loop.call_later(0.01, [&] { e.set(); });
    co_await e.wait(1s);
  });
}

TEST(EventTest, SetMultipleTimes) {
  IOLoop loop;
  Event e;
  e.set();
  e.set();
  EXPECT_TRUE(e.is_set());
  loop.run_sync([&]() -> Future<void> { co_await e.wait(); });
}

TEST(EventTest, WaitThenClear) {
  IOLoop loop;
  Event e;
  loop.run_sync([&]() -> Future<void> {
    Future<void> f1 = e.wait();
    e.clear();
    e.set();
    Future<void> f2 = e.wait();
    e.clear();
    co_await gen::moment;
    EXPECT_TRUE(f1.done());
    EXPECT_TRUE(f2.done());
    EXPECT_FALSE(e.wait().done());
  });
}

TEST(EventTest, TimedOutWaitersDoNotPileUp) {
  IOLoop loop;
  Event e;
  loop.run_sync([&]() -> Future<void> {
    int timeouts = 0;
    for (int i = 0; i < 500; ++i) {
      try {
        co_await e.wait(gen::Deadline{loop.time()});
      } catch (const TimeoutError&) {
        ++timeouts;
      }
    }
    EXPECT_EQ(timeouts, 500);
    Future<void> live = e.wait();
    e.set();
    co_await live;
  });
}

// ----------------------------------------------------------------------------- Semaphore

TEST(SemaphoreTest, NegativeValue) { EXPECT_THROW(Semaphore(-1), std::invalid_argument); }

TEST(SemaphoreTest, Acquire) {
  IOLoop loop;
  Semaphore sem(2);
  loop.run_sync([&]() -> Future<void> {
    Future<ReleasingGuard> f1 = sem.acquire();
    Future<ReleasingGuard> f2 = sem.acquire();
    EXPECT_TRUE(f1.done());
    EXPECT_TRUE(f2.done());
    EXPECT_EQ(sem.value(), 0);
    f1.result().detach();
    f2.result().detach();
    // Wait for release().
    Future<ReleasingGuard> f3 = sem.acquire();
    EXPECT_FALSE(f3.done());
    Future<ReleasingGuard> f4 = sem.acquire();
    EXPECT_FALSE(f4.done());
    sem.release();
    co_await gen::moment;
    EXPECT_TRUE(f3.done());
    EXPECT_FALSE(f4.done());
    f3.result().detach();
    sem.release();
    co_await gen::moment;
    EXPECT_TRUE(f4.done());
    f4.result().detach();
    // Unblocked without waiting.
    sem.release();
    EXPECT_EQ(sem.value(), 1);
    Future<ReleasingGuard> f5 = sem.acquire();
    EXPECT_TRUE(f5.done());
    f5.result().detach();
    EXPECT_EQ(sem.value(), 0);
  });
}

// Tornado's test_acquire_timeout: timed-out acquirers do not consume a release.
TEST(SemaphoreTest, AcquireTimeout) {
  IOLoop loop;
  Semaphore sem(2);
  loop.run_sync([&]() -> Future<void> {
    (co_await sem.acquire()).detach();
    (co_await sem.acquire()).detach();
    Future<ReleasingGuard> acquire = sem.acquire(1ms);
    EXPECT_THROW((void)co_await acquire, TimeoutError);
    Future<ReleasingGuard> acquire2 = sem.acquire();
    co_await gen::moment;
    EXPECT_FALSE(acquire2.done());
    sem.release();
    co_await gen::moment;
    EXPECT_EQ(sem.value(), 0);
    EXPECT_TRUE(acquire2.done());
    acquire2.result().detach();
  });
}

TEST(SemaphoreTest, AcquireTimeoutPreempted) {
  IOLoop loop;
  Semaphore sem(1);
  loop.run_sync([&]() -> Future<void> {
    (co_await sem.acquire()).detach();
    loop.call_later(0.01, [&] { sem.release(); });
    ReleasingGuard g = co_await sem.acquire(1s);
    EXPECT_TRUE(g.owns());
    EXPECT_EQ(sem.value(), 0);
  });
  EXPECT_EQ(sem.value(), 1) << "the guard released on scope exit";
}

TEST(SemaphoreTest, ReleaseUnacquiredIsAllowed) {
  IOLoop loop;
  Semaphore sem(0);
  sem.release();
  sem.release();
  EXPECT_EQ(sem.value(), 2);
}

TEST(SemaphoreTest, GarbageCollectionOfTimedOutAcquirers) {
  IOLoop loop;
  Semaphore sem(0);
  loop.run_sync([&]() -> Future<void> {
    for (int i = 0; i < 1000; ++i) {
      EXPECT_THROW((void)co_await sem.acquire(gen::Deadline{loop.time()}), TimeoutError);
    }
    Future<ReleasingGuard> live = sem.acquire();
    sem.release();
    ReleasingGuard g = co_await std::move(live);
    EXPECT_EQ(sem.value(), 0);
  });
  EXPECT_EQ(sem.value(), 1);
}

TEST(SemaphoreTest, CancelledAcquirerIsSkipped) {
  IOLoop loop;
  Semaphore sem(0);
  loop.run_sync([&]() -> Future<void> {
    Future<ReleasingGuard> a = sem.acquire();
    Future<ReleasingGuard> b = sem.acquire();
    EXPECT_TRUE(a.cancel());
    sem.release();
    ReleasingGuard g = co_await std::move(b);
    EXPECT_TRUE(g.owns());
  });
}

// SemaphoreContextManagerTest: the guard is the context manager.
TEST(SemaphoreGuardTest, GuardReleasesOnScopeExit) {
  IOLoop loop;
  Semaphore sem(1);
  loop.run_sync([&]() -> Future<void> {
    {
      ReleasingGuard g = co_await sem.acquire();
      EXPECT_EQ(sem.value(), 0);
    }
    EXPECT_EQ(sem.value(), 1);
  });
}

Future<void> guarded_throw(Semaphore* sem) {
  ReleasingGuard g = co_await sem->acquire();
  throw std::runtime_error("inside");
}

TEST(SemaphoreGuardTest, GuardReleasesWhenAnExceptionLeaves) {
  IOLoop loop;
  Semaphore sem(1);
  EXPECT_THROW(loop.run_sync([&] { return guarded_throw(&sem); }), std::runtime_error);
  EXPECT_EQ(sem.value(), 1);
}

TEST(SemaphoreGuardTest, GuardTimeout) {
  IOLoop loop;
  Semaphore sem(1);
  loop.run_sync([&]() -> Future<void> {
    ReleasingGuard g = co_await sem.acquire(10ms);
    EXPECT_EQ(sem.value(), 0);
  });
  EXPECT_EQ(sem.value(), 1);
}

TEST(SemaphoreGuardTest, GuardTimeoutError) {
  IOLoop loop;
  Semaphore sem(0);
  loop.run_sync([&]() -> Future<void> {
    EXPECT_THROW((void)co_await sem.acquire(10ms), TimeoutError);
    co_return;
  });
  EXPECT_EQ(sem.value(), 0);
}

Future<void> contended_worker(Semaphore* sem, std::vector<int>* history, int i) {
  ReleasingGuard g = co_await sem->acquire();
  history->push_back(i);
  co_await gen::moment;
}

TEST(SemaphoreGuardTest, GuardContendedIsFifo) {
  IOLoop loop;
  Semaphore sem(2);
  std::vector<int> history;
  loop.run_sync([&]() -> Future<void> {
    std::vector<Future<void>> fs;
    for (int i = 0; i < 5; ++i) fs.push_back(contended_worker(&sem, &history, i));
    co_await gen::multi(fs);
  });
  EXPECT_EQ(history, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(sem.value(), 2);
}

TEST(SemaphoreGuardTest, ExplicitReleaseThenScopeExitReleasesOnce) {
  IOLoop loop;
  Semaphore sem(1);
  loop.run_sync([&]() -> Future<void> {
    ReleasingGuard g = co_await sem.acquire();
    g.release();
    EXPECT_FALSE(g.owns());
    EXPECT_EQ(sem.value(), 1);
    ReleasingGuard moved = co_await sem.acquire();
    g = std::move(moved);
    EXPECT_EQ(sem.value(), 0);
  });
  EXPECT_EQ(sem.value(), 1);
}

// ---------------------------------------------------------------------- BoundedSemaphore

TEST(BoundedSemaphoreTest, ReleaseUnacquiredRaises) {
  IOLoop loop;
  BoundedSemaphore sem(3);
  loop.run_sync([&]() -> Future<void> {
    ReleasingGuard a = co_await sem.acquire();
    ReleasingGuard b = co_await sem.acquire();
    a.detach();
    b.detach();
    Future<ReleasingGuard> c = sem.acquire();
    EXPECT_TRUE(c.done());
    c.result().detach();
    Future<ReleasingGuard> waiter = sem.acquire();
    EXPECT_FALSE(waiter.done());
    sem.release();  // to the waiter
    ReleasingGuard d = co_await std::move(waiter);
    d.detach();
    sem.release();
    sem.release();
    sem.release();
    EXPECT_THROW(sem.release(), std::invalid_argument);
    EXPECT_EQ(sem.value(), 3);
  });
}

// ---------------------------------------------------------------------------------- Lock

TEST(LockTest, AcquireRelease) {
  IOLoop loop;
  Lock lock;
  loop.run_sync([&]() -> Future<void> {
    (co_await lock.acquire()).detach();
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked());
  });
}

Future<void> fifo_worker(Lock* lock, std::vector<int>* history, int i) {
  auto guard = co_await lock->acquire();
  history->push_back(i);
  co_await gen::moment;
}

TEST(LockTest, AcquireIsFifo) {
  IOLoop loop;
  Lock lock;
  std::vector<int> history;
  loop.run_sync([&]() -> Future<void> {
    std::vector<Future<void>> fs;
    for (int i = 0; i < 5; ++i) fs.push_back(fifo_worker(&lock, &history, i));
    co_await gen::multi(fs);
  });
  EXPECT_EQ(history, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(lock.locked());
}

TEST(LockTest, AcquireTimeout) {
  IOLoop loop;
  Lock lock;
  loop.run_sync([&]() -> Future<void> {
    auto held = co_await lock.acquire();
    EXPECT_THROW((void)co_await lock.acquire(gen::Deadline{loop.time()}), TimeoutError);
    // The timed-out acquirer did not take the lock when it was released.
    Future<ReleasingGuard> next = lock.acquire();
    held.release();
    auto g = co_await std::move(next);
    EXPECT_TRUE(lock.locked());
  });
  EXPECT_FALSE(lock.locked());
}

TEST(LockTest, MultiReleaseRaisesRuntimeError) {
  IOLoop loop;
  Lock lock;
  EXPECT_THROW(lock.release(), std::runtime_error);
  loop.run_sync([&]() -> Future<void> {
    (co_await lock.acquire()).detach();
    lock.release();
    try {
      lock.release();
      ADD_FAILURE() << "expected RuntimeError";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "release unlocked lock");
    }
  });
}

Future<void> yield_lock_holder(Lock* lock, Future<void> gate) {
  auto guard = co_await lock->acquire();
  co_await gate;
}

TEST(LockTest, YieldLockWaitsForHolder) {
  IOLoop loop;
  Lock lock;
  loop.run_sync([&]() -> Future<void> {
    Future<void> gate;
    Future<void> holder = yield_lock_holder(&lock, gate);
    Future<ReleasingGuard> second = lock.acquire();
    co_await gen::moment;
    EXPECT_FALSE(second.done());
    gate.set_result();
    co_await holder;
    auto g = co_await std::move(second);
    EXPECT_TRUE(lock.locked());
  });
}

TEST(LocksVersionTest, Generated) { EXPECT_STREQ(kVersion, "0.1.0"); }

}  // namespace
}  // namespace tornado::locks
