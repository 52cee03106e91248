// The per-thread coroutine frame pool: reuse within a size class, large frames and other
// threads, and frames of real coroutines coming back to the pool.
#include "concurrent/frame_pool.h"

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "concurrent/future.h"
#include "concurrent/test_scheduler.h"

namespace tornado::concurrent {
namespace {

using internal::allocate_frame;
using internal::deallocate_frame;
using internal::kFramePooling;

TEST(FramePoolTest, FreedFrameIsReusedForTheSameSizeClass) {
  void* a = allocate_frame(1100);
  std::memset(a, 0xab, 1100);  // the whole frame is writable
  deallocate_frame(a, 1100);
  void* b = allocate_frame(1090);  // same 64-byte class
  // Under ASan/TSan the pool is off (plain new/delete) and reuse is the allocator's choice.
  if (kFramePooling) {
    EXPECT_EQ(a, b);
  }
  void* c = allocate_frame(1200);  // another class: not the frame above
  EXPECT_NE(b, c);
  deallocate_frame(b, 1090);
  deallocate_frame(c, 1200);
}

TEST(FramePoolTest, LargeFramesAndManyFramesRoundTrip) {
  std::vector<void*> frames;
  for (int i = 0; i < 200; ++i) frames.push_back(allocate_frame(64 + i * 40));  // up to ~8 KiB
  for (int i = 0; i < 200; ++i) std::memset(frames[i], i, 64 + i * 40);
  for (int i = 0; i < 200; ++i) deallocate_frame(frames[i], 64 + i * 40);
}

TEST(FramePoolTest, ManySmallFramesFreedTogetherAreAllReused) {
  // 500 connections' worth of small states closing at once, then as many opening: each
  // comes back from the pool (a count limit of 32 per class kept only 32 of them).
  std::vector<void*> first;
  for (int i = 0; i < 500; ++i) first.push_back(allocate_frame(100));
  for (void* f : first) deallocate_frame(f, 100);
  std::vector<void*> second;
  for (int i = 0; i < 500; ++i) second.push_back(allocate_frame(100));
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  if (kFramePooling) {  // off under ASan/TSan: plain new/delete
    EXPECT_EQ(first, second);
  }
  for (void* f : second) deallocate_frame(f, 100);
}

TEST(FramePoolTest, FramesMayBeFreedOnAnotherThread) {
  void* f = allocate_frame(300);
  std::thread t([f] { deallocate_frame(f, 300); });  // kept by that thread's pool, freed at exit
  t.join();
  void* g = allocate_frame(300);
  deallocate_frame(g, 300);
}

Future<int> add_one(Future<int> f) {
  int v = co_await f;
  co_return v + 1;
}

TEST(FramePoolTest, CoroutineFramesComeBackToThePool) {
  testing::ManualScheduler scheduler;
  // Many suspended coroutines at once, then all resumed and finished, twice: the second
  // round runs on recycled frames.
  for (int round = 0; round < 2; ++round) {
    std::vector<Future<int>> inputs(100), outputs;
    for (auto& in : inputs) outputs.push_back(add_one(in));
    for (int i = 0; i < 100; ++i) inputs[i].set_result(i);
    scheduler.run_all();
    for (int i = 0; i < 100; ++i) EXPECT_EQ(outputs[i].result(), i + 1);
  }
}

}  // namespace
}  // namespace tornado::concurrent
