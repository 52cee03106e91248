// See frame_pool.h.
#include "concurrent/frame_pool.h"

#include <new>
#include <utility>

namespace tornado::concurrent::internal {
namespace {

// Size classes of 64 bytes up to 4 KiB; larger frames use new/delete directly.
constexpr std::size_t kGranule = 64;
constexpr std::size_t kClasses = 64;
// Bytes kept per class: enough for a burst of connections opened and closed together
// (each holds some ten frames and states, mostly small), and a bound on what an idle
// thread holds (at most 8 MiB over all classes). A count of 32 per class made a third of
// a short connection's frames miss the pool.
constexpr std::size_t kMaxCachedBytes = 128 * 1024;

struct FreeFrame {
  FreeFrame* next;
};

struct Pool {
  FreeFrame* heads[kClasses] = {};
  std::size_t counts[kClasses] = {};
  ~Pool() {
    for (FreeFrame*& head : heads) {
      while (head != nullptr) ::operator delete(std::exchange(head, head->next));
    }
  }
};

thread_local Pool t_pool;

// Class c holds frames of (c + 1) * kGranule bytes.
std::size_t size_class(std::size_t n) { return (n - 1) / kGranule; }

}  // namespace

void* allocate_frame(std::size_t n) {
  const std::size_t c = size_class(n);
  if (!kFramePooling || c >= kClasses) return ::operator new(n);
  Pool& pool = t_pool;
  if (FreeFrame* f = pool.heads[c]) {
    pool.heads[c] = f->next;
    --pool.counts[c];
    return f;
  }
  return ::operator new((c + 1) * kGranule);
}

void deallocate_frame(void* p, std::size_t n) noexcept {
  const std::size_t c = size_class(n);
  if (!kFramePooling || c >= kClasses) {
    ::operator delete(p);
    return;
  }
  Pool& pool = t_pool;
  if ((pool.counts[c] + 1) * (c + 1) * kGranule > kMaxCachedBytes) {
    ::operator delete(p);
    return;
  }
  pool.heads[c] = new (p) FreeFrame{pool.heads[c]};
  ++pool.counts[c];
}

}  // namespace tornado::concurrent::internal
