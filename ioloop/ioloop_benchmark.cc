// IOLoop throughput: callbacks through add_callback (same thread and from another
// thread), timers scheduled and fired or churned, coroutine round trips and chains, and
// a round trip between two loops on two threads. bench/core_vs_tornado runs the same
// loops in Python Tornado and prints the ratios.
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

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
BENCHMARK(BM_AddCallback)->Arg(10000)->UseRealTime();

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
BENCHMARK(BM_CoroutineResumeRoundTrip)->Arg(10000)->UseRealTime();

// call_later + remove_timeout pairs while 100k other timers are pending: the heap's
// cost at a realistic size (cancellations must not pile up). Pairs/s.
void BM_TimerChurnWith100kPending(benchmark::State& state) {
  IOLoop loop;
  std::vector<TimeoutHandle> pending;
  for (int i = 0; i < 100000; ++i) pending.push_back(loop.call_later(3600 + i, [] {}));
  for (auto _ : state) {
    loop.remove_timeout(loop.call_later(1800, [] {}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerChurnWith100kPending)->UseRealTime();

Future<int> chain(int depth, Future<int> gate) {
  if (depth == 0) co_return co_await std::move(gate);
  co_return co_await chain(depth - 1, std::move(gate)) + 1;
}

// A 1,000-deep chain of coroutines suspended on one future, completed from a callback:
// every level resumes its caller through the loop. Chains/s.
void BM_CoroutineChain1000(benchmark::State& state) {
  IOLoop loop;
  for (auto _ : state) {
    int depth = loop.run_sync([&loop]() -> Future<int> {
      Future<int> gate;
      loop.add_callback([gate] { gate.set_result(0); });
      co_return co_await chain(1000, gate);
    });
    benchmark::DoNotOptimize(depth);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CoroutineChain1000)->UseRealTime();

// Ping-pong between two loops on two threads through add_callback: round trips/s.
void BM_CrossThreadRoundTrip(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  IOLoop* remote = nullptr;
  std::atomic<bool> remote_ready{false};
  std::thread remote_thread([&] {
    IOLoop loop;
    remote = &loop;
    remote_ready.store(true);
    loop.start();
  });
  while (!remote_ready.load()) std::this_thread::yield();
  IOLoop loop;
  for (auto _ : state) {
    int trips = 0;
    std::function<void()> ping = [&] {
      remote->add_callback([&] {
        loop.add_callback([&] {
          if (++trips == n) {
            loop.stop();
          } else {
            ping();
          }
        });
      });
    };
    loop.add_callback(ping);
    loop.start();
  }
  remote->add_callback([remote] { remote->stop(); });
  remote_thread.join();
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_CrossThreadRoundTrip)->Arg(1000)->UseRealTime();

}  // namespace
}  // namespace tornado::ioloop
