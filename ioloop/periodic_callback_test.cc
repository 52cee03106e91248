// PeriodicCallback, following Tornado's TestPeriodicCallbackMath (driven by a loop whose
// clock the test controls) and TestPeriodicCallbackAsync (the real clock).
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "concurrent/test_scheduler.h"
#include "ioloop/ioloop.h"

namespace tornado::ioloop {
namespace {

using concurrent::testing::CaptureAppLog;

// Runs a PeriodicCallback on a loop with a fake clock starting at 1000s. Each call
// records the (fake) time it starts at, then "takes" durations[i] seconds by moving the
// clock; afterwards the clock jumps to the next scheduled call. Returns the start times
// (Tornado's simulate_calls).
std::vector<double> simulate_calls(std::vector<double> durations, double callback_time_ms,
                                   double jitter = 0) {
  double now = 1000;
  IOLoop loop(IOLoop::Options{.time_func = [&now] { return now; }});
  std::vector<double> calls;
  std::unique_ptr<PeriodicCallback> pc;
  auto jump_to_next = [&] { now = pc->next_timeout(); };
  pc = std::make_unique<PeriodicCallback>(
      [&] {
        calls.push_back(now);
        now += durations[calls.size() - 1];
        if (calls.size() == durations.size()) {
          pc->stop();
          loop.stop();
        } else {
          loop.add_callback(jump_to_next);
        }
      },
      callback_time_ms, jitter);
  loop.add_callback([&] {
    pc->start();
    loop.add_callback(jump_to_next);
  });
  // Guard in fake time: far beyond any expected call.
  loop.call_at(1e9, [&] {
    ADD_FAILURE() << "simulation did not finish";
    loop.stop();
  });
  loop.start();
  return calls;
}

TEST(PeriodicCallbackMathTest, Basic) {
  EXPECT_EQ(simulate_calls({0, 0, 0, 0, 0}, 10000),
            (std::vector<double>{1010, 1020, 1030, 1040, 1050}));
}

TEST(PeriodicCallbackMathTest, OverrunSkipsMissedRuns) {
  const std::vector<double> durations = {9, 9, 10, 11, 20, 20, 35, 35, 0, 0, 0};
  EXPECT_EQ(simulate_calls(durations, 10000),
            (std::vector<double>{1010, 1020, 1030, 1050, 1070, 1100, 1130, 1170, 1210, 1220, 1230}));
}

TEST(PeriodicCallbackMathTest, ClockBackwards) {
  EXPECT_EQ(simulate_calls({-2, -1, -3, -2, 0}, 10000),
            (std::vector<double>{1010, 1020, 1030, 1040, 1050}));
  EXPECT_EQ(simulate_calls({-100, 0, 0}, 10000), (std::vector<double>{1010, 1020, 1030}));
}

TEST(PeriodicCallbackMathTest, NextDeadline) {
  EXPECT_DOUBLE_EQ(PeriodicCallback::next_deadline(1000, 1000, 10), 1010);
  EXPECT_DOUBLE_EQ(PeriodicCallback::next_deadline(1010, 1035, 10), 1040);
  EXPECT_DOUBLE_EQ(PeriodicCallback::next_deadline(1010, 1005, 10), 1020);
}

TEST(PeriodicCallbackMathTest, JitterStaysWithinBounds) {
  const double jitter = 0.5;
  std::vector<double> calls = simulate_calls(std::vector<double>(200, 0), 10000, jitter);
  ASSERT_EQ(calls.size(), 200u);
  double prev = 1000;
  bool varied = false;
  for (double t : calls) {
    const double gap = t - prev;
    EXPECT_GE(gap, 10 * (1 - jitter / 2) - 1e-9);
    EXPECT_LE(gap, 10 * (1 + jitter / 2) + 1e-9);
    if (std::abs(gap - 10) > 1e-6) varied = true;
    prev = t;
  }
  EXPECT_TRUE(varied) << "jitter never changed a period";
}

TEST(PeriodicCallbackTest, RejectsNonPositivePeriod) {
  EXPECT_THROW(PeriodicCallback([] {}, 0), std::invalid_argument);
  EXPECT_THROW(PeriodicCallback([] {}, -5), std::invalid_argument);
}

TEST(PeriodicCallbackTest, PeriodicPlain) {
  IOLoop loop;
  int count = 0;
  std::unique_ptr<PeriodicCallback> pc;
  pc = std::make_unique<PeriodicCallback>(
      [&] {
        if (++count == 3) {
          pc->stop();
          loop.stop();
        }
      },
      std::chrono::milliseconds(10));
  loop.add_callback([&] {
    pc->start();
    EXPECT_TRUE(pc->is_running());
  });
  loop.call_later(10, [&] {
    ADD_FAILURE() << "timed out";
    loop.stop();
  });
  loop.start();
  EXPECT_EQ(count, 3);
  EXPECT_FALSE(pc->is_running());
}

TEST(PeriodicCallbackTest, CoroutineCallbackIsAwaitedBeforeNextRun) {
  // test_periodic_coro / test_periodic_async: the next run is scheduled only after the
  // Future returned by the callback completes, so runs never overlap.
  double now = 0;
  IOLoop loop(IOLoop::Options{.time_func = [&now] { return now; }});
  std::vector<double> starts;
  int in_flight = 0;
  std::unique_ptr<PeriodicCallback> pc;
  auto body = [&]() -> Future<void> {
    EXPECT_EQ(in_flight, 0);
    ++in_flight;
    starts.push_back(now);
    Future<void> done;
    // The callback's work "takes" 25s of a 10s period.
    loop.add_callback([&, done] {
      now += 25;
      done.set_result();
    });
    co_await done;
    --in_flight;
    if (starts.size() == 3) {
      pc->stop();
      loop.stop();
    } else {
      // The PeriodicCallback schedules its next run once this Future's completion has
      // been delivered (next iteration); jump the clock to it one iteration later.
      loop.add_callback([&] { loop.add_callback([&] { now = pc->next_timeout(); }); });
    }
  };
  pc = std::make_unique<PeriodicCallback>(body, 10000);
  loop.add_callback([&] {
    pc->start();
    loop.add_callback([&] { now = pc->next_timeout(); });
  });
  loop.start();
  EXPECT_EQ(starts, (std::vector<double>{10, 40, 70}));
}

TEST(PeriodicCallbackTest, ExceptionIsLoggedAndCallbackKeepsRunning) {
  CaptureAppLog log;
  IOLoop loop;
  int count = 0;
  std::unique_ptr<PeriodicCallback> pc;
  pc = std::make_unique<PeriodicCallback>(
      [&] {
        if (++count == 3) {
          pc->stop();
          loop.stop();
        }
        throw std::runtime_error("periodic boom");
      },
      1);
  loop.add_callback([&] { pc->start(); });
  loop.call_later(10, [&] {
    ADD_FAILURE() << "timed out";
    loop.stop();
  });
  loop.start();
  EXPECT_EQ(count, 3);
  EXPECT_TRUE(log.contains("Exception in callback: periodic boom")) << log.str();
}

TEST(PeriodicCallbackTest, StopCancelsTheTimerAndDestructorStops) {
  IOLoop loop;
  int count = 0;
  loop.add_callback([&] {
    PeriodicCallback pc([&] { ++count; }, 1);
    pc.start();
    EXPECT_EQ(loop.pending_timers(), 2u);  // ours and the stop timer below
    // Destroyed here: its timer must go with it.
  });
  loop.call_later(0.02, [&] { loop.stop(); });
  loop.start();
  EXPECT_EQ(count, 0);
  EXPECT_EQ(loop.pending_timers(), 0u);
}

TEST(PeriodicCallbackTest, RestartAfterStop) {
  IOLoop loop;
  int count = 0;
  std::unique_ptr<PeriodicCallback> pc;
  pc = std::make_unique<PeriodicCallback>(
      [&] {
        ++count;
        if (count == 1) {
          pc->stop();
          pc->start();
        } else if (count == 3) {
          pc->stop();
          loop.stop();
        }
      },
      1);
  loop.add_callback([&] { pc->start(); });
  loop.call_later(10, [&] {
    ADD_FAILURE() << "timed out";
    loop.stop();
  });
  loop.start();
  EXPECT_EQ(count, 3);
  EXPECT_EQ(loop.pending_timers(), 1u);  // only the guard
}

}  // namespace
}  // namespace tornado::ioloop
