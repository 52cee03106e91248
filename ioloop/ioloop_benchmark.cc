// IOLoop throughput: callbacks through add_callback (same thread and from another
// thread), timers scheduled and fired, and a coroutine suspend/resume round trip.
#include <atomic>
#include <thread>

#include <benchmark/benchmark.h>

#include "concurrent/future.h"
#include "ioloop/ioloop.h"

namespace tornado::ioloop {
namespace {

// N callbacks queued from the loop thread, then run: callbacks/s.
void BM_AddCallback(benchmark::State& state) {
  IOLoop loop;
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    int count = 0;
    loop.add_callback([&] {
      for (int i = 0; i < n; ++i) {
        loop.add_callback([&] {
          if (++count == n) loop.stop();
        });
      }
    });
    loop.start();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_AddCallback)->Arg(10000);

// N callbacks handed over by another thread while the loop runs: cross-thread callbacks/s.
void BM_AddCallbackFromOtherThread(benchmark::State& state) {
  IOLoop loop;
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    int count = 0;
    std::thread producer;
    loop.add_callback([&] {
      producer = std::thread([&] {
        for (int i = 0; i < n; ++i) {
          loop.add_callback([&] {
            if (++count == n) loop.stop();
          });
        }
      });
    });
    loop.start();
    producer.join();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_AddCallbackFromOtherThread)->Arg(10000)->UseRealTime();

// N timers (due now, in shuffled deadline order) scheduled and fired: timers/s.
void BM_TimersScheduledAndFired(benchmark::State& state) {
  IOLoop loop;
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    int count = 0;
    const double base = loop.time() - 1;
    for (int i = 0; i < n; ++i) {
      loop.call_at(base + ((i * 7919) % n) * 1e-9, [&] {
        if (++count == n) loop.stop();
      });
    }
    loop.start();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_TimersScheduledAndFired)->Arg(10000);

// Timers added then cancelled (the heap compaction path): add+remove pairs/s.
void BM_TimerAddRemove(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    TimeoutHandle h = loop.call_later(3600, [] {});
    loop.remove_timeout(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerAddRemove);

Future<void> ping_pong(IOLoop* loop, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    Future<void> f;
    loop->add_callback([f] { f.set_result(); });
    co_await f;  // suspend; the callback completes f; the resumption is a loop callback
  }
}

// Coroutine round trips: suspend on a Future, complete it from a loop callback, resume.
void BM_CoroutineResumeRoundTrip(benchmark::State& state) {
  IOLoop loop;
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) loop.run_sync([&] { return ping_pong(&loop, n); });
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_CoroutineResumeRoundTrip)->Arg(10000);

}  // namespace
}  // namespace tornado::ioloop
