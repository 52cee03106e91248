// Future<T> as a coroutine type and awaitable: eager start, co_return, exceptions through
// co_await, scheduling of resumptions, frame lifetime (run these under --config=asan).
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "concurrent/future.h"
#include "concurrent/test_scheduler.h"

namespace tornado::concurrent {
namespace {

using testing::CaptureAppLog;
using testing::ManualScheduler;

Future<int> add_one(Future<int> in) { co_return co_await in + 1; }

Future<int> immediate(int v) { co_return v; }

Future<void> record(std::vector<std::string>* log, std::string name, Future<void> gate) {
  log->push_back(name + " start");
  co_await gate;
  log->push_back(name + " end");
}

TEST(CoroutineTest, CompletesSynchronouslyWithoutSuspension) {
  Future<int> f = immediate(3);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), 3);
}

TEST(CoroutineTest, StartsEagerlyAndSuspendsAtPendingFuture) {
  std::vector<std::string> log;
  Future<void> gate;
  Future<void> f = record(&log, "a", gate);
  EXPECT_EQ(log, (std::vector<std::string>{"a start"}));
  EXPECT_FALSE(f.done());
  gate.set_result();  // no scheduler: resumes inline
  EXPECT_EQ(log, (std::vector<std::string>{"a start", "a end"}));
  EXPECT_TRUE(f.done());
}

TEST(CoroutineTest, AwaitingDoneFutureDoesNotSuspend) {
  ManualScheduler scheduler;
  Future<int> in;
  in.set_result(1);
  Future<int> out = add_one(in);
  EXPECT_TRUE(out.done());
  EXPECT_EQ(out.result(), 2);
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(CoroutineTest, ResumptionIsScheduledOnTheCurrentScheduler) {
  ManualScheduler scheduler;
  Future<int> in;
  Future<int> out = add_one(in);
  in.set_result(10);
  EXPECT_FALSE(out.done()) << "resumption must not run inside set_result";
  EXPECT_EQ(scheduler.pending(), 1u);
  scheduler.run_all();
  EXPECT_EQ(out.result(), 11);
}

TEST(CoroutineTest, ResumptionOrderFollowsAwaitOrder) {
  ManualScheduler scheduler;
  std::vector<std::string> log;
  Future<void> gate;
  Future<void> a = record(&log, "a", gate);
  Future<void> b = record(&log, "b", gate);
  gate.set_result();
  scheduler.run_all();
  EXPECT_EQ(log, (std::vector<std::string>{"a start", "b start", "a end", "b end"}));
  EXPECT_TRUE(a.done() && b.done());
}

Future<int> fail_after(Future<void> gate, std::string message) {
  co_await gate;
  throw std::invalid_argument(message);
}

Future<int> level2(Future<void> gate) { co_return co_await fail_after(gate, "deep") * 2; }

Future<std::string> level1(Future<void> gate) {
  try {
    co_await level2(gate);
  } catch (const std::invalid_argument& e) {
    co_return std::string("caught ") + e.what();
  }
  co_return "not reached";
}

TEST(CoroutineTest, ExceptionsPropagateThroughAwaitChains) {
  ManualScheduler scheduler;
  Future<void> gate;
  Future<std::string> top = level1(gate);
  gate.set_result();
  scheduler.run_all();
  EXPECT_EQ(top.result(), "caught deep");

  Future<void> gate2;
  Future<int> mid = level2(gate2);
  gate2.set_result();
  scheduler.run_all();
  EXPECT_THROW(mid.result(), std::invalid_argument);
}

Future<void> throws_before_suspending() {
  throw std::runtime_error("sync failure");
  co_return;
}

TEST(CoroutineTest, SynchronousThrowGoesIntoTheFuture) {
  Future<void> f = throws_before_suspending();
  EXPECT_TRUE(f.done());
  EXPECT_THROW(f.result(), std::runtime_error);
}

Future<int> chain_depth(int n, Future<int> leaf) {
  if (n == 0) co_return co_await leaf;
  co_return co_await chain_depth(n - 1, leaf) + 1;
}

// The stack address at which a chain's top coroutine resumes after the leaf completes.
Future<int> top_of_chain(int depth, Future<int> leaf, std::uintptr_t* resumed_at) {
  int v = co_await chain_depth(depth, std::move(leaf));
  *resumed_at = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  co_return v;
}

std::uintptr_t resume_address(int depth, int expected_steps) {
  ManualScheduler scheduler;
  Future<int> leaf;
  std::uintptr_t resumed_at = 0;
  Future<int> top = top_of_chain(depth, leaf, &resumed_at);
  leaf.set_result(0);
  EXPECT_EQ(scheduler.run_all(), expected_steps);
  EXPECT_EQ(top.result(), depth);
  return resumed_at;
}

// A finishing coroutine resumes its lone awaiting coroutine directly (symmetric
// transfer), kMaxInlineTransfers levels per scheduler step, and the stack stays bounded
// whether or not the compiler made the transfer a tail call: the top resumes at about
// the same depth for a chain of 10 and of 3,000 levels.
TEST(CoroutineTest, DeepChainResumesInFewStepsWithBoundedStack) {
  using internal::kMaxInlineTransfers;
  const std::uintptr_t shallow = resume_address(10, 1);
  // 3,002 frames finish (leaf, 3,000 levels, top), the first resumed from the queue.
  const std::uintptr_t deep = resume_address(3000, 3002 / (kMaxInlineTransfers + 1) + 1);
  const auto distance = shallow > deep ? shallow - deep : deep - shallow;
  EXPECT_LT(distance, 32u * 1024) << "hand-offs between coroutines nested on the stack";
}

// A coroutine's future with a done-callback (or several awaiters) is not a lone
// coroutine waiter: those still run through the scheduler, in order.
TEST(CoroutineTest, FinishedCoroutineSchedulesOtherWaiters) {
  ManualScheduler scheduler;
  Future<int> leaf;
  Future<int> mid = chain_depth(1, leaf);
  int seen = -1;
  mid.add_done_callback([&seen](Future<int> f) { seen = f.result(); });
  leaf.set_result(0);
  EXPECT_EQ(scheduler.run_all(), 2);  // the level's resumption, then the callback
  EXPECT_EQ(seen, 1);
}

struct Tracker {
  explicit Tracker(int* alive) : alive(alive) { ++*alive; }
  Tracker(Tracker&& o) noexcept : alive(std::exchange(o.alive, nullptr)) {}
  ~Tracker() {
    if (alive) --*alive;
  }
  int* alive;
};

Future<void> spawned(int* alive, Future<void> gate, bool* finished) {
  Tracker t(alive);
  co_await gate;
  co_await gate;  // already done: no suspension
  *finished = true;
}

TEST(CoroutineTest, DroppedFutureCoroutineRunsToCompletion) {
  ManualScheduler scheduler;
  int alive = 0;
  bool finished = false;
  Future<void> gate;
  (void)spawned(&alive, gate, &finished);  // the caller drops the coroutine's Future
  EXPECT_EQ(alive, 1) << "frame must stay alive while suspended";
  gate.set_result();
  scheduler.run_all();
  EXPECT_TRUE(finished);
  EXPECT_EQ(alive, 0) << "frame must be freed when the coroutine finishes";
}

TEST(CoroutineTest, CancellingACoroutineFutureDoesNotStopIt) {
  int alive = 0;
  bool finished = false;
  {
    Future<void> gate;
    Future<void> f = spawned(&alive, gate, &finished);
    EXPECT_EQ(alive, 1);
    // Cancelling the coroutine's own future does not stop it (Tornado's gen.coroutine).
    EXPECT_TRUE(f.cancel());
    EXPECT_EQ(alive, 1);
    gate.set_result();  // no scheduler installed: resumes inline
  }
  EXPECT_TRUE(finished);
  EXPECT_EQ(alive, 0);
}

// Sets *flag when destroyed: shows whether a coroutine frame was freed.
struct FrameSentinel {
  bool* destroyed;
  ~FrameSentinel() { *destroyed = true; }
};

Future<void> wait_on(Future<void> gate_owner_drops, bool* destroyed, bool* finished) {
  FrameSentinel sentinel{destroyed};
  co_await std::move(gate_owner_drops);
  *finished = true;
}

TEST(CoroutineTest, FutureNobodyCanCompleteFreesItsWaitingCoroutine) {
  bool destroyed = false;
  bool finished = false;
  Future<void> outer;
  {
    Future<void> gate;
    outer = wait_on(gate, &destroyed, &finished);
    EXPECT_FALSE(destroyed);  // `gate` can still complete it
  }
  // The last owner of the awaited state is gone: no cycle keeps the frame alive.
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(finished);
  EXPECT_FALSE(outer.done());
}

TEST(CoroutineTest, AwaitedStateOutlivesItsLastOwnerUntilResumption) {
  ManualScheduler scheduler;
  bool destroyed = false;
  bool finished = false;
  Future<void> outer;
  {
    Future<void> gate;
    outer = wait_on(gate, &destroyed, &finished);
    gate.set_result();  // resumption queued; then the last handle goes away
  }
  EXPECT_FALSE(destroyed);
  scheduler.run_all();
  EXPECT_TRUE(finished);
  EXPECT_TRUE(destroyed);
  EXPECT_TRUE(outer.done());
}

TEST(CoroutineTest, QueuedResumptionDroppedWithSchedulerFreesFrame) {
  int alive = 0;
  bool finished = false;
  {
    ManualScheduler scheduler;
    Future<void> gate;
    (void)spawned(&alive, gate, &finished);
    gate.set_result();
    EXPECT_EQ(scheduler.pending(), 1u);
    // The scheduler is destroyed without running the resumption (a loop closed early).
  }
  EXPECT_FALSE(finished);
  EXPECT_EQ(alive, 0) << "an un-run resumption must destroy the suspended frame";
}

Future<void> dropped_and_failing(Future<void> gate) {
  co_await gate;
  throw std::runtime_error("spawned coroutine failed");
}

TEST(CoroutineTest, ExceptionFromDroppedCoroutineIsLogged) {
  CaptureAppLog log;
  ManualScheduler scheduler;
  Future<void> gate;
  (void)dropped_and_failing(gate);
  gate.set_result();
  scheduler.run_all();
  EXPECT_TRUE(log.contains("Future exception was never retrieved: spawned coroutine failed"))
      << log.str();
}

Future<int> awaits_cancelled(Future<int> f) {
  try {
    co_await f;
  } catch (const CancelledError&) {
    co_return -1;
  }
  co_return 0;
}

TEST(CoroutineTest, AwaitingCancelledFutureRaisesCancelledError) {
  ManualScheduler scheduler;
  Future<int> f;
  Future<int> out = awaits_cancelled(f);
  f.cancel();
  scheduler.run_all();
  EXPECT_EQ(out.result(), -1);
}

Future<int> returns_after(Future<void> gate, bool fail) {
  co_await gate;
  if (fail) throw std::runtime_error("after cancel");
  co_return 5;
}

TEST(CoroutineTest, CancelledCoroutineResultIsDiscardedAndLateExceptionLogged) {
  CaptureAppLog log;
  ManualScheduler scheduler;
  Future<void> gate;
  Future<int> ok = returns_after(gate, false);
  Future<int> bad = returns_after(gate, true);
  ok.cancel();
  bad.cancel();
  gate.set_result();
  scheduler.run_all();
  EXPECT_TRUE(ok.cancelled());
  EXPECT_TRUE(bad.cancelled());
  EXPECT_TRUE(log.contains("Exception after Future was cancelled: after cancel")) << log.str();
}

Future<std::unique_ptr<int>> make_box(Future<void> gate) {
  co_await gate;
  co_return std::make_unique<int>(99);
}

Future<int> unbox(Future<void> gate) {
  std::unique_ptr<int> p = co_await make_box(gate);  // rvalue: moved out
  co_return *p;
}

TEST(CoroutineTest, MoveOnlyResultsThroughRvalueAwait) {
  ManualScheduler scheduler;
  Future<void> gate;
  Future<int> f = unbox(gate);
  gate.set_result();
  scheduler.run_all();
  EXPECT_EQ(f.result(), 99);
}

Future<int> read_twice(Future<std::string> shared) {
  const std::string& a = co_await shared;  // lvalue: a reference to the shared result
  std::string b = co_await shared;
  co_return static_cast<int>(a.size() + b.size());
}

TEST(CoroutineTest, LvalueAwaitSharesTheResult) {
  Future<std::string> s;
  s.set_result("abc");
  Future<int> f = read_twice(s);
  EXPECT_EQ(f.result(), 6);
  EXPECT_EQ(s.result(), "abc");
}

Future<void> void_chain(Future<void> gate, int* counter) {
  co_await gate;
  ++*counter;
  co_await immediate(1);
  ++*counter;
}

TEST(CoroutineTest, VoidCoroutines) {
  ManualScheduler scheduler;
  int counter = 0;
  Future<void> gate;
  Future<void> f = void_chain(gate, &counter);
  gate.set_result();
  scheduler.run_all();
  EXPECT_EQ(counter, 2);
  EXPECT_NO_THROW(f.result());
}

TEST(CoroutineTest, LambdaCoroutine) {
  auto coro = [](Future<int> in) -> Future<int> { co_return co_await in * 3; };
  Future<int> in;
  Future<int> out = coro(in);
  in.set_result(4);
  EXPECT_EQ(out.result(), 12);
}

// How `in` ended, seen through settled(): "result N", "exception", or "cancelled".
Future<std::string> outcome_of(Future<int> in) {
  co_await in.settled();
  if (in.cancelled()) co_return "cancelled";
  if (in.exception()) co_return "exception";
  co_return "result " + std::to_string(in.result());
}

TEST(CoroutineTest, SettledWaitsWithoutThrowing) {
  ManualScheduler scheduler;
  CaptureAppLog log;
  Future<int> ok, failed, cancelled;
  Future<std::string> a = outcome_of(ok);
  Future<std::string> b = outcome_of(failed);
  Future<std::string> c = outcome_of(cancelled);
  EXPECT_FALSE(a.done()) << "settled() must wait for a pending future";
  ok.set_result(7);
  failed.set_exception(std::runtime_error("refused"));
  cancelled.cancel();
  scheduler.run_all();
  // A throwing await_resume would have put the exception in b and c instead.
  EXPECT_EQ(a.result(), "result 7");
  EXPECT_EQ(b.result(), "exception");
  EXPECT_EQ(c.result(), "cancelled");
  EXPECT_EQ(outcome_of(ok).result(), "result 7") << "a done future: no suspension";
}

TEST(CoroutineTest, ExceptionSeenThroughSettledIsNotLoggedAsUnretrieved) {
  ManualScheduler scheduler;
  CaptureAppLog log;
  {
    Future<int> failed;
    Future<std::string> seen = outcome_of(failed);
    failed.set_exception(std::runtime_error("refused"));
    scheduler.run_all();
    EXPECT_EQ(seen.result(), "exception");
  }
  EXPECT_FALSE(log.contains("never retrieved")) << log.str();
}

}  // namespace
}  // namespace tornado::concurrent
