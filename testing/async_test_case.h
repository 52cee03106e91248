// tornado::testing, Tornado's tornado.testing (the loop-driven core): AsyncTestCase, a
// GoogleTest fixture giving each test a fresh IOLoop with Tornado's stop()/wait();
// ASYNC_TEST_F, Tornado's @gen_test for coroutine test bodies; CO_ASSERT_* assertions
// for those bodies; get_async_test_timeout().
//
// Note: inside namespace tornado, `testing` names this namespace; GoogleTest's is
// `::testing`.
#pragma once

#include <any>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include "absl/functional/any_invocable.h"
#include "concurrent/future.h"
#include "gtest/gtest.h"
#include "ioloop/ioloop.h"

namespace tornado::testing {

// The default timeout of wait() and ASYNC_TEST_F in seconds: the ASYNC_TEST_TIMEOUT
// environment variable if it parses as a number, else 5 (Tornado's
// get_async_test_timeout). Read on every call.
double get_async_test_timeout();

// Thrown by AsyncTestCase::wait() when its timeout expires ("Async operation timed out
// after 0.01 seconds"); uncaught, GoogleTest reports it as the test's failure (Tornado
// raises the TestCase's failureException).
class AsyncTestFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An IOLoop whose handle_callback_exception can be redirected, so that AsyncTestCase sees
// exceptions escaping callbacks, handlers and timers (Tornado's AsyncTestCase catches
// them through the loop's exception handler). Without a handler it logs as IOLoop does.
class TestIOLoop : public ioloop::IOLoop {
 public:
  using ExceptionHandler = std::function<void(std::exception_ptr)>;
  using ioloop::IOLoop::IOLoop;
  // Sends callback exceptions to `handler` (nullptr: back to logging). Loop thread only.
  void set_exception_handler(ExceptionHandler handler) { handler_ = std::move(handler); }
  void handle_callback_exception(std::exception_ptr e) override;

 private:
  ExceptionHandler handler_;
};

// A GoogleTest fixture for IOLoop-based code (Tornado's AsyncTestCase).
//
// SetUp creates a fresh loop with get_new_ioloop() and makes it current; TearDown closes
// it with close(all_fds=true), restores the thread's previous current loop, and fails the
// test if
//   - an exception escaped a loop callback and was not rethrown by wait() (a TestIOLoop,
//     the default, sends them to the fixture; Tornado rethrows them the same way), or
//   - a file descriptor opened during the test (the loop's own excluded) is still open:
//     the failure names each fd and what it refers to (set check_fd_leaks_ = false to
//     turn this off, e.g. for tests that open process-wide resources lazily).
//
// For the manual style, callbacks call stop(value) and the test calls wait(), which runs
// the loop until stop() and returns the value. For coroutine tests use ASYNC_TEST_F.
// stop() and wait() are for the test's thread; other threads reach the fixture through
// io_loop()->add_callback([this] { stop(); }).
class AsyncTestCase : public ::testing::Test {
 protected:
  AsyncTestCase();
  ~AsyncTestCase() override;

  void SetUp() override;
  void TearDown() override;

  // Creates the loop for one test (Tornado's get_new_ioloop). Override to configure it
  // (e.g. IOLoop::Options::time_func); return a TestIOLoop to keep callback exceptions
  // failing the test (a plain IOLoop only logs them).
  virtual std::unique_ptr<ioloop::IOLoop> get_new_ioloop();

  // The test's loop (Tornado's self.io_loop); valid between SetUp and TearDown.
  ioloop::IOLoop* io_loop() const { return io_loop_.get(); }

  // Makes one pending (or the next) wait() return `value` (Tornado's stop(_arg)); stops
  // the loop if wait() is running it. Loop thread only.
  void stop(std::any value = {});

  // Runs the loop until stop() is called and returns the value given to stop (Tornado's
  // wait). With `condition`, the loop is restarted after each stop() until condition()
  // is true. Throws AsyncTestFailure ("Async operation timed out after T seconds") when
  // `timeout` seconds (default get_async_test_timeout(); 0 means none) pass first, and
  // rethrows the first exception that escaped a loop callback meanwhile. If stop() was
  // already called, returns at once.
  std::any wait(std::optional<double> timeout = std::nullopt);
  std::any wait(std::function<bool()> condition, std::optional<double> timeout = std::nullopt);
  // wait() with the value cast to T (std::bad_any_cast if stop was given another type).
  template <typename T>
  T wait_for(std::optional<double> timeout = std::nullopt) {
    return std::any_cast<T>(wait(timeout));
  }

  // Turns the leaked-fd check of TearDown off (true by default).
  bool check_fd_leaks_ = true;

 public:
  // Used by ASYNC_TEST_F: runs `body` with run_sync under `timeout` (default
  // get_async_test_timeout()) and turns a timeout, an exception from the body or an
  // exception that escaped a loop callback into a fatal failure at file:line naming
  // `test_name`. Not for direct use.
  void run_async_test_(const char* test_name, std::optional<double> timeout,
                       absl::AnyInvocable<concurrent::Future<void>()> body, const char* file,
                       int line);

 private:
  void handle_exception(std::exception_ptr e);
  void rethrow();

  std::unique_ptr<ioloop::IOLoop> io_loop_;
  ioloop::IOLoop* previous_loop_ = nullptr;
  std::set<int> fds_before_;
  bool stopped_ = false;
  bool running_ = false;
  std::exception_ptr failure_;
  std::any stop_value_;
  ioloop::TimeoutHandle timeout_;
};

// The open file descriptors of this process, from /proc/self/fd (diagnostics and the
// leak check).
std::set<int> open_fds();
// What `fd` refers to ("socket:[123]", "/dev/null"), from /proc/self/fd; "?" if unknown.
std::string describe_fd(int fd);

}  // namespace tornado::testing

// Defines a coroutine test (Tornado's @gen_test): the body that follows is a coroutine
// returning Future<void> (use co_await, co_return) run on the fixture's loop with
// run_sync under get_async_test_timeout() seconds. On timeout the test fails with
// "Fixture.Name timed out after 5s"; an exception escaping the body fails it with its
// message. EXPECT_* work in the body; ASSERT_* do not compile there (they `return`): use
// the CO_ASSERT_* variants below, which co_return. Fixture must derive from
// AsyncTestCase; TEST_F and ASYNC_TEST_F tests may share a fixture.
#define ASYNC_TEST_F(Fixture, Name) TORNADO_ASYNC_TEST_F_(Fixture, Name, ::std::nullopt)

// ASYNC_TEST_F with its own timeout in seconds (Tornado's @gen_test(timeout=...)); the
// explicit timeout wins over ASYNC_TEST_TIMEOUT, as in Tornado.
#define ASYNC_TEST_F_TIMEOUT(Fixture, Name, seconds) \
  TORNADO_ASYNC_TEST_F_(Fixture, Name, ::std::optional<double>(seconds))

#define TORNADO_ASYNC_TEST_BASE_(Fixture, Name) Fixture##_##Name##_TornadoAsyncBase_

#define TORNADO_ASYNC_TEST_F_(Fixture, Name, timeout)                                      \
  class TORNADO_ASYNC_TEST_BASE_(Fixture, Name) : public Fixture {                         \
   protected:                                                                              \
    ::tornado::concurrent::Future<void> tornado_async_test_body_();                        \
  };                                                                                       \
  GTEST_TEST_(Fixture, Name, TORNADO_ASYNC_TEST_BASE_(Fixture, Name),                      \
              ::testing::internal::GetTypeId<Fixture>()) {                                 \
    this->run_async_test_(#Fixture "." #Name, timeout,                                     \
                          [this] { return this->tornado_async_test_body_(); }, __FILE__,   \
                          __LINE__);                                                       \
  }                                                                                        \
  ::tornado::concurrent::Future<void> TORNADO_ASYNC_TEST_BASE_(Fixture,                    \
                                                               Name)::tornado_async_test_body_()

// Fatal assertions for coroutine bodies: as ASSERT_*, but they end the coroutine with
// co_return (a coroutine cannot `return`). Usable in any coroutine returning Future<void>.
#define TORNADO_CO_FATAL_FAILURE_(message) \
  co_return GTEST_MESSAGE_(message, ::testing::TestPartResult::kFatalFailure)

#define CO_FAIL() TORNADO_CO_FATAL_FAILURE_("Failed")
#define CO_ASSERT_TRUE(condition) \
  GTEST_TEST_BOOLEAN_(condition, #condition, false, true, TORNADO_CO_FATAL_FAILURE_)
#define CO_ASSERT_FALSE(condition) \
  GTEST_TEST_BOOLEAN_(!(condition), #condition, true, false, TORNADO_CO_FATAL_FAILURE_)
#define TORNADO_CO_ASSERT_PRED2_(pred, a, b) GTEST_PRED_FORMAT2_(pred, a, b, TORNADO_CO_FATAL_FAILURE_)
#define CO_ASSERT_EQ(a, b) TORNADO_CO_ASSERT_PRED2_(::testing::internal::EqHelper::Compare, a, b)
#define CO_ASSERT_NE(a, b) TORNADO_CO_ASSERT_PRED2_(::testing::internal::CmpHelperNE, a, b)
#define CO_ASSERT_LT(a, b) TORNADO_CO_ASSERT_PRED2_(::testing::internal::CmpHelperLT, a, b)
#define CO_ASSERT_LE(a, b) TORNADO_CO_ASSERT_PRED2_(::testing::internal::CmpHelperLE, a, b)
#define CO_ASSERT_GT(a, b) TORNADO_CO_ASSERT_PRED2_(::testing::internal::CmpHelperGT, a, b)
#define CO_ASSERT_GE(a, b) TORNADO_CO_ASSERT_PRED2_(::testing::internal::CmpHelperGE, a, b)
#define CO_ASSERT_STREQ(a, b) TORNADO_CO_ASSERT_PRED2_(::testing::internal::CmpHelperSTREQ, a, b)
#define CO_ASSERT_STRNE(a, b) TORNADO_CO_ASSERT_PRED2_(::testing::internal::CmpHelperSTRNE, a, b)
#define CO_ASSERT_DOUBLE_EQ(a, b) \
  TORNADO_CO_ASSERT_PRED2_(::testing::internal::CmpHelperFloatingPointEQ<double>, a, b)
