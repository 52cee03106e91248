// Per-thread recycling of coroutine frames. Every Future-returning coroutine allocates a
// frame; servers create one or more per request, often larger than glibc's per-thread
// cache takes (1,032 bytes), so each went through malloc's slower bins. Freed frames are
// kept on a per-thread free list by size class and handed out again.
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

}  // namespace tornado::concurrent::internal
