// tornado::queues, Tornado's tornado.queues: Queue<T> (FIFO), PriorityQueue<T> (smallest
// first) and LifoQueue<T> for coroutines on one IOLoop thread, with QueueEmpty /
// QueueFull.
//
// Not thread-safe (like Tornado's): use a queue on one loop thread. Timeouts are
// gen::Timeout (a duration, or a gen::Deadline in loop time) timed on IOLoop::current(),
// which must outlive the pending call. Destroying a queue cancels its pending put()/get()
// Futures. See queues/README.md.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "concurrent/future.h"
#include "gen/gen.h"
#include "ioloop/ioloop.h"
#include "locks/locks.h"

namespace tornado::queues {

using concurrent::Future;
using gen::Timeout;
using TimeoutError = gen::TimeoutError;

// Raised by get_nowait() when the queue has no items (Tornado's QueueEmpty).
class QueueEmpty : public std::runtime_error {
 public:
  QueueEmpty() : std::runtime_error("QueueEmpty") {}
};

// Raised by put_nowait() when the queue is full (Tornado's QueueFull).
class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("QueueFull") {}
};

namespace internal {

// Storage policies: how items are kept and which comes out next.
template <typename T>
struct FifoStore {
  std::deque<T> items;
  void push(T v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.front());
    items.pop_front();
    return v;
  }
  std::size_t size() const { return items.size(); }
};

template <typename T>
struct LifoStore {
  std::vector<T> items;
  void push(T v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  std::size_t size() const { return items.size(); }
};

// A binary min-heap under `Compare` (Tornado's heapq): the smallest item comes out first.
template <typename T, typename Compare>
struct HeapStore {
  std::vector<T> items;
  Compare less;
  // std::*_heap build max-heaps; reversing the comparison gives a min-heap.
  auto greater() const {
    return [this](const T& a, const T& b) { return less(b, a); };
  }
  void push(T v) {
    items.push_back(std::move(v));
    std::push_heap(items.begin(), items.end(), greater());
  }
  T pop() {
    std::pop_heap(items.begin(), items.end(), greater());
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  std::size_t size() const { return items.size(); }
};

}  // namespace internal

// A queue for coroutines (Tornado's Queue; the ordering comes from Store). T must be
// movable. Items are moved in and out.
template <typename T, typename Store>
class BasicQueue {
 public:
  // maxsize 0 (the default) means unbounded. Throws std::invalid_argument (Tornado's
  // ValueError) if maxsize < 0.
  explicit BasicQueue(long maxsize = 0, Store store = Store())
      : maxsize_(maxsize < 0 ? throw std::invalid_argument("maxsize can't be negative") : std::size_t(maxsize)),
        store_(std::move(store)) {
    finished_.set();
  }
  ~BasicQueue() {
    for (auto& p : putters_) p.second.cancel();
    for (auto& g : getters_) g.cancel();
  }
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  // The maximum number of items allowed (0: unbounded).
  std::size_t maxsize() const { return maxsize_; }
  // The number of items in the queue (putters still waiting are not counted).
  std::size_t qsize() const { return store_.size(); }
  bool empty() const { return store_.size() == 0; }
  // True if maxsize() > 0 and the queue holds that many items.
  bool full() const { return maxsize_ != 0 && store_.size() >= maxsize_; }

  // Puts an item, waiting for room if the queue is full. The Future completes once the
  // item is in the queue (at once if there is room). With a timeout, raises TimeoutError
  // if it expires first; the item is then dropped and never delivered.
  Future<void> put(T item, std::optional<Timeout> timeout = std::nullopt) {
    Future<void> future;
    consume_expired();
    if (!getters_.empty() || !full()) {
      put_nowait(std::move(item));
      future.set_result();
    } else {
      putters_.emplace_back(std::move(item), future);
      set_timeout(future, timeout);
    }
    return future;
  }

  // Puts an item without waiting: hands it to the oldest live getter if one is waiting.
  // Throws QueueFull if the queue is full.
  void put_nowait(T item) {
    consume_expired();
    if (!getters_.empty()) {
      Future<T> getter = std::move(getters_.front());
      getters_.pop_front();
      put_internal(std::move(item));
      getter.set_result(store_.pop());
    } else if (full()) {
      throw QueueFull();
    } else {
      put_internal(std::move(item));
    }
  }

  // Removes and returns an item, waiting until one is available. With a timeout, raises
  // TimeoutError if it expires first; a getter that timed out (or was cancelled) never
  // takes an item.
  Future<T> get(std::optional<Timeout> timeout = std::nullopt) {
    Future<T> future;
    consume_expired();
    if (!putters_.empty() || qsize() > 0) {
      future.set_result(get_nowait());
    } else {
      getters_.push_back(future);
      set_timeout(future, timeout);
    }
    return future;
  }

  // Removes and returns an item without waiting; admits the oldest waiting putter's item
  // when there is one. Throws QueueEmpty if there is no item.
  T get_nowait() {
    consume_expired();
    if (!putters_.empty()) {
      auto [item, putter] = std::move(putters_.front());
      putters_.pop_front();
      put_internal(std::move(item));
      putter.set_result();
      return store_.pop();
    }
    if (qsize() > 0) return store_.pop();
    throw QueueEmpty();
  }

  // Marks one item taken by a consumer as processed; join() completes once every item put
  // has been marked. Throws std::invalid_argument ("task_done() called too many times",
  // Tornado's ValueError) if called more times than items were put.
  void task_done() {
    if (unfinished_tasks_ == 0) throw std::invalid_argument("task_done() called too many times");
    if (--unfinished_tasks_ == 0) finished_.set();
  }

  // A Future that completes once every item put has been marked by task_done(). With a
  // timeout, raises TimeoutError if it expires first.
  Future<void> join(std::optional<Timeout> timeout = std::nullopt) { return finished_.wait(timeout); }

 private:
  void put_internal(T item) {
    ++unfinished_tasks_;
    finished_.clear();
    store_.push(std::move(item));
  }

  // Drops waiters that timed out or were cancelled, from the front (Tornado's
  // _consume_expired); the first live waiter is then at the front.
  void consume_expired() {
    while (!putters_.empty() && putters_.front().second.done()) putters_.pop_front();
    while (!getters_.empty() && getters_.front().done()) getters_.pop_front();
    // Expired waiters behind a live one stay until they reach the front; compact when
    // they could pile up (a long-lived waiter in front of many timeouts).
    if (++ops_since_compact_ >= 64 && (putters_.size() + getters_.size()) > 64) {
      ops_since_compact_ = 0;
      std::erase_if(putters_, [](const auto& p) { return p.second.done(); });
      std::erase_if(getters_, [](const auto& g) { return g.done(); });
    }
  }

  template <typename U>
  static void set_timeout(const Future<U>& future, const std::optional<Timeout>& timeout) {
    if (!timeout) return;
    ioloop::IOLoop* loop = ioloop::IOLoop::current();
    ioloop::TimeoutHandle h = loop->call_at(timeout->deadline(*loop), [future] {
      if (!future.done()) future.set_exception(TimeoutError("Timeout"));
    });
    future.add_done_callback([loop, h] { loop->remove_timeout(h); });
  }

  std::size_t maxsize_;
  Store store_;
  std::deque<Future<T>> getters_;
  std::deque<std::pair<T, Future<void>>> putters_;
  std::size_t unfinished_tasks_ = 0;
  std::size_t ops_since_compact_ = 0;
  locks::Event finished_;
};

// A first-in first-out queue (Tornado's queues.Queue).
//
//   Queue<int> q(2);
//   co_await q.put(1);            // waits while the queue is full
//   int item = co_await q.get();  // waits while it is empty
//   q.task_done();
template <typename T>
using Queue = BasicQueue<T, internal::FifoStore<T>>;

// A queue that gives the smallest item first under `Compare` (Tornado's PriorityQueue,
// which orders by <; use a pair (priority, item) for prioritised items). Equal items come
// out in no particular order, as with heapq.
template <typename T, typename Compare = std::less<T>>
class PriorityQueue : public BasicQueue<T, internal::HeapStore<T, Compare>> {
 public:
  explicit PriorityQueue(long maxsize = 0, Compare compare = Compare())
      : BasicQueue<T, internal::HeapStore<T, Compare>>(maxsize,
                                                       internal::HeapStore<T, Compare>{{}, std::move(compare)}) {}
};

// A last-in first-out queue (Tornado's LifoQueue).
template <typename T>
using LifoQueue = BasicQueue<T, internal::LifoStore<T>>;

}  // namespace tornado::queues
