// Future<T> without coroutines: states, callbacks, helpers (Tornado's concurrent_test.py
// MiscFutureTest and ChainFutureTest, plus asyncio Future behaviour Tornado relies on).
#include "concurrent/future.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "concurrent/test_scheduler.h"
#include "concurrent/version.h"

namespace tornado::concurrent {
namespace {

using testing::CaptureAppLog;
using testing::ManualScheduler;

TEST(FutureTest, ResultAndState) {
  Future<int> f;
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.cancelled());
  EXPECT_THROW(f.result(), InvalidStateError);
  EXPECT_THROW(f.exception(), InvalidStateError);
  f.set_result(42);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(f.exception(), nullptr);
}

TEST(FutureTest, CopiesShareState) {
  Future<std::string> a;
  Future<std::string> b = a;
  EXPECT_TRUE(a == b);
  b.set_result("x");
  EXPECT_EQ(a.result(), "x");
  EXPECT_FALSE(a == Future<std::string>());
}

TEST(FutureTest, SetTwiceRaisesInvalidState) {
  Future<int> f;
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), InvalidStateError);
  EXPECT_THROW(f.set_exception(std::runtime_error("x")), InvalidStateError);
  EXPECT_EQ(f.result(), 1);
}

TEST(FutureTest, ExceptionIsRethrownByResult) {
  Future<int> f;
  f.set_exception(std::out_of_range("boom"));
  EXPECT_TRUE(f.done());
  EXPECT_THROW(f.result(), std::out_of_range);
  ASSERT_NE(f.exception(), nullptr);
  try {
    std::rethrow_exception(f.exception());
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
}

TEST(FutureTest, VoidFuture) {
  Future<void> f;
  f.set_result();
  EXPECT_TRUE(f.done());
  EXPECT_NO_THROW(f.result());
  Future<> g;
  g.set_exception(std::runtime_error("v"));
  EXPECT_THROW(g.result(), std::runtime_error);
}

TEST(FutureTest, MoveOnlyResult) {
  Future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(7));
  std::unique_ptr<int> taken = std::move(f.result());
  EXPECT_EQ(*taken, 7);
}

TEST(FutureTest, Cancel) {
  Future<int> f;
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(f.done());
  EXPECT_THROW(f.result(), CancelledError);
  EXPECT_THROW(f.exception(), CancelledError);
  EXPECT_FALSE(f.cancel());
  EXPECT_THROW(f.set_result(1), InvalidStateError);

  Future<int> done;
  done.set_result(1);
  EXPECT_FALSE(done.cancel());
  EXPECT_FALSE(done.cancelled());
}

// concurrent_test.py MiscFutureTest.test_future_set_result_unless_cancelled
TEST(FutureTest, SetResultUnlessCancelled) {
  Future<int> f;
  future_set_result_unless_cancelled(f, 42);
  EXPECT_EQ(f.result(), 42);
  EXPECT_FALSE(f.cancelled());

  Future<int> g;
  g.cancel();
  future_set_result_unless_cancelled(g, 42);
  EXPECT_TRUE(g.cancelled());

  Future<void> v;
  v.cancel();
  future_set_result_unless_cancelled(v);
  EXPECT_TRUE(v.cancelled());
}

TEST(FutureTest, SetExceptionUnlessCancelledLogsWhenCancelled) {
  CaptureAppLog log;
  Future<int> f;
  future_set_exception_unless_cancelled(f, std::make_exception_ptr(std::runtime_error("first")));
  EXPECT_THROW(f.result(), std::runtime_error);

  Future<int> g;
  g.cancel();
  future_set_exception_unless_cancelled(g, std::make_exception_ptr(std::runtime_error("lost")));
  EXPECT_TRUE(g.cancelled());
  EXPECT_TRUE(log.contains("Exception after Future was cancelled: lost")) << log.str();
}

TEST(FutureTest, SetExcInfoUsesCurrentException) {
  Future<int> f;
  try {
    throw std::domain_error("d");
  } catch (...) {
    future_set_exc_info(f);
  }
  EXPECT_THROW(f.result(), std::domain_error);
}

TEST(FutureTest, CallbacksRunInlineWithoutScheduler) {
  ASSERT_EQ(Scheduler::current(), nullptr);
  Future<int> f;
  std::vector<int> order;
  f.add_done_callback([&](Future<int> g) { order.push_back(g.result()); });
  f.add_done_callback([&] { order.push_back(-1); });
  EXPECT_TRUE(order.empty());
  f.set_result(5);
  EXPECT_EQ(order, (std::vector<int>{5, -1}));
  // On a done future: runs right away when there is no scheduler.
  f.add_done_callback([&] { order.push_back(9); });
  EXPECT_EQ(order, (std::vector<int>{5, -1, 9}));
}

TEST(FutureTest, CallbacksAreScheduledNotRunInline) {
  ManualScheduler scheduler;
  Future<int> f;
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) f.add_done_callback([&, i] { order.push_back(i); });
  f.set_result(1);
  EXPECT_TRUE(order.empty()) << "done callbacks must not run inside set_result";
  EXPECT_EQ(scheduler.pending(), 3u);
  scheduler.run_all();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));

  // add_done_callback on a done future schedules too (asyncio semantics)...
  f.add_done_callback([&] { order.push_back(3); });
  EXPECT_EQ(order.size(), 3u);
  scheduler.run_all();
  EXPECT_EQ(order.back(), 3);
  // ...while Tornado's future_add_done_callback runs it inline.
  future_add_done_callback(f, [&](Future<int> g) { order.push_back(g.result() + 10); });
  EXPECT_EQ(order.back(), 11);
}

TEST(FutureTest, FutureAddDoneCallbackPendingWaits) {
  ManualScheduler scheduler;
  Future<int> f;
  bool called = false;
  future_add_done_callback(f, [&] { called = true; });
  EXPECT_FALSE(called);
  f.cancel();
  EXPECT_FALSE(called);
  scheduler.run_all();
  EXPECT_TRUE(called);
}

TEST(FutureTest, CallbackExceptionIsLoggedAndOthersStillRun) {
  CaptureAppLog log;
  Future<int> f;
  bool second = false;
  f.add_done_callback([] { throw std::runtime_error("callback failed"); });
  f.add_done_callback([&] { second = true; });
  f.set_result(1);
  EXPECT_TRUE(second);
  EXPECT_TRUE(log.contains("Exception in callback: callback failed")) << log.str();
}

TEST(FutureTest, UnretrievedExceptionIsLogged) {
  CaptureAppLog log;
  {
    Future<int> f;
    f.set_exception(std::runtime_error("nobody looked"));
  }
  EXPECT_TRUE(log.contains("Future exception was never retrieved: nobody looked")) << log.str();
}

TEST(FutureTest, RetrievedExceptionIsNotLogged) {
  CaptureAppLog log;
  {
    Future<int> f;
    f.set_exception(std::runtime_error("seen"));
    EXPECT_NE(f.exception(), nullptr);
    Future<int> g;
    g.set_exception(std::runtime_error("seen too"));
    EXPECT_THROW(g.result(), std::runtime_error);
  }
  EXPECT_FALSE(log.contains("never retrieved")) << log.str();
}

TEST(FutureTest, PendingFutureDroppedDestroysCallbacks) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  {
    Future<int> f;
    f.add_done_callback([token = std::move(token)] {});
  }
  EXPECT_TRUE(weak.expired());
}

// concurrent_test.py ChainFutureTest
TEST(ChainFutureTest, CopiesResult) {
  ManualScheduler scheduler;
  Future<int> a, b, c;
  chain_future(a, b);
  chain_future(b, c);
  a.set_result(42);
  scheduler.run_all();
  EXPECT_EQ(b.result(), 42);
  EXPECT_EQ(c.result(), 42);
}

TEST(ChainFutureTest, CopiesExceptionAndCancellation) {
  Future<int> a, b;
  chain_future(a, b);
  a.set_exception(std::runtime_error("e"));
  EXPECT_THROW(b.result(), std::runtime_error);
  EXPECT_THROW(a.result(), std::runtime_error);

  Future<void> c, d;
  chain_future(c, d);
  c.cancel();
  EXPECT_TRUE(d.cancelled());
}

TEST(ChainFutureTest, LeavesDoneTargetAlone) {
  Future<int> a, b;
  b.set_result(1);
  chain_future(a, b);
  a.set_result(2);
  EXPECT_EQ(b.result(), 1);
  // An already-done source is copied at once.
  Future<std::unique_ptr<int>> m, n;
  m.set_result(std::make_unique<int>(3));
  chain_future(m, n);
  EXPECT_EQ(*n.result(), 3);
}

TEST(FutureTest, IsFuture) {
  static_assert(is_future_v<Future<int>>);
  static_assert(is_future_v<const Future<void>&>);
  static_assert(!is_future_v<int>);
}

TEST(VersionTest, Generated) { EXPECT_STREQ(kVersion, "0.4.0"); }

}  // namespace
}  // namespace tornado::concurrent
