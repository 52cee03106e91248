// Per-thread recycling of coroutine frames and Future states. Every Future-returning
// coroutine allocates a frame and a state; servers create several per request, frames
// often larger than glibc's per-thread cache takes (1,032 bytes), so each went through
// malloc's slower bins. Freed blocks are kept on a per-thread free list by size class and
// handed out again. Other objects made and freed per request on a loop's thread may use
// allocate_frame / deallocate_frame too (httpserver's request adapter does).
//
// Under AddressSanitizer and ThreadSanitizer the pool is off (plain new/delete), so use-
// after-free and races on frames stay visible.
#pragma once

#include <cstddef>

namespace tornado::concurrent::internal {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kFramePooling = false;
#else
inline constexpr bool kFramePooling = true;
#endif

// `n` bytes for a coroutine frame; never null (throws std::bad_alloc).
void* allocate_frame(std::size_t n);
// Returns a frame from allocate_frame(n), on any thread.
void deallocate_frame(void* p, std::size_t n) noexcept;

// A std::allocator over the same pool, for the shared states of Futures (one or more per
// coroutine call): std::allocate_shared<State<T>>(PoolAllocator<State<T>>()).
template <typename T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <typename U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_frame(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_frame(p, n * sizeof(T)); }
  template <typename U>
  friend bool operator==(const PoolAllocator&, const PoolAllocator<U>&) noexcept {
    return true;
  }
};

}  // namespace tornado::concurrent::internal
