// IOLoop over epoll with an eventfd waker, a slot-map timer heap, and PeriodicCallback.
#include "ioloop/ioloop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>

#include "log/log.h"

namespace tornado::ioloop {

static_assert(IOLoop::READ == EPOLLIN);
static_assert(IOLoop::WRITE == EPOLLOUT);
static_assert(IOLoop::ERROR == (EPOLLERR | EPOLLHUP));
static_assert(IOLoop::EDGE == EPOLLET);
static_assert(IOLoop::RDHUP == EPOLLRDHUP);

namespace {

constexpr std::uint64_t kWakerTag = ~std::uint64_t{0};
constexpr int kMaxPollMs = 3600 * 1000;
constexpr std::size_t kCompactMinCancellations = 512;

thread_local IOLoop* t_current_loop = nullptr;
thread_local IOLoop* t_running_loop = nullptr;
thread_local std::unique_ptr<IOLoop> t_owned_loop;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

double monotonic_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

namespace internal {

// The part of a loop other threads touch: a locked callback queue and the eventfd that
// wakes the loop. Shared with executors (as a RemoteScheduler), so it outlives the loop.
class Waker : public concurrent::RemoteScheduler {
 public:
  Waker() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0) throw_errno("eventfd");
  }
  ~Waker() override { close(); }

  int fd() const { return fd_; }

  bool call_soon_threadsafe(concurrent::Callback cb) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    const bool was_empty = queue_.empty();
    queue_.push_back(std::move(cb));
    // The loop consumes the eventfd before it drains the queue, so a push onto an empty
    // queue is the only one that needs to wake it.
    if (was_empty) wake_locked();
    return true;
  }

  // Wakes the loop (e.g. for stop()).
  void wake() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_) wake_locked();
  }

  // Clears the eventfd; called before drain() in each iteration.
  void consume() {
    std::uint64_t value;
    while (::read(fd_, &value, sizeof value) > 0) {
    }
  }

  // Appends the queued callbacks to `out`.
  void drain(std::vector<concurrent::Callback>& out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty()) return;
    if (out.empty()) {
      out.swap(queue_);
    } else {
      for (auto& cb : queue_) out.push_back(std::move(cb));
      queue_.clear();
    }
  }

  // Stops accepting callbacks; the queued ones are destroyed (outside the lock).
  void close() {
    std::vector<concurrent::Callback> dropped;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = true;
      dropped.swap(queue_);
      ::close(fd_);
    }
  }

 private:
  void wake_locked() {
    const std::uint64_t one = 1;
    // EAGAIN means the counter is saturated: the loop is being woken anyway.
    [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
  }

  // std::mutex: visible to ThreadSanitizer (the system abseil's Mutex is not).
  std::mutex mu_;
  std::vector<concurrent::Callback> queue_;  // guarded by mu_
  bool closed_ = false;                      // guarded by mu_
  const int fd_;
};

}  // namespace internal

struct IOLoop::HandlerEntry {
  Handler handler;
  std::uint32_t generation;
  std::uint32_t events;
};

IOLoop::IOLoop() : IOLoop(Options{}) {}

IOLoop::IOLoop(Options options)
    : waker_(std::make_shared<internal::Waker>()), time_func_(std::move(options.time_func)) {
  if (options.make_current && t_current_loop != nullptr) {
    throw std::runtime_error("current IOLoop already exists");
  }
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakerTag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, waker_->fd(), &ev) < 0) {
    ::close(epoll_fd_);
    throw_errno("epoll_ctl(waker)");
  }
  if (options.make_current) make_current();
}

IOLoop::~IOLoop() {
  if (!closed_) {
    running_ = false;  // a loop destroyed while running is a bug; close anyway
    close();
  }
  if (t_current_loop == this) clear_current();
}

IOLoop* IOLoop::current(bool instance) {
  if (t_current_loop == nullptr && instance) {
    t_owned_loop = std::make_unique<IOLoop>();
    t_owned_loop->make_current();
  }
  return t_current_loop;
}

void IOLoop::make_current() {
  t_current_loop = this;
  concurrent::Scheduler::set_current(this);
}

void IOLoop::clear_current() {
  t_current_loop = nullptr;
  concurrent::Scheduler::set_current(nullptr);
}

void IOLoop::start() {
  if (closed_) throw std::runtime_error("IOLoop is closed");
  if (running_) throw std::runtime_error("IOLoop is already running");
  if (t_running_loop != nullptr) {
    throw std::runtime_error("Cannot run the event loop while another loop is running");
  }
  IOLoop* previous = t_current_loop;
  running_ = true;
  t_running_loop = this;
  make_current();
  struct Restore {
    IOLoop* self;
    IOLoop* previous;
    ~Restore() {
      self->running_ = false;
      t_running_loop = nullptr;
      if (previous != nullptr) {
        previous->make_current();
      } else {
        clear_current();
      }
    }
  } restore{this, previous};
  for (;;) {
    run_once();
    if (stop_requested_.exchange(false, std::memory_order_acq_rel)) break;
  }
}

void IOLoop::stop() {
  stop_requested_.store(true, std::memory_order_release);
  if (t_running_loop != this) waker_->wake();
}

void IOLoop::close(bool all_fds) {
  if (running_) throw std::runtime_error("Cannot close a running IOLoop");
  if (closed_) return;
  closed_ = true;
  waker_->close();
  auto handlers = std::move(handlers_);
  handlers_.clear();
  if (all_fds) {
    for (auto& [fd, entry] : handlers) ::close(fd);
  }
  ::close(epoll_fd_);
  epoll_fd_ = -1;
  // Destroy pending work after the loop is marked closed: destructors (e.g. of suspended
  // coroutine frames) may call back into the loop, which then drops what they add.
  auto callbacks = std::move(callbacks_);
  callbacks_.clear();
  auto slots = std::move(timer_slots_);
  timer_slots_.clear();
  heap_.clear();
  free_timer_slots_.clear();
  live_timers_ = 0;
  cancellations_ = 0;
  handlers.clear();
  callbacks.clear();
  slots.clear();
  if (executor_ && owns_executor_) executor_->shutdown(/*wait=*/true);
  executor_.reset();
  if (t_current_loop == this) clear_current();
}

// --- callbacks -------------------------------------------------------------------------

void IOLoop::add_callback(Callback cb) {
  if (t_running_loop == this) {
    callbacks_.push_back(std::move(cb));
  } else {
    // Another thread, or this thread while the loop is not running.
    waker_->call_soon_threadsafe(std::move(cb));
  }
}

std::shared_ptr<concurrent::RemoteScheduler> IOLoop::remote() { return waker_; }

void IOLoop::run_callback(Callback& cb) noexcept {
  try {
    std::move(cb)();
  } catch (...) {
    try {
      handle_callback_exception(std::current_exception());
    } catch (...) {
      concurrent::internal::log_exception("Exception in handle_callback_exception",
                                          std::current_exception());
    }
  }
}

void IOLoop::handle_callback_exception(std::exception_ptr e) {
  concurrent::internal::log_exception("Exception in callback", e);
}

// --- handlers --------------------------------------------------------------------------

void IOLoop::add_handler(int fd, Handler handler, std::uint32_t events) {
  if (closed_) throw std::runtime_error("IOLoop is closed");
  if (handlers_.contains(fd)) throw std::runtime_error("fd " + std::to_string(fd) + " already registered");
  std::uint32_t generation = ++handler_generation_;
  if (generation == 0 || generation == 0xffffffffu) generation = handler_generation_ = 1;
  epoll_event ev{};
  ev.events = events | ERROR;
  ev.data.u64 = (std::uint64_t{generation} << 32) | static_cast<std::uint32_t>(fd);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl(ADD)");
  handlers_.emplace(fd, std::make_shared<HandlerEntry>(HandlerEntry{std::move(handler), generation, events}));
}

void IOLoop::update_handler(int fd, std::uint32_t events) {
  auto it = handlers_.find(fd);
  if (it == handlers_.end()) throw std::runtime_error("fd " + std::to_string(fd) + " not registered");
  epoll_event ev{};
  ev.events = events | ERROR;
  ev.data.u64 = (std::uint64_t{it->second->generation} << 32) | static_cast<std::uint32_t>(fd);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) < 0) throw_errno("epoll_ctl(MOD)");
  it->second->events = events;
}

void IOLoop::remove_handler(int fd) { forget_handler(fd, /*fd_closing=*/false); }

void IOLoop::remove_handler_before_close(int fd) { forget_handler(fd, /*fd_closing=*/true); }

void IOLoop::forget_handler(int fd, bool fd_closing) {
  auto it = handlers_.find(fd);
  if (it == handlers_.end()) return;
  std::shared_ptr<HandlerEntry> entry = std::move(it->second);
  handlers_.erase(it);
  // The fd may already be closed; that removed it from epoll anyway. Closing it soon does
  // the same, unless a duplicate of it lives on (fork, dup): then an edge-triggered
  // registration reports a few stale events, which run_once skips by generation, but a
  // level-triggered one would report a ready fd at every poll.
  if (!fd_closing || !(entry->events & EDGE)) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (entry.get() == running_handler_) retired_handler_ = std::move(entry);  // still running
  entry.reset();  // may run destructors that re-enter the loop; the map is consistent
}

// --- timers ----------------------------------------------------------------------------

namespace {
struct HeapLater {
  template <typename E>
  bool operator()(const E& a, const E& b) const {
    return a.deadline > b.deadline || (a.deadline == b.deadline && a.seq > b.seq);
  }
};
}  // namespace

double IOLoop::time() const { return time_func_ ? time_func_() : monotonic_seconds(); }

TimeoutHandle IOLoop::call_at(double when, Callback cb) {
  std::uint32_t index;
  if (!free_timer_slots_.empty()) {
    index = free_timer_slots_.back();
    free_timer_slots_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(timer_slots_.size());
    timer_slots_.emplace_back();
  }
  TimerSlot& slot = timer_slots_[index];
  slot.cb = std::move(cb);
  slot.active = true;
  slot.in_heap = true;
  heap_.push_back(HeapEntry{when, timer_seq_++, index, slot.generation});
  std::push_heap(heap_.begin(), heap_.end(), HeapLater{});
  ++live_timers_;
  return TimeoutHandle(index, slot.generation);
}

bool IOLoop::timer_live(const HeapEntry& e) const {
  return e.index < timer_slots_.size() && timer_slots_[e.index].active &&
         timer_slots_[e.index].generation == e.generation;
}

void IOLoop::free_timer_slot(std::uint32_t index) {
  TimerSlot& slot = timer_slots_[index];
  slot.active = false;
  slot.in_heap = false;
  ++slot.generation;
  --live_timers_;
  free_timer_slots_.push_back(index);
}

void IOLoop::remove_timeout(TimeoutHandle handle) {
  if (!handle.valid() || handle.index_ >= timer_slots_.size()) return;
  TimerSlot& slot = timer_slots_[handle.index_];
  if (!slot.active || slot.generation != handle.generation_) return;
  if (slot.in_heap) ++cancellations_;
  Callback cb = std::move(slot.cb);
  free_timer_slot(handle.index_);
  if (cancellations_ > kCompactMinCancellations && cancellations_ > heap_.size() / 2) {
    compact_timers();
  }
  cb = nullptr;  // its destructor may re-enter the loop: run it with the slot freed
}

void IOLoop::compact_timers() {
  heap_.erase(std::remove_if(heap_.begin(), heap_.end(),
                             [this](const HeapEntry& e) { return !timer_live(e); }),
              heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), HeapLater{});
  cancellations_ = 0;
}

// --- the loop --------------------------------------------------------------------------

int IOLoop::poll_timeout_ms() const {
  if (!callbacks_.empty() || stop_requested_.load(std::memory_order_acquire)) return 0;
  if (heap_.empty()) return kMaxPollMs;
  const double delta = heap_.front().deadline - time();
  if (delta <= 0) return 0;
  const double ms = std::ceil(delta * 1000.0);
  return ms >= kMaxPollMs ? kMaxPollMs : static_cast<int>(ms);
}

void IOLoop::run_once() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  const int timeout_ms = poll_timeout_ms();
  int n = 0;
  // With work pending and no fd handlers there is nothing a zero-timeout poll could
  // report except the waker, and drain() below picks up cross-thread callbacks anyway
  // (an eventfd left signalled only costs one spurious wakeup later): skip the syscall.
  if (timeout_ms != 0 || !handlers_.empty()) {
    n = ::epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
    if (n < 0) {
      if (errno != EINTR) throw_errno("epoll_wait");
      n = 0;
    }
  }
  for (int i = 0; i < n; ++i) {
    const std::uint64_t data = events[i].data.u64;
    if (data == kWakerTag) {
      waker_->consume();
      continue;
    }
    const int fd = static_cast<int>(static_cast<std::uint32_t>(data));
    const auto generation = static_cast<std::uint32_t>(data >> 32);
    auto it = handlers_.find(fd);
    // Removed (or removed and re-added) by an earlier handler of this batch: skip.
    if (it == handlers_.end() || it->second->generation != generation) continue;
    // A handler that removes itself stays alive until it returns (remove_handler parks
    // it in retired_handler_): no reference count traffic per event.
    running_handler_ = it->second.get();
    const std::uint32_t ready = events[i].events & (READ | WRITE | ERROR | RDHUP);
    try {
      running_handler_->handler(fd, ready);
    } catch (...) {
      try {
        handle_callback_exception(std::current_exception());
      } catch (...) {
      }
    }
    running_handler_ = nullptr;
    retired_handler_.reset();
    // What this event made ready (typically the coroutine waiting on the read) runs
    // now, while its data is hot in the cache and before the next connection's event,
    // as nginx handles each event to the end. Order is kept: callbacks queued earlier
    // run first; what these callbacks queue waits for the next event or round.
    if (!callbacks_.empty()) {
      running_callbacks_.swap(callbacks_);
      for (Callback& cb : running_callbacks_) run_callback(cb);
      running_callbacks_.clear();
    }
  }

  // Callbacks queued before this point run now; what they add waits for the next round.
  running_callbacks_.swap(callbacks_);
  waker_->drain(running_callbacks_);

  if (!heap_.empty()) {
    const double now = time();
    while (!heap_.empty()) {
      const HeapEntry& top = heap_.front();
      if (!timer_live(top)) {
        --cancellations_;
        std::pop_heap(heap_.begin(), heap_.end(), HeapLater{});
        heap_.pop_back();
      } else if (top.deadline <= now) {
        timer_slots_[top.index].in_heap = false;
        std::pop_heap(heap_.begin(), heap_.end(), HeapLater{});
        due_timers_.push_back(heap_.back());
        heap_.pop_back();
      } else {
        break;
      }
    }
  }

  for (Callback& cb : running_callbacks_) run_callback(cb);
  running_callbacks_.clear();

  for (std::size_t i = 0; i < due_timers_.size(); ++i) {
    const HeapEntry e = due_timers_[i];
    if (!timer_live(e)) continue;  // removed by an earlier callback of this iteration
    Callback cb = std::move(timer_slots_[e.index].cb);
    free_timer_slot(e.index);
    run_callback(cb);
  }
  due_timers_.clear();
}

// --- executors -------------------------------------------------------------------------

concurrent::Executor& IOLoop::default_executor() {
  if (!executor_) {
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    executor_ = std::make_shared<concurrent::ThreadPoolExecutor>(static_cast<int>(cpus * 5));
    owns_executor_ = true;
  }
  return *executor_;
}

void IOLoop::set_default_executor(std::shared_ptr<concurrent::Executor> executor) {
  if (executor_ && owns_executor_) executor_->shutdown(/*wait=*/false);
  executor_ = std::move(executor);
  owns_executor_ = false;
}

// --- PeriodicCallback ------------------------------------------------------------------

struct PeriodicCallback::Impl {
  absl::AnyInvocable<Future<void>()> callback;
  double callback_time_ms;
  double jitter;
  bool running = false;
  IOLoop* loop = nullptr;
  double next_timeout = 0;
  TimeoutHandle timeout;
  std::uint64_t generation = 0;
  std::minstd_rand rng{std::random_device{}()};

  static Future<void> run(std::shared_ptr<Impl> self, std::uint64_t generation);
  static void schedule_next(const std::shared_ptr<Impl>& self, std::uint64_t generation);
};

Future<void> PeriodicCallback::Impl::run(std::shared_ptr<Impl> self, std::uint64_t generation) {
  if (!self->running || self->generation != generation) co_return;
  self->timeout = TimeoutHandle();
  try {
    co_await self->callback();
  } catch (...) {
    concurrent::internal::log_exception("Exception in callback", std::current_exception());
  }
  if (self->running && self->generation == generation) schedule_next(self, generation);
}

void PeriodicCallback::Impl::schedule_next(const std::shared_ptr<Impl>& self,
                                           std::uint64_t generation) {
  double period_s = self->callback_time_ms / 1000.0;
  if (self->jitter != 0) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    period_s *= 1 + self->jitter * (unit(self->rng) - 0.5);
  }
  self->next_timeout = next_deadline(self->next_timeout, self->loop->time(), period_s);
  self->timeout = self->loop->add_timeout(self->next_timeout, [self, generation] {
    (void)run(self, generation);
  });
}

double PeriodicCallback::next_deadline(double next_timeout, double now, double period_s) {
  if (next_timeout <= now) {
    // Measured from the start of one call to the start of the next; after an overrun,
    // skip to the next multiple of the period rather than running the missed calls.
    return next_timeout + (std::floor((now - next_timeout) / period_s) + 1) * period_s;
  }
  // The clock went backwards (only possible with a custom time_func): still advance.
  return next_timeout + period_s;
}

PeriodicCallback::PeriodicCallback(absl::AnyInvocable<Future<void>()> callback,
                                   double callback_time_ms, double jitter, Tag)
    : impl_(std::make_shared<Impl>()) {
  if (!(callback_time_ms > 0)) {
    throw std::invalid_argument("Periodic callback must have a positive callback_time");
  }
  impl_->callback = std::move(callback);
  impl_->callback_time_ms = callback_time_ms;
  impl_->jitter = jitter;
}

PeriodicCallback::~PeriodicCallback() { stop(); }

void PeriodicCallback::start() {
  Impl& impl = *impl_;
  if (impl.running) return;
  impl.loop = IOLoop::current();
  impl.running = true;
  ++impl.generation;
  impl.next_timeout = impl.loop->time();
  Impl::schedule_next(impl_, impl.generation);
}

void PeriodicCallback::stop() {
  Impl& impl = *impl_;
  if (!impl.running) return;
  impl.running = false;
  ++impl.generation;
  if (impl.timeout.valid() && impl.loop != nullptr) impl.loop->remove_timeout(impl.timeout);
  impl.timeout = TimeoutHandle();
}

bool PeriodicCallback::is_running() const { return impl_->running; }

double PeriodicCallback::next_timeout() const { return impl_->next_timeout; }

}  // namespace tornado::ioloop
