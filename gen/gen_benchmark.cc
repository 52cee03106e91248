// Benchmarks for tornado::gen: multi over 1000 futures, WaitIterator, moment.
#include <vector>

#include <benchmark/benchmark.h>

#include "concurrent/future.h"
#include "gen/gen.h"
#include "ioloop/ioloop.h"

namespace {

using tornado::concurrent::Future;
using tornado::ioloop::IOLoop;
namespace gen = tornado::gen;

// multi over n pending futures completed one by one from a loop callback, awaited by a
// coroutine: creation, n done-callbacks, the result vector and the resumption.
void BM_MultiPending(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  IOLoop loop;
  for (auto _ : state) {
    long sum = loop.run_sync([&]() -> Future<long> {
      std::vector<Future<int>> fs(n);
      loop.add_callback([fs] {
        for (int i = 0; i < static_cast<int>(fs.size()); ++i) fs[i].set_result(i);
      });
      std::vector<int> r = co_await gen::multi(fs);
      long s = 0;
      for (int v : r) s += v;
      co_return s;
    });
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_MultiPending)->Arg(1000);

// multi over n futures that are already done: no scheduling at all.
void BM_MultiDone(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<Future<int>> fs(n);
  for (int i = 0; i < n; ++i) fs[i].set_result(i);
  for (auto _ : state) {
    Future<std::vector<int>> m = gen::multi(fs);
    benchmark::DoNotOptimize(m.result().data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_MultiDone)->Arg(1000);

// WaitIterator over n futures completed from a callback.
void BM_WaitIterator(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  IOLoop loop;
  for (auto _ : state) {
    long sum = loop.run_sync([&]() -> Future<long> {
      std::vector<Future<int>> fs(n);
      gen::WaitIterator<int> it(fs);
      loop.add_callback([fs] {
        for (int i = 0; i < static_cast<int>(fs.size()); ++i) fs[i].set_result(i);
      });
      long s = 0;
      while (!it.done()) s += co_await it.next();
      co_return s;
    });
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_WaitIterator)->Arg(1000);

// co_await gen::moment: one loop iteration round trip.
void BM_Moment(benchmark::State& state) {
  IOLoop loop;
  const int n = 1000;
  for (auto _ : state) {
    loop.run_sync([&]() -> Future<void> {
      for (int i = 0; i < n; ++i) co_await gen::moment;
    });
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Moment);

}  // namespace
