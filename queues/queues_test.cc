// Tests for tornado::queues, after Tornado's tornado/test/queues_test.py.
#include "queues/queues.h"

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "gen/gen.h"
#include "ioloop/ioloop.h"
#include "queues/version.h"

namespace tornado::queues {
namespace {

using concurrent::Future;
using ioloop::IOLoop;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------- basics

TEST(QueueBasicTest, Order) {
  Queue<int> q;
  for (int i : {1, 3, 2}) q.put_nowait(i);
  std::vector<int> items;
  for (int i = 0; i < 3; ++i) items.push_back(q.get_nowait());
  EXPECT_EQ(items, (std::vector<int>{1, 3, 2}));
}

TEST(QueueBasicTest, Maxsize) {
  EXPECT_THROW(Queue<int>(-1), std::invalid_argument);
  IOLoop loop;
  Queue<int> q(2);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.maxsize(), 2u);
  loop.run_sync([&]() -> Future<void> {
    EXPECT_TRUE(q.put(0).done());
    EXPECT_FALSE(q.full());
    EXPECT_TRUE(q.put(1).done());
    EXPECT_TRUE(q.full());
    Future<void> put2 = q.put(2);
    EXPECT_FALSE(put2.done());
    EXPECT_EQ(q.qsize(), 2u);  // the waiting putter's item is not counted
    EXPECT_EQ(q.get_nowait(), 0);
    co_await put2;
    EXPECT_TRUE(q.full());
  });
}

TEST(QueueBasicTest, UnboundedNeverFull) {
  Queue<int> q;
  for (int i = 0; i < 10000; ++i) q.put_nowait(i);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.qsize(), 10000u);
}

TEST(QueueBasicTest, MoveOnlyItems) {
  IOLoop loop;
  Queue<std::unique_ptr<int>> q(1);
  loop.run_sync([&]() -> Future<void> {
    Future<std::unique_ptr<int>> g = q.get();
    co_await q.put(std::make_unique<int>(7));
    std::unique_ptr<int> v = co_await std::move(g);
    EXPECT_EQ(*v, 7);
  });
}

// ------------------------------------------------------------------------------- get

TEST(QueueGetTest, BlockingGet) {
  IOLoop loop;
  Queue<int> q;
  q.put_nowait(0);
  EXPECT_EQ(loop.run_sync([&] { return q.get(); }), 0);
}

TEST(QueueGetTest, NonblockingGet) {
  Queue<int> q;
  q.put_nowait(0);
  EXPECT_EQ(q.get_nowait(), 0);
}

TEST(QueueGetTest, NonblockingGetRaisesQueueEmpty) {
  Queue<int> q;
  EXPECT_THROW(q.get_nowait(), QueueEmpty);
}

TEST(QueueGetTest, GetWithPutters) {
  IOLoop loop;
  Queue<int> q(1);
  loop.run_sync([&]() -> Future<void> {
    q.put_nowait(0);
    Future<void> put = q.put(1);
    EXPECT_EQ(co_await q.get(), 0);
    co_await put;  // the putter's item was admitted
    EXPECT_EQ(q.get_nowait(), 1);
  });
}

TEST(QueueGetTest, BlockingGetWait) {
  IOLoop loop;
  Queue<int> q;
  loop.run_sync([&]() -> Future<void> {
    q.put_nowait(0);
    loop.call_later(0.01, [&] { q.put_nowait(1); });
    loop.call_later(0.01, [&] { q.put_nowait(2); });
    EXPECT_EQ(co_await q.get(1s), 0);
    EXPECT_EQ(co_await q.get(1s), 1);
  });
}

TEST(QueueGetTest, GetTimeout) {
  IOLoop loop;
  Queue<int> q;
  loop.run_sync([&]() -> Future<void> {
    Future<int> get_timeout = q.get(10ms);
    Future<int> get = q.get();
    EXPECT_THROW(co_await get_timeout, TimeoutError);
    q.put_nowait(0);
    EXPECT_EQ(co_await get, 0);
  });
}

TEST(QueueGetTest, GetTimeoutPreempted) {
  IOLoop loop;
  Queue<int> q;
  loop.run_sync([&]() -> Future<void> {
    Future<int> get = q.get(10ms);
    q.put_nowait(0);
    co_await gen::sleep(20ms);
    EXPECT_EQ(co_await get, 0);
  });
}

TEST(QueueGetTest, GetClearsTimedOutPutters) {
  IOLoop loop;
  Queue<int> q(1);
  loop.run_sync([&]() -> Future<void> {
    // First putter succeeds, remainder block.
    std::vector<Future<void>> putters;
    for (int i = 0; i < 10; ++i) putters.push_back(q.put(i, 10ms));
    Future<void> put = q.put(10);
    EXPECT_TRUE(putters[0].done());
    co_await gen::sleep(20ms);
    for (int i = 1; i < 10; ++i) EXPECT_THROW(putters[i].result(), TimeoutError);
    EXPECT_FALSE(put.done());
    // The timed-out putters' items are never delivered.
    EXPECT_EQ(co_await q.get(), 0);
    co_await put;
    EXPECT_EQ(co_await q.get(), 10);
    EXPECT_TRUE(q.empty());
  });
}

TEST(QueueGetTest, GetClearsTimedOutGetters) {
  IOLoop loop;
  Queue<int> q;
  loop.run_sync([&]() -> Future<void> {
    std::vector<Future<int>> getters;
    for (int i = 0; i < 10; ++i) getters.push_back(q.get(10ms));
    Future<int> get = q.get();
    co_await gen::sleep(20ms);
    for (auto& g : getters) EXPECT_THROW(g.result(), TimeoutError);
    q.put_nowait(0);
    EXPECT_EQ(co_await get, 0);
    EXPECT_TRUE(q.empty());
  });
}

TEST(QueueGetTest, CancelledGetterIsSkipped) {
  IOLoop loop;
  Queue<int> q;
  loop.run_sync([&]() -> Future<void> {
    Future<int> a = q.get();
    Future<int> b = q.get();
    a.cancel();
    q.put_nowait(5);
    EXPECT_EQ(co_await b, 5);
  });
}

// ------------------------------------------------------------------------------- put

TEST(QueuePutTest, BlockingPut) {
  IOLoop loop;
  Queue<int> q;
  loop.run_sync([&] { return q.put(0); });
  EXPECT_EQ(q.get_nowait(), 0);
}

TEST(QueuePutTest, NonblockingPutRaisesQueueFull) {
  Queue<int> q(1);
  q.put_nowait(0);
  EXPECT_THROW(q.put_nowait(1), QueueFull);
}

TEST(QueuePutTest, PutWithGetters) {
  IOLoop loop;
  Queue<int> q;
  loop.run_sync([&]() -> Future<void> {
    Future<int> get0 = q.get();
    Future<int> get1 = q.get();
    co_await q.put(0);
    EXPECT_EQ(co_await get0, 0);
    co_await q.put(1);
    EXPECT_EQ(co_await get1, 1);
  });
}

TEST(QueuePutTest, NonblockingPutWithGetters) {
  IOLoop loop;
  Queue<int> q;
  loop.run_sync([&]() -> Future<void> {
    Future<int> get0 = q.get();
    Future<int> get1 = q.get();
    q.put_nowait(0);
    co_await gen::moment;
    EXPECT_EQ(co_await get0, 0);
    q.put_nowait(1);
    co_await gen::moment;
    EXPECT_EQ(co_await get1, 1);
  });
}

TEST(QueuePutTest, BlockingPutWait) {
  IOLoop loop;
  Queue<int> q(1);
  loop.run_sync([&]() -> Future<void> {
    q.put_nowait(0);
    std::vector<int> got;
    loop.call_later(0.01, [&] { got.push_back(q.get_nowait()); });
    loop.call_later(0.01, [&] { got.push_back(q.get_nowait()); });
    Future<void> put = q.put(0, 1s);
    co_await q.put(1, 1s);  // waits behind `put`
    EXPECT_TRUE(put.done());
    EXPECT_EQ(got, (std::vector<int>{0, 0}));
    EXPECT_EQ(q.get_nowait(), 1);
  });
}

TEST(QueuePutTest, PutTimeout) {
  IOLoop loop;
  Queue<int> q(1);
  loop.run_sync([&]() -> Future<void> {
    q.put_nowait(0);  // now it's full
    Future<void> put_timeout = q.put(1, 10ms);
    Future<void> put = q.put(2);
    EXPECT_THROW(co_await put_timeout, TimeoutError);
    EXPECT_EQ(q.get_nowait(), 0);
    // 1 was never put in the queue.
    EXPECT_EQ(co_await q.get(), 2);
    co_await put;
  });
}

TEST(QueuePutTest, PutTimeoutPreempted) {
  IOLoop loop;
  Queue<int> q(1);
  loop.run_sync([&]() -> Future<void> {
    q.put_nowait(0);
    Future<void> put = q.put(1, 10ms);
    EXPECT_EQ(q.get_nowait(), 0);
    co_await gen::sleep(20ms);
    co_await put;  // no exception: it was admitted before the timeout
    EXPECT_EQ(q.get_nowait(), 1);
  });
}

TEST(QueuePutTest, PutClearsTimedOutPutters) {
  IOLoop loop;
  Queue<int> q(1);
  loop.run_sync([&]() -> Future<void> {
    std::vector<Future<void>> putters;
    for (int i = 0; i < 10; ++i) putters.push_back(q.put(i, 10ms));
    co_await gen::sleep(20ms);
    Future<void> put = q.put(10);
    for (int i = 1; i < 10; ++i) EXPECT_THROW(putters[i].result(), TimeoutError);
    EXPECT_EQ(q.get_nowait(), 0);
    co_await put;
    EXPECT_EQ(q.get_nowait(), 10);
  });
}

TEST(QueuePutTest, PutClearsTimedOutGetters) {
  IOLoop loop;
  Queue<int> q;
  loop.run_sync([&]() -> Future<void> {
    std::vector<Future<int>> getters;
    for (int i = 0; i < 10; ++i) getters.push_back(q.get(10ms));
    Future<int> get = q.get();
    q.get(10ms).cancel();
    co_await gen::sleep(20ms);
    co_await q.put(0);
    EXPECT_EQ(co_await get, 0);
  });
}

TEST(QueuePutTest, ManyTimedOutWaitersBehindALiveOneDoNotPileUp) {
  IOLoop loop;
  Queue<int> q(1);
  loop.run_sync([&]() -> Future<void> {
    q.put_nowait(-1);
    Future<void> live = q.put(1);  // waits for the whole test
    for (int i = 0; i < 2000; ++i) {
      EXPECT_THROW(co_await q.put(i, gen::Deadline{loop.time()}), TimeoutError);
    }
    EXPECT_EQ(q.get_nowait(), -1);
    co_await live;
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_THROW(q.get_nowait(), QueueEmpty);
  });
}

TEST(QueuePutTest, DestroyingQueueCancelsWaiters) {
  IOLoop loop;
  Future<int> get;
  Future<void> put;
  Future<void> join;
  {
    Queue<int> q(1);
    get = q.get();
  }
  EXPECT_TRUE(get.cancelled());
  {
    Queue<int> q(1);
    q.put_nowait(1);
    put = q.put(2);
    join = q.join();
  }
  EXPECT_TRUE(put.cancelled());
  EXPECT_TRUE(join.cancelled());
}

// ------------------------------------------------------------------------------ join

template <typename Q>
class QueueJoinTest : public ::testing::Test {};
using QueueTypes = ::testing::Types<Queue<int>, PriorityQueue<int>, LifoQueue<int>>;
TYPED_TEST_SUITE(QueueJoinTest, QueueTypes);

TYPED_TEST(QueueJoinTest, TaskDoneUnderflow) {
  TypeParam q;
  EXPECT_THROW(q.task_done(), std::invalid_argument);
}

Future<void> join_worker(std::function<Future<int>()> get, std::function<void()> done,
                         int* sum) {
  for (;;) {
    int item = co_await get();
    *sum += item;
    done();
  }
}

TYPED_TEST(QueueJoinTest, TaskDone) {
  IOLoop loop;
  TypeParam q;
  int sum = 0;
  loop.run_sync([&]() -> Future<void> {
    for (int i = 0; i < 100; ++i) q.put_nowait(i);
    // Two consumers that loop forever; join() completes once all items are done.
    for (int w = 0; w < 2; ++w) {
      (void)join_worker([&] { return q.get(); }, [&] { q.task_done(); }, &sum);
    }
    co_await q.join();
    EXPECT_EQ(sum, 4950);
  });
}

TYPED_TEST(QueueJoinTest, TaskDoneDelay) {
  // Verify it is task_done(), not get(), that unblocks join().
  IOLoop loop;
  TypeParam q;
  loop.run_sync([&]() -> Future<void> {
    q.put_nowait(0);
    Future<void> join = q.join();
    EXPECT_FALSE(join.done());
    co_await q.get();
    EXPECT_FALSE(join.done());
    co_await gen::moment;
    EXPECT_FALSE(join.done());
    q.task_done();
    co_await join;
  });
}

TYPED_TEST(QueueJoinTest, JoinEmptyQueue) {
  IOLoop loop;
  TypeParam q;
  loop.run_sync([&]() -> Future<void> {
    co_await q.join();
    co_await q.join();
  });
}

TYPED_TEST(QueueJoinTest, JoinTimeout) {
  IOLoop loop;
  TypeParam q;
  q.put_nowait(0);
  loop.run_sync([&]() -> Future<void> { EXPECT_THROW(co_await q.join(10ms), TimeoutError); });
}

// ------------------------------------------------------------------ priority and lifo

TEST(PriorityQueueTest, Order) {
  PriorityQueue<std::pair<int, std::string>> q;
  q.put_nowait({1, "a"});
  q.put_nowait({0, "b"});
  q.put_nowait({2, "c"});
  q.put_nowait({1, "d"});
  std::vector<std::pair<int, std::string>> got;
  while (!q.empty()) got.push_back(q.get_nowait());
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{{0, "b"}, {1, "a"}, {1, "d"}, {2, "c"}}));
}

TEST(PriorityQueueTest, CustomComparatorAndMaxsize) {
  IOLoop loop;
  PriorityQueue<int, std::greater<int>> q(2);  // largest first
  loop.run_sync([&]() -> Future<void> {
    q.put_nowait(1);
    q.put_nowait(3);
    EXPECT_THROW(q.put_nowait(2), QueueFull);
    Future<void> put = q.put(2, 1s);
    EXPECT_EQ(q.get_nowait(), 3);
    co_await put;
    EXPECT_EQ(co_await q.get(), 2);
    EXPECT_EQ(co_await q.get(), 1);
  });
}

TEST(LifoQueueTest, Order) {
  LifoQueue<int> q;
  for (int i : {1, 3, 2}) q.put_nowait(i);
  std::vector<int> got;
  while (!q.empty()) got.push_back(q.get_nowait());
  EXPECT_EQ(got, (std::vector<int>{2, 3, 1}));
}

// As in Tornado, get_nowait() with putters waiting first admits the oldest putter's item
// and then pops: on a LifoQueue that is the item just admitted.
TEST(LifoQueueTest, WaitingPutterIsAdmittedBeforeThePop) {
  IOLoop loop;
  LifoQueue<int> q(2);
  loop.run_sync([&]() -> Future<void> {
    q.put_nowait(1);
    q.put_nowait(0);
    EXPECT_TRUE(q.full());
    Future<void> put3 = q.put(3);
    Future<void> put2 = q.put(2);
    EXPECT_EQ(q.get_nowait(), 3);
    co_await put3;
    EXPECT_FALSE(put2.done());
    EXPECT_EQ(co_await q.get(), 2);
    co_await put2;
    EXPECT_EQ(co_await q.get(), 0);
    EXPECT_EQ(co_await q.get(), 1);
    EXPECT_TRUE(q.empty());
  });
}

// ------------------------------------------------------------------ producer/consumer

Future<void> consumer(Queue<int>* q, std::vector<int>* history) {
  for (;;) {
    history->push_back(co_await q->get());
    q->task_done();
  }
}

Future<void> producer(Queue<int>* q) {
  for (int i = 0; i < 10; ++i) co_await q->put(i);
}

TEST(ProducerConsumerTest, ProducerConsumer) {
  IOLoop loop;
  Queue<int> q(2);
  std::vector<int> history;
  loop.run_sync([&]() -> Future<void> {
    (void)consumer(&q, &history);
    co_await producer(&q);
    co_await q.join();
  });
  EXPECT_EQ(history, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(QueuesVersionTest, Generated) { EXPECT_STREQ(kVersion, "0.1.0"); }

}  // namespace
}  // namespace tornado::queues
