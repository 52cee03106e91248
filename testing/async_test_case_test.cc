// Tests of AsyncTestCase and ASYNC_TEST_F (Tornado's tornado/test/testing_test.py:
// AsyncTestCaseTest, LeakTest, GenTest). Failures the fixture must report are observed
// with gtest-spi's ScopedFakeTestPartResultReporter; testing_failures_test runs whole
// failing tests end to end.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gen/gen.h"
#include "gtest/gtest.h"
#include "testing/testing.h"

namespace tornado::testing {
namespace {

using concurrent::Future;
using ioloop::IOLoop;

// Sets an environment variable for a scope (Tornado's set_environ).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Records the failures reported on this thread while alive.
class CaptureFailures {
 public:
  CaptureFailures()
      : reporter_(::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD,
                  &results_) {}
  std::vector<::testing::TestPartResult> results() const {
    std::vector<::testing::TestPartResult> out;
    for (int i = 0; i < results_.size(); ++i) out.push_back(results_.GetTestPartResult(i));
    return out;
  }

 private:
  ::testing::TestPartResultArray results_;
  ::testing::ScopedFakeTestPartResultReporter reporter_;
};

Future<void> never() { return Future<void>(); }

using AsyncTestCaseTest = AsyncTestCase;

TEST_F(AsyncTestCaseTest, LoopIsFreshAndCurrent) {
  ASSERT_NE(io_loop(), nullptr);
  EXPECT_EQ(IOLoop::current(/*instance=*/false), io_loop());
  EXPECT_FALSE(io_loop()->closed());
  EXPECT_EQ(io_loop()->pending_timers(), 0u);
}

TEST_F(AsyncTestCaseTest, WaitTimeout) {
  // The default timeout (5 s) leaves room for a stop 10 ms away.
  io_loop()->call_later(0.01, [this] { stop(); });
  wait();

  // A timeout passed to wait().
  io_loop()->call_later(1, [this] { stop(); });
  try {
    wait(0.01);
    ADD_FAILURE() << "wait did not time out";
  } catch (const AsyncTestFailure& e) {
    EXPECT_STREQ(e.what(), "Async operation timed out after 0.01 seconds");
  }

  // A timeout from the environment.
  io_loop()->call_later(1, [this] { stop(); });
  ScopedEnv env("ASYNC_TEST_TIMEOUT", "0.02");
  EXPECT_DOUBLE_EQ(get_async_test_timeout(), 0.02);
  EXPECT_THROW(wait(), AsyncTestFailure);
}

TEST_F(AsyncTestCaseTest, SubsequentWaitCallsClearTheFirstTimeout) {
  io_loop()->call_later(0, [this] { stop(); });
  wait(0.1);
  // Enough time for this wait, but not if the first wait's deadline still applied.
  io_loop()->call_later(0.2, [this] { stop(); });
  wait(0.4);
}

TEST_F(AsyncTestCaseTest, StopValueIsReturnedByWait) {
  io_loop()->add_callback([this] { stop(42); });
  EXPECT_EQ(wait_for<int>(), 42);
  io_loop()->add_callback([this] { stop(std::string("second")); });
  EXPECT_EQ(std::any_cast<std::string>(wait()), "second");
  io_loop()->add_callback([this] { stop(); });
  EXPECT_FALSE(wait().has_value());
}

TEST_F(AsyncTestCaseTest, StopBeforeWaitReturnsAtOnce) {
  stop(1);
  EXPECT_EQ(wait_for<int>(0.01), 1);
}

TEST_F(AsyncTestCaseTest, WaitWithConditionRestartsTheLoop) {
  int stops = 0;
  for (int i = 0; i < 3; ++i) {
    io_loop()->call_later(0.001 * i, [this, &stops] {
      ++stops;
      stop();
    });
  }
  wait([&stops] { return stops == 3; });
  EXPECT_EQ(stops, 3);
}

TEST_F(AsyncTestCaseTest, StopFromAnotherThreadThroughAddCallback) {
  std::thread other([this] { io_loop()->add_callback([this] { stop(7); }); });
  EXPECT_EQ(wait_for<int>(), 7);
  other.join();
}

TEST_F(AsyncTestCaseTest, ExceptionInCallbackIsRethrownByWait) {
  io_loop()->add_callback([] { throw std::runtime_error("boom in callback"); });
  try {
    wait();
    ADD_FAILURE() << "wait did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom in callback");
  }
}

TEST_F(AsyncTestCaseTest, ExceptionInCoroutineCallbackIsRethrownByWait) {
  io_loop()->add_callback([]() -> Future<void> {
    co_await gen::sleep(0);
    throw std::runtime_error("boom in coroutine");
  });
  EXPECT_THROW(wait(), std::runtime_error);
}

// Tornado's LeakTest.test_leaked_coroutine: a coroutine still waiting at teardown is
// destroyed quietly.
TEST_F(AsyncTestCaseTest, LeakedCoroutineIsDestroyedAtTeardown) {
  io_loop()->add_callback([]() -> Future<void> { co_await never(); });
  io_loop()->add_callback([this] { stop(); });
  wait();
}

TEST_F(AsyncTestCaseTest, HandlerFdsAreClosedByTeardownNotReported) {
  const int fd = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  io_loop()->add_handler(fd, [](int, std::uint32_t) {}, IOLoop::READ);
  // TearDown's close(all_fds=true) closes it, so the leak check has nothing to say.
}

// Leaves work behind; the next test must not see it (tests run in declaration order).
bool g_leftover_ran = false;
TEST_F(AsyncTestCaseTest, SubsequentTestNotAffected1LeavesWorkBehind) {
  io_loop()->call_later(0.05, [] { g_leftover_ran = true; });
  io_loop()->add_callback([this] {
    stop();
    io_loop()->add_callback([] { g_leftover_ran = true; });
  });
  wait();
  EXPECT_FALSE(g_leftover_ran);
}
TEST_F(AsyncTestCaseTest, SubsequentTestNotAffected2SeesAFreshLoop) {
  EXPECT_EQ(io_loop()->pending_timers(), 0u);
  io_loop()->call_later(0.1, [this] { stop(); });
  wait();
  EXPECT_FALSE(g_leftover_ran);
}

// The leak check and the teardown rethrow, observed by intercepting TearDown's failures.
class TeardownReportTest : public AsyncTestCase {
 protected:
  void TearDown() override {
    {
      CaptureFailures capture;
      AsyncTestCase::TearDown();
      results_ = capture.results();
    }
    if (leaked_fd_ >= 0) close(leaked_fd_);
    ASSERT_EQ(results_.size(), expected_.size());
    for (std::size_t i = 0; i < results_.size(); ++i) {
      EXPECT_TRUE(results_[i].nonfatally_failed());
      EXPECT_NE(std::string(results_[i].message()).find(expected_[i]), std::string::npos)
          << results_[i].message();
    }
  }
  int leaked_fd_ = -1;
  std::vector<std::string> expected_;
  std::vector<::testing::TestPartResult> results_;
};

TEST_F(TeardownReportTest, LeakedFdIsReported) {
  leaked_fd_ = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(leaked_fd_, 0);
  expected_ = {"File descriptors opened during the test are still open at teardown: fd " +
               std::to_string(leaked_fd_) + " (anon_inode:[eventfd])"};
}

TEST_F(TeardownReportTest, LeakedSocketFromBindUnusedPortIsReported) {
  auto [fd, port] = bind_unused_port();
  leaked_fd_ = fd;
  EXPECT_GT(port, 0);
  expected_ = {"fd " + std::to_string(fd) + " (socket:["};
}

TEST_F(TeardownReportTest, FdLeakCheckCanBeTurnedOff) {
  leaked_fd_ = eventfd(0, EFD_CLOEXEC);
  check_fd_leaks_ = false;
}

TEST_F(TeardownReportTest, UnrethrownCallbackExceptionFailsAtTeardown) {
  io_loop()->add_callback([] { throw std::runtime_error("late boom"); });
  io_loop()->run_sync([] {});
  expected_ = {"Exception in a loop callback during the test (not rethrown by wait()): late boom"};
}

TEST_F(TeardownReportTest, CleanTestReportsNothing) {
  io_loop()->add_callback([this] { stop(); });
  wait();
}

// Tornado's GenTest: TearDown checks that every body ran to its end.
class GenTest : public AsyncTestCase {
 protected:
  void TearDown() override {
    EXPECT_TRUE(finished_);
    AsyncTestCase::TearDown();
  }
  // Runs `body` as ASYNC_TEST_F would, returning the failures it reported.
  template <typename F>
  std::vector<::testing::TestPartResult> run_async(const char* name, std::optional<double> timeout, F body) {
    CaptureFailures capture;
    run_async_test_(name, timeout, std::move(body), __FILE__, __LINE__);
    return capture.results();
  }
  bool finished_ = false;
};

ASYNC_TEST_F(GenTest, Sync) {
  finished_ = true;
  co_return;
}

ASYNC_TEST_F(GenTest, Async) {
  co_await gen::sleep(0);
  EXPECT_EQ(IOLoop::current(false), io_loop());
  finished_ = true;
}

ASYNC_TEST_F_TIMEOUT(GenTest, OwnTimeoutLongerThanBody, 1) {
  co_await gen::sleep(0.1);
  finished_ = true;
}

ASYNC_TEST_F(GenTest, CoAssertPassing) {
  co_await gen::sleep(0);
  CO_ASSERT_TRUE(true);
  CO_ASSERT_FALSE(false);
  CO_ASSERT_EQ(1 + 1, 2);
  CO_ASSERT_NE(1, 2);
  CO_ASSERT_LT(1, 2);
  CO_ASSERT_LE(2, 2);
  CO_ASSERT_GT(3, 2);
  CO_ASSERT_GE(3, 3);
  CO_ASSERT_STREQ("a", "a");
  CO_ASSERT_STRNE("a", "b");
  CO_ASSERT_DOUBLE_EQ(0.5, 0.25 * 2);
  finished_ = true;
}

Future<void> times_out() { co_await gen::sleep(1); }

TEST_F(GenTest, Timeout) {
  auto results = run_async("GenTest.Timeout", 0.1, [] { return times_out(); });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].fatally_failed());
  EXPECT_STREQ(results[0].message(), "GenTest.Timeout timed out after 0.1s");
  finished_ = true;
}

TEST_F(GenTest, DefaultTimeoutFromEnvironment) {
  ScopedEnv env("ASYNC_TEST_TIMEOUT", "0.1");
  auto results = run_async("GenTest.Env", std::nullopt, [] { return times_out(); });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_STREQ(results[0].message(), "GenTest.Env timed out after 0.1s");
  finished_ = true;
}

TEST_F(GenTest, ExplicitTimeoutWinsOverEnvironment) {
  ScopedEnv env("ASYNC_TEST_TIMEOUT", "0.05");
  auto results = run_async("GenTest.Explicit", 1, [] { return gen::sleep(0.2); });
  EXPECT_EQ(results.size(), 0u);
  finished_ = true;
}

TEST_F(GenTest, ExceptionInBodyFails) {
  auto results = run_async("GenTest.Throws", std::nullopt, []() -> Future<void> {
    co_await gen::sleep(0);
    throw std::runtime_error("body went wrong");
  });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].fatally_failed());
  EXPECT_STREQ(results[0].message(),
               "GenTest.Throws failed: exception escaped the test body: body went wrong");
  finished_ = true;
}

TEST_F(GenTest, ExceptionInCallbackFails) {
  auto results = run_async("GenTest.Callback", std::nullopt, [this]() -> Future<void> {
    io_loop()->add_callback([] { throw std::runtime_error("callback went wrong"); });
    return gen::sleep(0.01);
  });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_STREQ(results[0].message(),
               "GenTest.Callback failed: exception in a loop callback: callback went wrong");
  finished_ = true;
}

bool g_after_co_assert = false;
Future<void> co_assert_fails() {
  co_await gen::sleep(0);
  CO_ASSERT_EQ(1, 2) << "one is not two";
  g_after_co_assert = true;
}

TEST_F(GenTest, CoAssertEndsTheBody) {
  auto results = run_async("GenTest.CoAssert", std::nullopt, [] { return co_assert_fails(); });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].fatally_failed());
  EXPECT_NE(std::string(results[0].message()).find("one is not two"),
            std::string::npos);
  EXPECT_FALSE(g_after_co_assert);
  finished_ = true;
}

// The README's example, verbatim.
class TimerTest : public AsyncTestCase {};

TEST_F(TimerTest, StopAndWait) {
  io_loop()->call_later(0.01, [this] { stop(42); });
  EXPECT_EQ(wait_for<int>(), 42);
}

ASYNC_TEST_F(TimerTest, Coroutine) {
  concurrent::Future<int> f;
  io_loop()->call_later(0.01, [f] { f.set_result(7); });
  CO_ASSERT_EQ(co_await f, 7);
}

TEST(GetAsyncTestTimeout, DefaultAndEnvironment) {
  {
    ScopedEnv env("ASYNC_TEST_TIMEOUT", "2.5");
    EXPECT_DOUBLE_EQ(get_async_test_timeout(), 2.5);
  }
  {
    ScopedEnv env("ASYNC_TEST_TIMEOUT", "not a number");
    EXPECT_DOUBLE_EQ(get_async_test_timeout(), 5);
  }
  unsetenv("ASYNC_TEST_TIMEOUT");
  EXPECT_DOUBLE_EQ(get_async_test_timeout(), 5);
}

}  // namespace
}  // namespace tornado::testing
