// Executors and run_on_executor (Tornado's concurrent_test.py RunOnExecutorTest), with a
// manual Scheduler standing in for the loop; ioloop_test covers them with a real IOLoop.
#include "concurrent/executor.h"

#include <atomic>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "concurrent/test_scheduler.h"

namespace tornado::concurrent {
namespace {

using testing::ManualScheduler;

TEST(ThreadPoolExecutorTest, ResultArrivesOnTheSubmittingThread) {
  ManualScheduler scheduler;
  ThreadPoolExecutor pool(2);
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id worker_thread;
  Future<int> f = pool.submit([&] {
    worker_thread = std::this_thread::get_id();
    return 6 * 7;
  });
  std::thread::id callback_thread;
  f.add_done_callback([&] { callback_thread = std::this_thread::get_id(); });
  scheduler.wait_for_remote(1);
  EXPECT_FALSE(f.done()) << "the result must wait for the owning thread";
  scheduler.run_all();
  ASSERT_TRUE(f.done());
  EXPECT_EQ(f.result(), 42);
  EXPECT_NE(worker_thread, loop_thread);
  EXPECT_EQ(callback_thread, loop_thread);
}

TEST(ThreadPoolExecutorTest, ExceptionsTravelToTheFuture) {
  ManualScheduler scheduler;
  ThreadPoolExecutor pool(1);
  Future<void> f = pool.submit([] { throw std::length_error("worker failed"); });
  scheduler.wait_for_remote(1);
  scheduler.run_all();
  EXPECT_THROW(f.result(), std::length_error);
}

TEST(ThreadPoolExecutorTest, ManyTasksManyThreads) {
  ManualScheduler scheduler;
  ThreadPoolExecutor pool(4);
  constexpr int kTasks = 200;
  std::vector<Future<int>> futures;
  for (int i = 0; i < kTasks; ++i) futures.push_back(pool.submit([i] { return i * i; }));
  scheduler.wait_for_remote(kTasks);
  scheduler.run_all();
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(futures[i].result(), i * i);
  EXPECT_LE(pool.num_threads(), 4);
  EXPECT_GE(pool.num_threads(), 1);
}

TEST(ThreadPoolExecutorTest, CancelledFutureIgnoresLateResult) {
  ManualScheduler scheduler;
  ThreadPoolExecutor pool(1);
  std::latch release{1};
  Future<int> f = pool.submit([&] {
    release.wait();
    return 1;
  });
  EXPECT_TRUE(f.cancel());
  release.count_down();
  scheduler.wait_for_remote(1);
  scheduler.run_all();
  EXPECT_TRUE(f.cancelled());
}

TEST(ThreadPoolExecutorTest, ShutdownRunsQueuedWorkThenRefusesNewWork) {
  ManualScheduler scheduler;
  ThreadPoolExecutor pool(1);
  std::atomic<int> ran{0};
  std::vector<Future<void>> futures;
  for (int i = 0; i < 10; ++i) futures.push_back(pool.submit([&] { ++ran; }));
  pool.shutdown(/*wait=*/true);
  EXPECT_EQ(ran.load(), 10);
  EXPECT_THROW((void)pool.submit([] { return 0; }), std::runtime_error);
  scheduler.run_all();
  for (auto& f : futures) EXPECT_TRUE(f.done());
}

TEST(ThreadPoolExecutorTest, SubmitWithoutSchedulerIsAClearError) {
  ASSERT_EQ(Scheduler::current(), nullptr);
  ThreadPoolExecutor pool(1);
  EXPECT_THROW((void)pool.submit([] { return 0; }), std::logic_error);
}

TEST(ThreadPoolExecutorTest, ResultForAClosedLoopIsDropped) {
  ThreadPoolExecutor pool(1);
  std::latch release{1};
  auto payload = std::make_shared<int>(1);
  std::weak_ptr<int> weak = payload;
  {
    ManualScheduler scheduler;
    (void)pool.submit([&release, payload = std::move(payload)] {
      release.wait();
      return *payload;
    });
  }  // the "loop" closes while the task runs
  release.count_down();
  pool.shutdown(true);
  EXPECT_TRUE(weak.expired());
}

TEST(DummyExecutorTest, RunsInlineWithoutScheduler) {
  DummyExecutor executor;
  Future<std::string> f = executor.submit([] { return std::string("now"); });
  ASSERT_TRUE(f.done());
  EXPECT_EQ(f.result(), "now");
  Future<void> g = dummy_executor().submit([] { throw std::runtime_error("x"); });
  EXPECT_THROW(g.result(), std::runtime_error);
}

// RunOnExecutorTest: the default `executor_` member, another member, and awaiting it.
class Object {
 public:
  Future<int> f() { return run_on_executor(this, &Object::f_sync); }
  Future<int> g(int x) { return run_on_executor<&Object::other_>(this, &Object::times, x); }
  Future<void> nothing() { return run_on_executor(this, &Object::no_result); }
  int square(int x) const { return x * x; }

  std::unique_ptr<ThreadPoolExecutor> executor_ = std::make_unique<ThreadPoolExecutor>(1);
  ThreadPoolExecutor other_{1};

 private:
  int f_sync() { return 42; }
  int times(int x) const { return x * factor_; }
  void no_result() { ++calls_; }
  int factor_ = 3;
  int calls_ = 0;
};

TEST(RunOnExecutorTest, DefaultExecutorMember) {
  ManualScheduler scheduler;
  Object o;
  Future<int> f = o.f();
  scheduler.wait_for_remote(1);
  scheduler.run_all();
  EXPECT_EQ(f.result(), 42);
}

TEST(RunOnExecutorTest, NamedExecutorMemberWithArguments) {
  ManualScheduler scheduler;
  Object o;
  Future<int> f = o.g(5);
  Future<void> v = o.nothing();
  scheduler.wait_for_remote(2);
  scheduler.run_all();
  EXPECT_EQ(f.result(), 15);
  EXPECT_NO_THROW(v.result());
}

Future<int> await_executor(Object* o) { co_return co_await o->f() + 1; }

TEST(RunOnExecutorTest, AsyncAwait) {
  ManualScheduler scheduler;
  Object o;
  Future<int> f = await_executor(&o);
  scheduler.wait_for_remote(1);
  scheduler.run_all();
  EXPECT_EQ(f.result(), 43);
}

TEST(RunOnExecutorTest, ExplicitExecutor) {
  ManualScheduler scheduler;
  ThreadPoolExecutor pool(1);
  Object o;
  Future<int> f = run_on_executor_with(pool, &o, &Object::square, 9);
  scheduler.wait_for_remote(1);
  scheduler.run_all();
  EXPECT_EQ(f.result(), 81);
}

}  // namespace
}  // namespace tornado::concurrent
