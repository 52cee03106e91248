// Micro-benchmarks of Future and coroutine resumption on a manual scheduler (no loop):
// the cost the concurrent layer adds on top of the IOLoop. bench/core_vs_tornado
// compares BM_AwaitReadyFuture with Python Tornado.
#include <benchmark/benchmark.h>

#include "concurrent/future.h"
#include "concurrent/test_scheduler.h"

namespace tornado::concurrent {
namespace {

void BM_FutureCreateSetResult(benchmark::State& state) {
  for (auto _ : state) {
    Future<int> f;
    f.set_result(1);
    benchmark::DoNotOptimize(f.result());
  }
}
BENCHMARK(BM_FutureCreateSetResult);

void BM_DoneCallbackScheduled(benchmark::State& state) {
  testing::ManualScheduler scheduler;
  int sum = 0;
  for (auto _ : state) {
    Future<int> f;
    f.add_done_callback([&sum](Future<int> g) { sum += g.result(); });
    f.set_result(1);
    scheduler.run_all();
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_DoneCallbackScheduled);

Future<int> awaiter(Future<int> in) { co_return co_await in; }

// A coroutine that suspends on a pending future, is resumed through the scheduler and
// completes: one full suspend/resume round trip plus the coroutine's own frame.
void BM_CoroutineSuspendResume(benchmark::State& state) {
  testing::ManualScheduler scheduler;
  for (auto _ : state) {
    Future<int> in;
    Future<int> out = awaiter(in);
    in.set_result(1);
    scheduler.run_all();
    benchmark::DoNotOptimize(out.result());
  }
}
BENCHMARK(BM_CoroutineSuspendResume);

Future<int> ready_chain(int n) {
  if (n == 0) co_return 0;
  co_return co_await ready_chain(n - 1) + 1;
}

void BM_CoroutineSynchronousCall(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ready_chain(1).result());
}
BENCHMARK(BM_CoroutineSynchronousCall);

Future<int> await_ready_many(Future<int> ready, int n) {
  int sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await ready;
  co_return sum;
}

// `co_await` of a future that is already done (no suspension): awaits/s.
void BM_AwaitReadyFuture(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Future<int> ready;
  ready.set_result(1);
  for (auto _ : state) benchmark::DoNotOptimize(await_ready_many(ready, n).result());
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_AwaitReadyFuture)->Arg(10000)->UseRealTime();

}  // namespace
}  // namespace tornado::concurrent
