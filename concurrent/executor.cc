// ThreadPoolExecutor: a mutex-guarded queue feeding threads started on demand.
#include "concurrent/executor.h"

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <utility>

namespace tornado::concurrent {

ThreadPoolExecutor::ThreadPoolExecutor(int max_workers)
    : max_workers_(max_workers > 0
                       ? max_workers
                       : std::min(32, static_cast<int>(std::thread::hardware_concurrency()) + 4)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(true); }

int ThreadPoolExecutor::num_threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(threads_.size());
}

void ThreadPoolExecutor::execute(absl::AnyInvocable<void() &&> task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) throw std::runtime_error("cannot schedule new futures after shutdown");
  queue_.push_back(std::move(task));
  cv_.notify_one();
  // Start a thread unless an idle one will pick the task up (Python's rule).
  if (idle_ < static_cast<int>(queue_.size()) &&
      static_cast<int>(threads_.size()) < max_workers_) {
    threads_.emplace_back([this] { worker_loop(); });
  }
}

void ThreadPoolExecutor::worker_loop() {
  for (;;) {
    absl::AnyInvocable<void() &&> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++idle_;
      cv_.wait(lock, [this] { return !queue_.empty() || shutdown_; });
      --idle_;
      if (queue_.empty()) return;  // shut down and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(task)();  // submit()'s wrapper never throws
  }
}

void ThreadPoolExecutor::shutdown(bool wait) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
  if (!wait) return;
  std::lock_guard<std::mutex> join_lock(join_mu_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (std::thread& t : threads) {
    if (t.joinable()) t.join();
  }
}

DummyExecutor& dummy_executor() {
  static DummyExecutor* executor = new DummyExecutor();
  return *executor;
}

}  // namespace tornado::concurrent
