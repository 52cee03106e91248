// A first-in first-out queue in one InlinedVector, for a stream's write queue.
#ifndef TORNADO_IOSTREAM_FIFO_H_
#define TORNADO_IOSTREAM_FIFO_H_

#include <cstddef>
#include <utility>

#include "absl/container/inlined_vector.h"

namespace tornado::iostream::internal {

// pop_front() advances a head index; the storage is reused once the queue is empty.
// A connection's write queue usually holds one item at a time: that item then lives
// inside the stream object (no allocation, memory already in cache), where a std::deque
// allocates 512-byte blocks and walks a new cache line per item. Popped slots (moved
// from) stay until the queue empties or the dead prefix is compacted away (amortized
// O(1) per item).
template <typename T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }
  T& front() { return items_[head_]; }
  template <typename... Args>
  void emplace_back(Args&&... args) {
    items_.emplace_back(std::forward<Args>(args)...);
  }
  void pop_front() {
    { T gone = std::move(items_[head_]); }  // its memory goes now, not at compaction
    if (++head_ == items_.size()) {
      clear();
    } else if (head_ >= kCompactAt && 2 * head_ >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void clear() {
    items_.clear();
    head_ = 0;
  }
  auto begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() { return items_.end(); }

 private:
  static constexpr std::size_t kCompactAt = 16;
  absl::InlinedVector<T, 1> items_;
  std::size_t head_ = 0;
};

}  // namespace tornado::iostream::internal

#endif  // TORNADO_IOSTREAM_FIFO_H_
