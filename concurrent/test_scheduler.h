// Test support: a minimal manual Scheduler (a queue the test drains) and a capture of
// app_log output. Test-only (testonly target :test_support).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "concurrent/future.h"
#include "log/log.h"

namespace tornado::concurrent::testing {

// A Scheduler whose queue the test runs by hand. Installs itself on the constructing
// thread and restores the previous Scheduler when destroyed.
class ManualScheduler : public Scheduler {
 public:
  ManualScheduler() : previous_(Scheduler::set_current(this)), thread_(std::this_thread::get_id()) {}
  ~ManualScheduler() override {
    Scheduler::set_current(previous_);
    remote_->close();
  }

  void call_soon(Callback cb) override {
    EXPECT_EQ(std::this_thread::get_id(), thread_) << "call_soon from a foreign thread";
    queue_.push_back(std::move(cb));
  }
  std::shared_ptr<RemoteScheduler> remote() override { return remote_; }

  // Runs queued callbacks (and those they queue) until none is left; returns how many.
  int run_all() {
    int n = 0;
    for (;;) {
      remote_->drain_into(queue_);
      if (queue_.empty()) return n;
      Callback cb = std::move(queue_.front());
      queue_.pop_front();
      ++n;
      internal::run_callback_logged(cb);
    }
  }
  // Runs one queued callback; false if none.
  bool run_one() {
    remote_->drain_into(queue_);
    if (queue_.empty()) return false;
    Callback cb = std::move(queue_.front());
    queue_.pop_front();
    internal::run_callback_logged(cb);
    return true;
  }
  // Blocks until another thread has handed over at least `n` callbacks in total.
  void wait_for_remote(int n) { remote_->wait_for(n); }
  size_t pending() const { return queue_.size(); }

 private:
  class Remote : public RemoteScheduler {
   public:
    bool call_soon_threadsafe(Callback cb) override {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      queue_.push_back(std::move(cb));
      ++received_;
      cv_.notify_all();
      return true;
    }
    void drain_into(std::deque<Callback>& out) {
      std::lock_guard<std::mutex> lock(mu_);
      while (!queue_.empty()) {
        out.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    void wait_for(int n) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return received_ >= n; });
    }
    void close() {
      std::deque<Callback> dropped;
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      dropped.swap(queue_);
    }

   private:
    // std::mutex: tsan sees it (the system abseil is not tsan-instrumented).
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Callback> queue_;
    bool closed_ = false;
    int received_ = 0;
  };

  Scheduler* previous_;
  std::thread::id thread_;
  std::deque<Callback> queue_;
  std::shared_ptr<Remote> remote_ = std::make_shared<Remote>();
};

// Captures everything app_log writes while alive.
class CaptureAppLog {
 public:
  CaptureAppLog() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    tornado::log::app_log().sinks().push_back(sink_);
  }
  ~CaptureAppLog() {
    auto& sinks = tornado::log::app_log().sinks();
    for (auto it = sinks.begin(); it != sinks.end(); ++it) {
      if (*it == sink_) {
        sinks.erase(it);
        break;
      }
    }
  }
  std::string str() const {
    sink_->flush();
    return out_.str();
  }
  bool contains(const std::string& s) const { return str().find(s) != std::string::npos; }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

}  // namespace tornado::concurrent::testing
