// IOLoop behaviour, following Tornado's tornado/test/ioloop_test.py (TestIOLoop,
// TestIOLoopCurrent, TestIOLoopFutures, TestIOLoopRunSync) plus the C++-specific rules
// (thread-safe add_callback, timer heap compaction, coroutine scheduling).
#include "ioloop/ioloop.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "concurrent/executor.h"
#include "concurrent/test_scheduler.h"
#include "ioloop/version.h"

namespace tornado::ioloop {
namespace {

using concurrent::testing::CaptureAppLog;

// Runs the loop until something stops it; a guard timer fails the test (instead of
// hanging) if nothing does within `seconds`.
void run_guarded(IOLoop& loop, double seconds = 10) {
  TimeoutHandle guard = loop.call_later(seconds, [&loop] {
    ADD_FAILURE() << "loop was not stopped within the guard time";
    loop.stop();
  });
  loop.start();
  loop.remove_timeout(guard);
}

struct SocketPair {
  SocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      throw std::runtime_error("socketpair");
    }
  }
  ~SocketPair() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  int fds[2] = {-1, -1};
};

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

class IOLoopTest : public ::testing::Test {
 protected:
  IOLoop loop;
};

TEST_F(IOLoopTest, AddCallbackWakesLoopBlockedOnFarTimer) {
  // Only a one-hour timer is pending: the add_callback from a timer callback must wake
  // the loop right away (test_add_callback_wakeup).
  bool called = false;
  loop.call_later(3600, [] {});
  loop.call_later(0, [&] {
    loop.add_callback([&] {
      called = true;
      loop.stop();
    });
  });
  run_guarded(loop);
  EXPECT_TRUE(called);
}

TEST_F(IOLoopTest, AddCallbackFromOtherThreadWakesLoop) {
  std::thread thread;
  loop.add_callback([&] { thread = std::thread([&] { loop.add_callback([&] { loop.stop(); }); }); });
  run_guarded(loop);
  thread.join();
}

TEST_F(IOLoopTest, AddTimeoutDuration) {
  bool fired = false;
  loop.add_timeout(std::chrono::microseconds(1), [&] {
    fired = true;
    loop.stop();
  });
  run_guarded(loop);
  EXPECT_TRUE(fired);
}

TEST_F(IOLoopTest, MultipleAddHandlerFails) {
  SocketPair sp;
  loop.add_handler(sp.fds[0], [](int, std::uint32_t) {}, IOLoop::READ);
  EXPECT_THROW(loop.add_handler(sp.fds[0], [](int, std::uint32_t) {}, IOLoop::READ), std::runtime_error);
  loop.remove_handler(sp.fds[0]);
}

TEST_F(IOLoopTest, RemoveWithoutAddIsANoop) {
  SocketPair sp;
  EXPECT_NO_THROW(loop.remove_handler(sp.fds[0]));
  EXPECT_THROW(loop.update_handler(sp.fds[0], IOLoop::READ), std::runtime_error);
}

TEST_F(IOLoopTest, ReadWhileWriteable) {
  // A writable socket registered for READ only must report READ, never WRITE.
  SocketPair sp;
  std::uint32_t seen = 0;
  loop.add_handler(sp.fds[0], [&](int fd, std::uint32_t events) {
    seen = events;
    char buf[16];
    EXPECT_EQ(::read(fd, buf, sizeof buf), 4);
    loop.stop();
  }, IOLoop::READ);
  loop.call_later(0.01, [&] { ASSERT_EQ(::write(sp.fds[1], "asdf", 4), 4); });
  run_guarded(loop);
  EXPECT_EQ(seen, IOLoop::READ);
  loop.remove_handler(sp.fds[0]);
}

TEST_F(IOLoopTest, UpdateHandlerSwitchesEvents) {
  SocketPair sp;
  std::vector<std::uint32_t> seen;
  loop.add_handler(sp.fds[0], [&](int fd, std::uint32_t events) {
    seen.push_back(events);
    if (seen.size() == 1) {
      loop.update_handler(fd, IOLoop::WRITE);
    } else {
      loop.update_handler(fd, IOLoop::NONE);
      loop.stop();
    }
  }, IOLoop::READ);
  ASSERT_EQ(::write(sp.fds[1], "x", 1), 1);
  run_guarded(loop);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], IOLoop::READ);
  EXPECT_EQ(seen[1], IOLoop::WRITE);
}

TEST_F(IOLoopTest, EdgeTriggeredHandlerHearsOfEachArrivalOnce) {
  // Unread bytes are reported once with EDGE (and again each time more arrive); without
  // it, every iteration reports them.
  SocketPair edge, level;
  int edge_calls = 0, level_calls = 0;
  loop.add_handler(edge.fds[0], [&](int, std::uint32_t events) {
    EXPECT_EQ(events, IOLoop::READ);
    ++edge_calls;
  }, IOLoop::READ | IOLoop::EDGE);
  loop.add_handler(level.fds[0], [&](int, std::uint32_t) { ++level_calls; }, IOLoop::READ);
  ASSERT_EQ(::write(edge.fds[1], "x", 1), 1);
  ASSERT_EQ(::write(level.fds[1], "x", 1), 1);
  // The level-triggered handler, which never reads, is called at every iteration.
  loop.call_later(0.01, [&] { ASSERT_EQ(::write(edge.fds[1], "y", 1), 1); });
  loop.call_later(0.05, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_EQ(edge_calls, 2);
  EXPECT_GT(level_calls, 2);
  loop.remove_handler(edge.fds[0]);
  loop.remove_handler(level.fds[0]);
}

// The fd numbers that this process's epoll instances watch ("tfd:" in /proc fdinfo).
std::set<int> fds_watched_by_epoll() {
  std::set<int> watched;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
    std::ifstream info(entry.path());
    std::string word;
    while (info >> word) {
      int fd;
      if (word == "tfd:" && info >> fd) watched.insert(fd);
    }
  }
  return watched;
}

TEST_F(IOLoopTest, RemoveHandlerBeforeCloseLeavesEdgeRegistrationsToTheClose) {
  SocketPair edge, level;
  bool called = false;
  loop.add_handler(edge.fds[0], [&](int, std::uint32_t) { called = true; },
                   IOLoop::READ | IOLoop::EDGE);
  loop.add_handler(level.fds[0], [&](int, std::uint32_t) { called = true; }, IOLoop::READ);
  // Duplicates keep both sockets open past the close, and with them any registration
  // that the loop did not remove itself.
  const int edge_dup = ::dup(edge.fds[0]);
  const int level_dup = ::dup(level.fds[0]);
  const int edge_fd = edge.fds[0], level_fd = level.fds[0];
  loop.remove_handler_before_close(edge_fd);
  loop.remove_handler_before_close(level_fd);
  ::close(std::exchange(edge.fds[0], edge_dup));
  ::close(std::exchange(level.fds[0], level_dup));
  const std::set<int> watched = fds_watched_by_epoll();
  EXPECT_TRUE(watched.contains(edge_fd)) << "no epoll_ctl: the close was to remove it";
  EXPECT_FALSE(watched.contains(level_fd)) << "level-triggered: removed by the loop";
  // The leftover registration still reports arrivals; the loop skips them.
  ASSERT_EQ(::write(edge.fds[1], "x", 1), 1);
  loop.call_later(0.02, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_FALSE(called);
}

TEST_F(IOLoopTest, PeerShutdownIsReportedAsRdhupWhenAskedFor) {
  SocketPair sp;
  std::uint32_t seen = 0;
  loop.add_handler(sp.fds[0], [&](int, std::uint32_t events) {
    seen = events;
    loop.stop();
  }, IOLoop::READ | IOLoop::RDHUP);
  ASSERT_EQ(::shutdown(sp.fds[1], SHUT_WR), 0);
  run_guarded(loop);
  EXPECT_EQ(seen, IOLoop::READ | IOLoop::RDHUP);
  loop.remove_handler(sp.fds[0]);
}

TEST_F(IOLoopTest, HangupIsReportedAsError) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  std::uint32_t seen = 0;
  loop.add_handler(p[0], [&](int, std::uint32_t events) {
    seen = events;
    loop.remove_handler(p[0]);
    loop.stop();
  }, IOLoop::READ);
  ::close(p[1]);
  run_guarded(loop);
  EXPECT_NE(seen & IOLoop::ERROR, 0u);
  ::close(p[0]);
}

TEST_F(IOLoopTest, RemoveHandlerFromHandler) {
  // Both ends readable in the same poll; whichever runs first removes the other, which
  // must then never be called (test_remove_handler_from_handler).
  SocketPair sp;
  ASSERT_EQ(::write(sp.fds[0], "abc", 3), 3);
  ASSERT_EQ(::write(sp.fds[1], "abc", 3), 3);
  std::vector<int> reads;
  auto handler = [&](int fd, std::uint32_t) {
    char buf[16];
    EXPECT_EQ(::read(fd, buf, sizeof buf), 3);
    reads.push_back(fd);
    loop.remove_handler(fd == sp.fds[0] ? sp.fds[1] : sp.fds[0]);
  };
  loop.add_handler(sp.fds[0], handler, IOLoop::READ);
  loop.add_handler(sp.fds[1], handler, IOLoop::READ);
  // Let a few iterations pass (level-triggered: a live handler would be called again).
  loop.add_callback([&] { loop.add_callback([&] { loop.add_callback([&] { loop.stop(); }); }); });
  run_guarded(loop);
  EXPECT_EQ(reads.size(), 1u);
  loop.remove_handler(reads.at(0));
}

TEST_F(IOLoopTest, CallbacksAHandlerQueuesRunBeforeTheNextHandler) {
  // Two fds ready in the same poll: what the first handler makes ready (its callback,
  // e.g. the coroutine waiting on its read) runs before the second handler, as nginx
  // handles each event to the end.
  SocketPair a, b;
  ASSERT_EQ(::write(a.fds[1], "x", 1), 1);
  ASSERT_EQ(::write(b.fds[1], "x", 1), 1);
  std::vector<std::string> order;
  auto handler = [&](int fd, std::uint32_t) {
    char c;
    EXPECT_EQ(::read(fd, &c, 1), 1);
    const std::string name = fd == a.fds[0] ? "a" : "b";
    order.push_back("handler " + name);
    loop.remove_handler(fd);
    loop.add_callback([&order, name] { order.push_back("callback " + name); });
  };
  loop.add_handler(a.fds[0], handler, IOLoop::READ);
  loop.add_handler(b.fds[0], handler, IOLoop::READ);
  loop.add_callback([&] { loop.add_callback([&] { loop.add_callback([&] { loop.stop(); }); }); });
  run_guarded(loop);
  ASSERT_EQ(order.size(), 4u);
  const std::string first = order[0].substr(8), second = first == "a" ? "b" : "a";
  EXPECT_EQ(order, (std::vector<std::string>{"handler " + first, "callback " + first,
                                             "handler " + second, "callback " + second}));
}

TEST_F(IOLoopTest, HandlerCanRemoveItself) {
  SocketPair sp;
  ASSERT_EQ(::write(sp.fds[1], "x", 1), 1);
  int calls = 0;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  loop.add_handler(sp.fds[0], [&, token = std::move(token)](int fd, std::uint32_t) {
    ++calls;
    loop.remove_handler(fd);  // destroys this very handler once it returns
    EXPECT_EQ(*token, 0);
    loop.add_callback([&] { loop.stop(); });
  }, IOLoop::READ);
  run_guarded(loop);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(weak.expired());
}

TEST_F(IOLoopTest, RemoveTimeoutAfterFire) {
  TimeoutHandle h = loop.call_later(0, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_NO_THROW(loop.remove_timeout(h));
  EXPECT_NO_THROW(loop.remove_timeout(TimeoutHandle()));
}

TEST_F(IOLoopTest, RemoveTimeoutFromTimeout) {
  // Two timers due in the same iteration: the first removes the second, which must not
  // run (test_remove_timeout_from_timeout).
  bool second_ran = false;
  TimeoutHandle second;
  const double when = loop.time();
  loop.call_at(when, [&] { loop.remove_timeout(second); });
  second = loop.call_at(when, [&] { second_ran = true; });
  loop.call_later(0.01, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_FALSE(second_ran);
}

TEST_F(IOLoopTest, TimeoutMethodsAllFireInOrder) {
  // test_timeout_with_arguments: every way of adding a timer, equal deadlines keep order.
  std::vector<int> results;
  loop.add_timeout(loop.time(), [&] { results.push_back(1); });
  loop.add_timeout(std::chrono::seconds(0), [&] { results.push_back(2); });
  loop.call_at(loop.time(), [&] { results.push_back(3); });
  loop.call_later(0, [&] { results.push_back(4); });
  loop.call_later(0, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_EQ(results, (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(IOLoopTest, TimersFireInDeadlineOrder) {
  std::vector<int> order;
  const double base = loop.time();
  const int delays_ms[] = {30, 10, 20, 0, 10, 25};
  for (int i = 0; i < 6; ++i) {
    loop.call_at(base + delays_ms[i] / 1000.0, [&, i] { order.push_back(i); });
  }
  loop.call_at(base + 0.05, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_EQ(order, (std::vector<int>{3, 1, 4, 2, 5, 0}));
}

TEST_F(IOLoopTest, RemovedTimerNeverRuns) {
  bool ran = false;
  TimeoutHandle h = loop.call_later(0, [&] { ran = true; });
  loop.remove_timeout(h);
  loop.remove_timeout(h);  // twice is fine
  loop.call_later(0.005, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_FALSE(ran);
  EXPECT_EQ(loop.pending_timers(), 0u);
}

TEST_F(IOLoopTest, StaleHandleDoesNotRemoveSlotReuser) {
  TimeoutHandle old = loop.call_later(3600, [] {});
  loop.remove_timeout(old);
  bool ran = false;
  loop.call_later(0, [&] { ran = true; });  // reuses the freed slot
  loop.remove_timeout(old);                 // must not cancel the new timer
  loop.call_later(0.005, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_TRUE(ran);
}

TEST_F(IOLoopTest, CancelledTimersDoNotPileUp) {
  // test_remove_timeout_cleanup, made strict: the heap must stay bounded while many
  // timers are added and cancelled, and live timers must survive compaction.
  std::vector<int> fired;
  for (int i = 0; i < 10; ++i) {
    loop.call_later(0.001 * i, [&, i] { fired.push_back(i); });
  }
  std::size_t max_heap = 0;
  for (int i = 0; i < 20000; ++i) {
    TimeoutHandle h = loop.call_later(3600, [] {});
    loop.remove_timeout(h);
    max_heap = std::max(max_heap, loop.timer_heap_size());
  }
  EXPECT_LE(max_heap, 10u + 2 * 513u);
  EXPECT_EQ(loop.pending_timers(), 10u);
  // Batch cancellation: 5000 live timers, then all cancelled.
  std::vector<TimeoutHandle> handles;
  for (int i = 0; i < 5000; ++i) handles.push_back(loop.call_later(3600, [] {}));
  for (TimeoutHandle h : handles) loop.remove_timeout(h);
  EXPECT_LE(loop.timer_heap_size(), 10u + 2 * 513u);
  loop.call_later(0.05, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(IOLoopTest, CallbacksRunInOrderAndNewOnesWaitForNextIteration) {
  std::vector<std::string> order;
  loop.add_callback([&] {
    order.push_back("a");
    loop.add_callback([&] {
      order.push_back("c (added by a)");
      loop.stop();
    });
  });
  loop.add_callback([&] { order.push_back("b"); });
  run_guarded(loop);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c (added by a)"}));
}

TEST_F(IOLoopTest, SelfReschedulingCallbackDoesNotStarveTimersOrIO) {
  int spins = 0;
  std::function<void()> spin = [&] {
    ++spins;
    loop.add_callback([&] { spin(); });
  };
  loop.add_callback([&] { spin(); });
  SocketPair sp;
  bool io = false;
  loop.add_handler(sp.fds[0], [&](int, std::uint32_t) {
    io = true;
    loop.remove_handler(sp.fds[0]);
  }, IOLoop::READ);
  ASSERT_EQ(::write(sp.fds[1], "x", 1), 1);
  loop.call_later(0.01, [&] { loop.stop(); });
  run_guarded(loop);
  EXPECT_TRUE(io);
  EXPECT_GT(spins, 1);
}

TEST_F(IOLoopTest, StopBeforeStartRunsOneIteration) {
  bool ran = false;
  loop.add_callback([&] { ran = true; });
  loop.stop();
  loop.start();  // returns after one iteration
  EXPECT_TRUE(ran);
  EXPECT_FALSE(loop.is_running());
}

TEST_F(IOLoopTest, StartIsNotReentrant) {
  bool got_exception = false;
  bool returned_from_start = false;
  loop.add_callback([&] {
    try {
      loop.start();
      returned_from_start = true;
    } catch (const std::runtime_error&) {
      got_exception = true;
    }
    loop.stop();
  });
  run_guarded(loop);
  EXPECT_TRUE(got_exception);
  EXPECT_FALSE(returned_from_start);
}

TEST_F(IOLoopTest, ExceptionInCallbackIsLoggedAndLoopContinues) {
  CaptureAppLog log;
  bool after = false;
  loop.add_callback([] { throw std::runtime_error("callback boom"); });
  loop.call_later(0, [] { throw std::logic_error("timer boom"); });
  loop.add_callback([&] {
    after = true;
    loop.call_later(0.001, [&] { loop.stop(); });
  });
  run_guarded(loop);
  EXPECT_TRUE(after);
  EXPECT_TRUE(log.contains("Exception in callback: callback boom")) << log.str();
  EXPECT_TRUE(log.contains("Exception in callback: timer boom")) << log.str();
}

TEST_F(IOLoopTest, ExceptionInHandlerIsLogged) {
  CaptureAppLog log;
  SocketPair sp;
  ASSERT_EQ(::write(sp.fds[1], "x", 1), 1);
  loop.add_handler(sp.fds[0], [&](int fd, std::uint32_t) {
    loop.remove_handler(fd);
    loop.add_callback([&] { loop.stop(); });
    throw std::runtime_error("handler boom");
  }, IOLoop::READ);
  run_guarded(loop);
  EXPECT_TRUE(log.contains("Exception in callback: handler boom")) << log.str();
}

Future<void> failing_coroutine(IOLoop* loop) {
  loop->add_callback([loop] { loop->stop(); });
  throw std::runtime_error("coroutine boom");
  co_return;
}

TEST_F(IOLoopTest, ExceptionFromCoroutineCallbackIsLogged) {
  // test_exception_logging_future / _native_coro: add_callback with a coroutine.
  CaptureAppLog log;
  loop.add_callback([&] { return failing_coroutine(&loop); });
  run_guarded(loop);
  EXPECT_TRUE(log.contains("Exception in callback: coroutine boom")) << log.str();
  EXPECT_FALSE(log.contains("never retrieved")) << log.str();
}

TEST_F(IOLoopTest, SpawnCallbackLogsExceptions) {
  CaptureAppLog log;
  loop.spawn_callback([] { throw std::runtime_error("spawned boom"); });
  loop.spawn_callback([&] { return failing_coroutine(&loop); });
  run_guarded(loop);
  EXPECT_TRUE(log.contains("Exception in callback: spawned boom")) << log.str();
  EXPECT_TRUE(log.contains("Exception in callback: coroutine boom")) << log.str();
}

class RecordingLoop : public IOLoop {
 public:
  void handle_callback_exception(std::exception_ptr e) override {
    try {
      std::rethrow_exception(e);
    } catch (const std::domain_error& ex) {
      caught = ex.what();
    }
    stop();
  }
  std::string caught;
};

TEST(IOLoopOverrideTest, HandleCallbackExceptionCanBeOverridden) {
  RecordingLoop loop;
  loop.add_callback([] { throw std::domain_error("divide by zero"); });
  run_guarded(loop);
  EXPECT_EQ(loop.caught, "divide by zero");
}

TEST(IOLoopCloseTest, CloseAllFdsClosesRegisteredFds) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  {
    IOLoop loop;
    loop.add_handler(p[0], [](int, std::uint32_t) {}, IOLoop::READ);
    loop.close(/*all_fds=*/true);
    EXPECT_TRUE(loop.closed());
  }
  EXPECT_FALSE(fd_is_open(p[0]));
  EXPECT_TRUE(fd_is_open(p[1]));
  ::close(p[1]);
}

TEST(IOLoopCloseTest, CloseWithoutAllFdsLeavesFdsOpen) {
  SocketPair sp;
  IOLoop loop;
  loop.add_handler(sp.fds[0], [](int, std::uint32_t) {}, IOLoop::READ);
  loop.close();
  EXPECT_TRUE(fd_is_open(sp.fds[0]));
  EXPECT_THROW(loop.start(), std::runtime_error);
}

TEST(IOLoopCloseTest, CloseDropsPendingWorkWithoutRunningIt) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  bool ran = false;
  IOLoop loop;
  loop.add_callback([&ran, token] { ran = true; });
  loop.call_later(0, [token] {});
  token.reset();
  loop.close();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(weak.expired());
}

TEST(IOLoopCloseTest, AddCallbackWhileClosingFromAnotherThread) {
  // test_add_callback_while_closing: another thread keeps adding callbacks while the
  // loop stops and closes; nothing crashes, late callbacks are dropped and destroyed.
  auto loop = std::make_unique<IOLoop>();
  std::latch started{1};
  std::atomic<bool> done{false};
  std::atomic<int> destroyed{0};
  struct Counted {
    std::atomic<int>* counter;
    explicit Counted(std::atomic<int>* c) : counter(c) {}
    Counted(Counted&& o) noexcept : counter(std::exchange(o.counter, nullptr)) {}
    ~Counted() {
      if (counter) ++*counter;
    }
  };
  IOLoop* raw = loop.get();
  std::shared_ptr<concurrent::RemoteScheduler> remote = loop->remote();
  std::thread adder([&] {
    started.wait();
    int added = 0;
    while (!done.load()) {
      remote->call_soon_threadsafe([c = Counted(&destroyed)] {});
      ++added;
    }
    // After close: refused and destroyed right here.
    EXPECT_FALSE(remote->call_soon_threadsafe([c = Counted(&destroyed)] {}));
    EXPECT_GT(added, 0);
  });
  raw->add_callback([&] {
    started.count_down();
    raw->call_later(0.01, [&] { raw->stop(); });
  });
  run_guarded(*raw);
  raw->close(true);
  done.store(true);
  adder.join();
  loop.reset();
  EXPECT_GT(destroyed.load(), 0);
}

TEST(IOLoopThreadsTest, AddCallbackFromManyThreads) {
  IOLoop loop;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  int count = 0;  // only touched on the loop thread
  std::vector<std::vector<int>> per_thread_order(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        loop.add_callback([&, t, i] {
          per_thread_order[t].push_back(i);
          if (++count == kThreads * kPerThread) loop.stop();
        });
      }
    });
  }
  run_guarded(loop, 30);
  for (auto& th : threads) th.join();
  EXPECT_EQ(count, kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(per_thread_order[t].size(), static_cast<size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) ASSERT_EQ(per_thread_order[t][i], i) << "FIFO per thread";
  }
}

TEST(IOLoopThreadsTest, LoopRunsOnAnotherThreadAndStopsFromHere) {
  // test_add_callback_from_signal_other_thread's scenario: start on one thread, stop from
  // another.
  IOLoop loop;
  std::latch running{1};
  std::thread runner([&] {
    loop.add_callback([&] { running.count_down(); });
    loop.start();
  });
  running.wait();
  loop.add_callback([&] { loop.stop(); });
  runner.join();
  loop.close();
}

TEST(IOLoopThreadsTest, StopIsThreadSafe) {
  IOLoop loop;
  std::latch running{1};
  std::thread runner([&] {
    loop.add_callback([&] { running.count_down(); });
    loop.start();
  });
  running.wait();
  loop.stop();
  runner.join();
}

TEST(IOLoopThreadsTest, LoopsCreatedAndClosedInManyThreads) {
  // test_init_close_race: loops created, run and closed concurrently in many threads.
  std::vector<std::thread> threads;
  std::atomic<int> total{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&total, t] {
      for (int i = 0; i < 20; ++i) {
        IOLoop* loop = IOLoop::current();
        total += loop->run_sync([&]() -> Future<int> {
          co_return co_await loop->run_in_executor(nullptr, [t] { return t; }) + 1;
        });
        loop->close(true);
        IOLoop::clear_current();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(total.load(), 20 * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8));
}

// --- current() -------------------------------------------------------------------------

TEST(IOLoopCurrentTest, CurrentIsCreatedOnDemandPerThread) {
  IOLoop::clear_current();
  IOLoop* a = IOLoop::current();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(IOLoop::current(), a);
  EXPECT_EQ(concurrent::Scheduler::current(), a);
  IOLoop* other = nullptr;
  std::thread([&] { other = IOLoop::current(); }).join();
  EXPECT_NE(other, a);
  EXPECT_NE(other, nullptr);
  IOLoop::clear_current();
  EXPECT_EQ(IOLoop::current(false), nullptr);
  EXPECT_EQ(concurrent::Scheduler::current(), nullptr);
}

TEST(IOLoopCurrentTest, NonCurrentLoopIsCurrentWhileRunning) {
  IOLoop::clear_current();
  IOLoop loop;
  EXPECT_EQ(IOLoop::current(false), nullptr);
  IOLoop* seen = nullptr;
  loop.add_callback([&] {
    seen = IOLoop::current();
    loop.stop();
  });
  run_guarded(loop);
  EXPECT_EQ(seen, &loop);
  EXPECT_EQ(IOLoop::current(false), nullptr);
  loop.close();
}

TEST(IOLoopCurrentTest, ForceCurrent) {
  IOLoop::clear_current();
  {
    IOLoop loop(IOLoop::Options{.make_current = true});
    EXPECT_EQ(IOLoop::current(false), &loop);
    EXPECT_THROW(IOLoop(IOLoop::Options{.make_current = true}), std::runtime_error);
    // A running loop restores the previous current loop when it returns.
    IOLoop other;
    other.add_callback([&] {
      EXPECT_EQ(IOLoop::current(), &other);
      other.stop();
    });
    run_guarded(other);
    EXPECT_EQ(IOLoop::current(false), &loop);
  }
  EXPECT_EQ(IOLoop::current(false), nullptr) << "destroying the current loop clears it";
}

TEST(IOLoopCurrentTest, ClearWithoutCurrent) {
  IOLoop::clear_current();
  EXPECT_NO_THROW(IOLoop::clear_current());
}

TEST(IOLoopCurrentTest, NestedLoopsAreRejected) {
  IOLoop outer;
  IOLoop inner;
  bool threw = false;
  outer.add_callback([&] {
    try {
      inner.start();
    } catch (const std::runtime_error&) {
      threw = true;
    }
    outer.stop();
  });
  run_guarded(outer);
  EXPECT_TRUE(threw);
}

// --- futures and executors -------------------------------------------------------------

TEST_F(IOLoopTest, AddFutureWithExecutorResult) {
  // test_add_future_threads: the callback runs on the loop thread.
  const auto loop_thread = std::this_thread::get_id();
  concurrent::ThreadPoolExecutor pool(1);
  std::thread::id worker, callback;
  loop.add_callback([&] {
    Future<int> f = loop.run_in_executor(&pool, [&] {
      worker = std::this_thread::get_id();
      return 7;
    });
    loop.add_future(f, [&](Future<int> done) {
      callback = std::this_thread::get_id();
      EXPECT_EQ(done.result(), 7);
      loop.stop();
    });
  });
  run_guarded(loop);
  EXPECT_NE(worker, loop_thread);
  EXPECT_EQ(callback, loop_thread);
}

TEST_F(IOLoopTest, AddFutureCallbackExceptionIsLogged) {
  CaptureAppLog log;
  Future<int> f;
  loop.add_future(f, [&](Future<int>) {
    loop.add_callback([&] { loop.stop(); });
    throw std::runtime_error("add_future callback boom");
  });
  loop.call_later(0, [&] { f.set_result(1); });
  run_guarded(loop);
  EXPECT_TRUE(log.contains("Exception in callback: add_future callback boom")) << log.str();
}

Future<int> executor_coroutine(IOLoop* loop) {
  int a = co_await loop->run_in_executor(nullptr, [] { return 20; });
  int b = co_await loop->run_in_executor(nullptr, [] { return 22; });
  co_return a + b;
}

TEST_F(IOLoopTest, RunInExecutorWithCoroutine) {
  // test_run_in_executor_native: the default executor, awaited from a coroutine.
  EXPECT_EQ(loop.run_sync([&] { return executor_coroutine(&loop); }, 10.0), 42);
}

class CountingExecutor : public concurrent::Executor {
 public:
  void shutdown(bool) override {}
  std::atomic<int> count{0};

 private:
  void execute(absl::AnyInvocable<void() &&> task) override {
    ++count;
    std::move(task)();
  }
  bool runs_inline() const override { return true; }
};

TEST_F(IOLoopTest, SetDefaultExecutor) {
  auto executor = std::make_shared<CountingExecutor>();
  loop.set_default_executor(executor);
  int v = loop.run_sync([&]() -> Future<int> {
    co_return co_await loop.run_in_executor(nullptr, [] { return 5; });
  });
  EXPECT_EQ(v, 5);
  EXPECT_EQ(executor->count.load(), 0) << "inline executors run in submit";
}

TEST_F(IOLoopTest, ExecutorResultForClosedLoopIsDropped) {
  concurrent::ThreadPoolExecutor pool(1);
  std::latch release{1};
  auto payload = std::make_shared<int>(1);
  std::weak_ptr<int> weak = payload;
  {
    IOLoop temp;
    temp.add_callback([&] {
      (void)temp.run_in_executor(&pool, [&release, payload = std::move(payload)] {
        release.wait();
        return *payload;
      });
      temp.stop();
    });
    temp.start();
  }
  release.count_down();
  pool.shutdown(true);
  EXPECT_TRUE(weak.expired());
}

// --- coroutines on the loop ------------------------------------------------------------

Future<int> sleep_then(IOLoop* loop, double seconds, int value) {
  Future<void> done;
  loop->call_later(seconds, [done] { done.set_result(); });
  co_await done;
  co_return value;
}

Future<int> chain(IOLoop* loop) {
  int a = co_await sleep_then(loop, 0.001, 1);
  int b = co_await sleep_then(loop, 0, 2);
  co_return a + b;
}

TEST_F(IOLoopTest, CoroutineChainResumesOnTheLoop) {
  EXPECT_EQ(loop.run_sync([&] { return chain(&loop); }), 3);
}

TEST_F(IOLoopTest, ResumptionIsAScheduledCallbackNotInline) {
  std::vector<std::string> order;
  Future<void> gate;
  auto waiter = [&]() -> Future<void> {
    co_await gate;
    order.push_back("resumed");
  };
  loop.run_sync([&] {
    Future<void> w = waiter();
    gate.set_result();
    order.push_back("after set_result");
    return w;
  });
  EXPECT_EQ(order, (std::vector<std::string>{"after set_result", "resumed"}));
}

Future<void> spawned_worker(IOLoop* loop, int* steps) {
  for (int i = 0; i < 3; ++i) {
    co_await sleep_then(loop, 0, i);
    ++*steps;
  }
  loop->stop();
}

TEST_F(IOLoopTest, DroppedCoroutineRunsToCompletionOnTheLoop) {
  int steps = 0;
  loop.add_callback([&] { (void)spawned_worker(&loop, &steps); });
  run_guarded(loop);
  EXPECT_EQ(steps, 3);
}

// --- run_sync (TestIOLoopRunSync) ------------------------------------------------------

TEST_F(IOLoopTest, RunSyncSyncResult) {
  EXPECT_EQ(loop.run_sync([] { return 42; }), 42);
  EXPECT_NO_THROW(loop.run_sync([] {}));
}

TEST_F(IOLoopTest, RunSyncSyncException) {
  EXPECT_THROW(loop.run_sync([]() -> int { throw std::out_of_range("sync"); }), std::out_of_range);
}

TEST_F(IOLoopTest, RunSyncAsyncResultAndException) {
  EXPECT_EQ(loop.run_sync([&] { return sleep_then(&loop, 0.001, 9); }), 9);
  auto failing = [&]() -> Future<std::string> {
    co_await sleep_then(&loop, 0, 0);
    throw std::invalid_argument("async");
  };
  EXPECT_THROW(loop.run_sync(failing), std::invalid_argument);
}

TEST_F(IOLoopTest, RunSyncMakesLoopCurrent) {
  IOLoop* seen = nullptr;
  loop.run_sync([&] { seen = IOLoop::current(); });
  EXPECT_EQ(seen, &loop);
}

TEST_F(IOLoopTest, RunSyncTimeout) {
  Future<void> never_yet;
  auto waits = [&]() -> Future<void> { co_await never_yet; };
  try {
    loop.run_sync(waits, 0.01);
    ADD_FAILURE() << "expected TimeoutError";
  } catch (const TimeoutError& e) {
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos);
  }
  // Let the abandoned coroutine finish so nothing is left suspended.
  never_yet.set_result();
  loop.run_sync([] {});
}

TEST_F(IOLoopTest, RunSyncStoppedBeforeResult) {
  // test_stop_no_timeout: the loop stopped by someone else before the result arrived.
  Future<void> gate;
  auto f = [&]() -> Future<void> {
    loop.add_callback([&] { loop.stop(); });
    co_await gate;
  };
  try {
    loop.run_sync(f);
    ADD_FAILURE() << "expected an error";
  } catch (const TimeoutError&) {
    ADD_FAILURE() << "not a timeout";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("Event loop stopped"), std::string::npos) << e.what();
  }
  gate.set_result();
  loop.run_sync([] {});
}

TEST(IOLoopVersionTest, Generated) { EXPECT_STREQ(kVersion, "0.4.0"); }

// ioloop::TimeoutError is util::TimeoutError (Tornado re-exports it from tornado.util).
static_assert(std::is_same_v<TimeoutError, util::TimeoutError>);

}  // namespace
}  // namespace tornado::ioloop
