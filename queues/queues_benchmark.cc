// Benchmarks for tornado::queues: a producer/consumer pair of coroutines on one IOLoop.
#include <benchmark/benchmark.h>

#include "concurrent/future.h"
#include "ioloop/ioloop.h"
#include "queues/queues.h"

namespace {

using tornado::concurrent::Future;
using tornado::ioloop::IOLoop;
using tornado::queues::Queue;

Future<void> produce(Queue<long>* q, long n) {
  for (long i = 0; i < n; ++i) co_await q->put(i);
}

Future<long> consume(Queue<long>* q, long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i) {
    sum += co_await q->get();
    q->task_done();
  }
  co_return sum;
}

// A producer and a consumer coroutine pass `n` items through a queue of maxsize
// state.range(1) (0: unbounded); reports items per second.
void BM_ProducerConsumer(benchmark::State& state) {
  const long n = state.range(0);
  IOLoop loop;
  for (auto _ : state) {
    Queue<long> q(state.range(1));
    long sum = loop.run_sync([&]() -> Future<long> {
      Future<long> c = consume(&q, n);
      co_await produce(&q, n);
      co_await q.join();
      co_return co_await c;
    });
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ProducerConsumer)->Args({10000, 1})->Args({10000, 100})->Args({10000, 0});

// put_nowait + get_nowait with no waiting: the queue's own overhead.
void BM_PutGetNowait(benchmark::State& state) {
  Queue<long> q;
  long i = 0;
  for (auto _ : state) {
    q.put_nowait(i++);
    benchmark::DoNotOptimize(q.get_nowait());
    q.task_done();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PutGetNowait);

}  // namespace
