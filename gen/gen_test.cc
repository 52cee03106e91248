// Tests for tornado::gen, after the applicable parts of Tornado's tornado/test/gen_test.py.
#include "gen/gen.h"

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "concurrent/executor.h"
#include "concurrent/test_scheduler.h"
#include "gen/version.h"
#include "ioloop/ioloop.h"

namespace tornado::gen {
namespace {

using concurrent::testing::CaptureAppLog;
using ioloop::IOLoop;
using namespace std::chrono_literals;

template <typename T>
Future<T> done_future(T v) {
  Future<T> f;
  f.set_result(std::move(v));
  return f;
}

// Completes with `v` after `seconds` (Tornado's async_future + delay helpers).
Future<int> delayed(double seconds, int v) {
  co_await sleep(seconds);
  co_return v;
}

Future<int> delayed_error(double seconds, std::string what) {
  co_await sleep(seconds);
  throw std::runtime_error(what);
}

// --------------------------------------------------------------------- sleep, moment

TEST(SleepTest, Sleep) {
  IOLoop loop;
  double start = loop.time();
  loop.run_sync([]() -> Future<void> { co_await sleep(20ms); });
  EXPECT_GE(loop.time() - start, 0.019);
  start = loop.time();
  loop.run_sync([] { return sleep(0.01); });
  EXPECT_GE(loop.time() - start, 0.009);
}

TEST(SleepTest, CancelledSleepIsHarmless) {
  IOLoop loop;
  loop.run_sync([]() -> Future<void> {
    Future<void> s = sleep(5ms);
    EXPECT_TRUE(s.cancel());
    co_await sleep(10ms);  // the first timer fires on a cancelled future: no error
  });
}

Future<void> moment_task(std::vector<std::string>* calls, std::string name, int n) {
  for (int i = 0; i < n; ++i) {
    calls->push_back(name);
    co_await moment;
  }
}

// Tornado's test_moment: two coroutines that yield to each other with moment interleave.
TEST(MomentTest, CoroutinesInterleave) {
  IOLoop loop;
  std::vector<std::string> calls;
  loop.run_sync([&]() -> Future<void> {
    Future<void> a = moment_task(&calls, std::string("a"), 3);
    Future<void> b = moment_task(&calls, std::string("b"), 3);
    std::vector<Future<void>> both{a, b};
    co_await multi(both);
  });
  EXPECT_EQ(calls, (std::vector<std::string>{"a", "b", "a", "b", "a", "b"}));
}

TEST(MomentTest, LetsQueuedCallbacksRunFirst) {
  IOLoop loop;
  bool ran = false;
  loop.run_sync([&]() -> Future<void> {
    loop.add_callback([&] { ran = true; });
    EXPECT_FALSE(ran);
    co_await moment;
    EXPECT_TRUE(ran);
  });
}

// ------------------------------------------------------------------------------ multi

TEST(MultiTest, Vector) {
  IOLoop loop;
  auto r = loop.run_sync([]() -> Future<std::vector<int>> {
    std::vector<Future<int>> fs{done_future(1), delayed(0.01, 2), delayed(0.0, 3)};
    co_return co_await multi(fs);
  });
  EXPECT_EQ(r, (std::vector<int>{1, 2, 3}));
}

TEST(MultiTest, Map) {
  IOLoop loop;
  auto r = loop.run_sync([]() -> Future<std::map<std::string, int>> {
    std::map<std::string, Future<int>> m{{"foo", delayed(0.01, 1)}, {"bar", done_future(2)}};
    co_return co_await multi(std::move(m));
  });
  EXPECT_EQ(r, (std::map<std::string, int>{{"foo", 1}, {"bar", 2}}));
}

TEST(MultiTest, TupleOfMixedTypes) {
  IOLoop loop;
  auto r = loop.run_sync([]() -> Future<std::tuple<int, std::string, std::monostate>> {
    std::tuple<Future<int>, Future<std::string>, Future<void>> t{delayed(0.01, 1), done_future(std::string("x")),
                                                                  sleep(0.0)};
    co_return co_await multi(t);
  });
  EXPECT_EQ(std::get<0>(r), 1);
  EXPECT_EQ(std::get<1>(r), "x");
}

TEST(MultiTest, Empty) {
  EXPECT_TRUE(multi(std::vector<Future<int>>{}).done());
  EXPECT_TRUE(multi(std::vector<Future<int>>{}).result().empty());
  EXPECT_TRUE(multi(std::map<int, Future<int>>{}).result().empty());
  EXPECT_TRUE(multi(std::vector<Future<void>>{}).done());
  EXPECT_TRUE(multi(std::tuple<>{}).done());
}

TEST(MultiTest, AllDoneCompletesAtOnce) {
  Future<std::vector<int>> f = multi(std::vector<Future<int>>{done_future(1), done_future(2)});
  ASSERT_TRUE(f.done());
  EXPECT_EQ(f.result(), (std::vector<int>{1, 2}));
}

TEST(MultiTest, DuplicateFuture) {
  IOLoop loop;
  auto r = loop.run_sync([]() -> Future<std::vector<int>> {
    Future<int> f = delayed(0.01, 7);
    std::vector<Future<int>> twice{f, f};
    co_return co_await multi_future(twice);
  });
  EXPECT_EQ(r, (std::vector<int>{7, 7}));
}

TEST(MultiTest, MoveOnlyResults) {
  IOLoop loop;
  auto r = loop.run_sync([]() -> Future<std::vector<std::unique_ptr<int>>> {
    std::vector<Future<std::unique_ptr<int>>> v(2);
    v[0].set_result(std::make_unique<int>(1));
    v[1].set_result(std::make_unique<int>(2));
    co_return co_await multi(std::move(v));
  });
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(*r[1], 2);
}

TEST(MultiTest, WaitsForAllBeforeRaising) {
  IOLoop loop;
  loop.run_sync([]() -> Future<void> {
    Future<int> slow = delayed(0.02, 1);
    Future<std::vector<int>> m = multi(std::vector<Future<int>>{delayed_error(0.0, "fast"), slow});
    try {
      (void)co_await m;
      ADD_FAILURE() << "expected an exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "fast");
    }
    EXPECT_TRUE(slow.done()) << "Tornado's multi waits for every child";
  });
}

// Tornado's test_multi_exceptions / test_multi_future_exceptions.
TEST(MultiTest, FirstErrorRaisedLaterOnesLogged) {
  IOLoop loop;
  CaptureAppLog log;
  loop.run_sync([]() -> Future<void> {
    try {
      std::vector<Future<int>> fs{delayed_error(0.01, std::string("error 1")),
                                  delayed_error(0.0, std::string("error 2"))};
      (void)co_await multi(fs);
      ADD_FAILURE() << "expected an exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "error 1") << "the first in list order wins, as Tornado";
    }
  });
  EXPECT_TRUE(log.contains("Multiple exceptions in yield list")) << log.str();
  EXPECT_TRUE(log.contains("error 2")) << log.str();
  EXPECT_FALSE(log.contains("error 1")) << log.str();
}

TEST(MultiTest, QuietExceptionsAreNotLogged) {
  IOLoop loop;
  CaptureAppLog log;
  loop.run_sync([]() -> Future<void> {
    std::vector<Future<int>> fs{delayed_error(0.0, std::string("e1")), delayed_error(0.0, std::string("e2"))};
    EXPECT_THROW((void)co_await multi(fs, quiet<std::runtime_error>()), std::runtime_error);
  });
  EXPECT_FALSE(log.contains("Multiple exceptions")) << log.str();
}

TEST(MultiTest, MapAndTupleErrors) {
  IOLoop loop;
  CaptureAppLog log;
  loop.run_sync([]() -> Future<void> {
    std::map<int, Future<int>> m{{1, delayed_error(0.0, "m1")}, {2, delayed(0.0, 2)}};
    EXPECT_THROW((void)co_await multi(std::move(m)), std::runtime_error);
    Future<void> cancelled;
    cancelled.cancel();
    std::tuple<Future<int>, Future<void>> t{delayed(0.0, 1), cancelled};
    EXPECT_THROW((void)co_await multi(t), concurrent::CancelledError);
  });
  EXPECT_FALSE(log.contains("Multiple exceptions")) << log.str();
}

TEST(MultiTest, ConvertYielded) {
  IOLoop loop;
  auto r = loop.run_sync([]() -> Future<int> {
    int a = co_await convert_yielded(delayed(0.0, 1));
    std::vector<Future<int>> fs{delayed(0.0, 2)};
    std::vector<int> v = co_await convert_yielded(fs);
    std::tuple<Future<int>> one{delayed(0.0, 3)};
    auto t = co_await convert_yielded(one);
    co_return a + v[0] + std::get<0>(t);
  });
  EXPECT_EQ(r, 6);
}

// ----------------------------------------------------------------------- with_timeout

TEST(WithTimeoutTest, Timeout) {
  IOLoop loop;
  Future<int> never;
  double start = loop.time();
  EXPECT_THROW(loop.run_sync([&] { return with_timeout(10ms, never); }), TimeoutError);
  EXPECT_GE(loop.time() - start, 0.009);
  EXPECT_FALSE(never.done()) << "the inner future is not cancelled";
  never.set_result(1);
}

TEST(WithTimeoutTest, CompletesBeforeTimeout) {
  IOLoop loop;
  int r = loop.run_sync([&] { return with_timeout(1s, delayed(0.01, 5)); });
  EXPECT_EQ(r, 5);
  EXPECT_EQ(loop.pending_timers(), 0u) << "the timeout is removed";
}

TEST(WithTimeoutTest, FailsBeforeTimeout) {
  IOLoop loop;
  EXPECT_THROW(loop.run_sync([&] { return with_timeout(1s, delayed_error(0.01, "boom")); }), std::runtime_error);
}

TEST(WithTimeoutTest, AlreadyResolved) {
  IOLoop loop;
  EXPECT_EQ(loop.run_sync([&] { return with_timeout(1s, done_future(3)); }), 3);
}

TEST(WithTimeoutTest, AbsoluteDeadline) {
  IOLoop loop;
  Future<void> never;
  EXPECT_THROW(loop.run_sync([&] { return with_timeout(Deadline{loop.time() + 0.01}, never); }), TimeoutError);
  never.set_result();
}

TEST(WithTimeoutTest, LaterFailureIsLoggedUnlessQuiet) {
  IOLoop loop;
  CaptureAppLog log;
  loop.run_sync([]() -> Future<void> {
    EXPECT_THROW((void)co_await with_timeout(5ms, delayed_error(0.02, "late loud")), TimeoutError);
    EXPECT_THROW(
        (void)co_await with_timeout(5ms, delayed_error(0.02, "late quiet"), quiet<std::runtime_error>()),
        TimeoutError);
    co_await sleep(0.04);
  });
  EXPECT_TRUE(log.contains("Exception in Future after timeout")) << log.str();
  EXPECT_TRUE(log.contains("late loud")) << log.str();
  EXPECT_FALSE(log.contains("late quiet")) << log.str();
}

TEST(WithTimeoutTest, ExecutorFuture) {
  IOLoop loop;
  concurrent::ThreadPoolExecutor executor(1);
  int r = loop.run_sync([&] { return with_timeout(5s, loop.run_in_executor(&executor, [] { return 42; })); });
  EXPECT_EQ(r, 42);
  executor.shutdown(true);
}

// ---------------------------------------------------------------------- WaitIterator

TEST(WaitIteratorTest, EmptyIterator) {
  WaitIterator<int> it(std::vector<Future<int>>{});
  EXPECT_TRUE(it.done());
  EXPECT_THROW((void)it.next(), std::logic_error);
}

TEST(WaitIteratorTest, AlreadyDone) {
  IOLoop loop;
  loop.run_sync([]() -> Future<void> {
    Future<int> f1 = done_future(24), f2 = done_future(42), f3 = done_future(84);
    WaitIterator<int> it({f1, f2, f3});
    std::vector<std::pair<std::size_t, int>> got;
    while (!it.done()) {
      int r = co_await it.next();
      got.emplace_back(*it.current_index(), r);
      EXPECT_TRUE(*it.current_future() == (r == 24 ? f1 : r == 42 ? f2 : f3));
    }
    EXPECT_EQ(got, (std::vector<std::pair<std::size_t, int>>{{0, 24}, {1, 42}, {2, 84}}));
    EXPECT_FALSE(it.current_index().has_value()) << "reset by done()";
    EXPECT_FALSE(it.current_future().has_value());

    std::map<std::string, Future<int>> m{{"f1", f1}, {"f2", f2}};
    WaitIterator<int, std::string> named(m);
    std::vector<std::string> keys;
    while (!named.done()) {
      (void)co_await named.next();
      keys.push_back(*named.current_index());
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"f1", "f2"}));
  });
}

// Tornado's test_iterator: results arrive in completion order, errors included.
TEST(WaitIteratorTest, CompletionOrderWithErrors) {
  IOLoop loop;
  loop.run_sync([&]() -> Future<void> {
    std::vector<Future<int>> futures(4);
    WaitIterator<int> it(futures);
    loop.call_later(0.000, [&] { futures[3].set_result(84); });
    loop.call_later(0.005, [&] { futures[0].set_result(24); });
    loop.call_later(0.010, [&] { futures[1].set_exception(std::runtime_error("ZeroDivisionError")); });
    loop.call_later(0.015, [&] { futures[2].set_result(42); });
    std::vector<std::string> got;
    while (!it.done()) {
      try {
        int r = co_await it.next();
        got.push_back(std::to_string(*it.current_index()) + "=" + std::to_string(r));
      } catch (const std::runtime_error& e) {
        got.push_back(std::to_string(*it.current_index()) + "!" + e.what());
      }
    }
    EXPECT_EQ(got, (std::vector<std::string>{"3=84", "0=24", "1!ZeroDivisionError", "2=42"}));
  });
}

TEST(WaitIteratorTest, NextWhilePendingIsAnError) {
  IOLoop loop;
  loop.run_sync([]() -> Future<void> {
    WaitIterator<int> it({delayed(0.01, 1)});
    Future<int> n = it.next();
    EXPECT_THROW((void)it.next(), std::logic_error);
    EXPECT_EQ(co_await n, 1);
    EXPECT_TRUE(it.done());
  });
}

TEST(WaitIteratorTest, DestroyedIteratorIgnoresLaterCompletions) {
  IOLoop loop;
  Future<int> f;
  { WaitIterator<int> it({f}); }
  f.set_result(1);
  loop.run_sync([]() -> Future<void> { co_await moment; });
}

TEST(GenVersionTest, Generated) { EXPECT_STREQ(kVersion, "0.1.0"); }

}  // namespace
}  // namespace tornado::gen
