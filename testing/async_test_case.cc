// AsyncTestCase, TestIOLoop, get_async_test_timeout and the fd helpers.
#include "testing/async_test_case.h"

#include <dirent.h>
#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "log/log.h"

namespace tornado::testing {
namespace {

std::string describe_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

double get_async_test_timeout() {
  const char* env = std::getenv("ASYNC_TEST_TIMEOUT");
  double value = 0;
  if (env != nullptr && absl::SimpleAtod(env, &value)) return value;
  return 5;
}

std::set<int> open_fds() {
  std::set<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = dirfd(dir);
  while (dirent* entry = readdir(dir)) {
    int fd = 0;
    if (absl::SimpleAtoi(entry->d_name, &fd) && fd != own) fds.insert(fd);
  }
  closedir(dir);
  return fds;
}

std::string describe_fd(int fd) {
  char target[PATH_MAX];
  const std::string link = absl::StrCat("/proc/self/fd/", fd);
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  if (n < 0) return "?";
  return std::string(target, static_cast<std::size_t>(n));
}

void TestIOLoop::handle_callback_exception(std::exception_ptr e) {
  if (handler_) {
    handler_(std::move(e));
  } else {
    ioloop::IOLoop::handle_callback_exception(std::move(e));
  }
}

AsyncTestCase::AsyncTestCase() = default;
AsyncTestCase::~AsyncTestCase() = default;

std::unique_ptr<ioloop::IOLoop> AsyncTestCase::get_new_ioloop() {
  return std::make_unique<TestIOLoop>();
}

void AsyncTestCase::SetUp() {
  fds_before_ = open_fds();
  previous_loop_ = ioloop::IOLoop::current(/*instance=*/false);
  io_loop_ = get_new_ioloop();
  // The loop's own descriptors (epoll, eventfd) are not the test's leaks.
  for (int fd : open_fds()) fds_before_.insert(fd);
  if (auto* test_loop = dynamic_cast<TestIOLoop*>(io_loop_.get())) {
    test_loop->set_exception_handler([this](std::exception_ptr e) { handle_exception(std::move(e)); });
  }
  io_loop_->make_current();
}

void AsyncTestCase::TearDown() {
  if (io_loop_) {
    if (previous_loop_ != nullptr) {
      previous_loop_->make_current();
    } else {
      ioloop::IOLoop::clear_current();
    }
    // Closes the fds registered with add_handler and drops pending callbacks and timers
    // (which destroys the coroutines still waiting on them).
    io_loop_->close(/*all_fds=*/true);
    io_loop_.reset();
  }
  if (failure_) {
    ADD_FAILURE() << "Exception in a loop callback during the test (not rethrown by wait()): "
                  << describe_exception(std::exchange(failure_, nullptr));
  }
  if (check_fd_leaks_) {
    std::string leaked;
    for (int fd : open_fds()) {
      if (fds_before_.contains(fd)) continue;
      absl::StrAppend(&leaked, leaked.empty() ? "" : ", ", "fd ", fd, " (", describe_fd(fd), ")");
    }
    if (!leaked.empty()) {
      ADD_FAILURE() << "File descriptors opened during the test are still open at teardown: "
                    << leaked;
    }
  }
}

void AsyncTestCase::handle_exception(std::exception_ptr e) {
  if (!failure_) {
    failure_ = std::move(e);
  } else {
    TORNADO_LOG_ERROR(log::app_log(), "multiple unhandled exceptions in test: {}", describe_exception(e));
  }
  stop();
}

void AsyncTestCase::rethrow() {
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

void AsyncTestCase::stop(std::any value) {
  stop_value_ = std::move(value);
  if (running_) {
    io_loop_->stop();
    running_ = false;
  }
  stopped_ = true;
}

std::any AsyncTestCase::wait(std::optional<double> timeout) { return wait(nullptr, timeout); }

std::any AsyncTestCase::wait(std::function<bool()> condition, std::optional<double> timeout) {
  const double seconds = timeout ? *timeout : get_async_test_timeout();
  if (!stopped_) {
    if (seconds > 0) {
      timeout_ = io_loop_->call_later(seconds, [this, seconds] {
        failure_ = std::make_exception_ptr(AsyncTestFailure(
            absl::StrCat("Async operation timed out after ", seconds, " seconds")));
        stop();
      });
    }
    while (true) {
      running_ = true;
      io_loop_->start();
      running_ = false;
      if (failure_ || (stopped_ && (!condition || condition()))) break;
    }
    io_loop_->remove_timeout(std::exchange(timeout_, ioloop::TimeoutHandle()));
  }
  stopped_ = false;
  rethrow();
  return std::exchange(stop_value_, std::any());
}

void AsyncTestCase::run_async_test_(const char* test_name, std::optional<double> timeout,
                                    absl::AnyInvocable<concurrent::Future<void>()> body,
                                    const char* file, int line) {
  const double seconds = timeout ? *timeout : get_async_test_timeout();
  std::string error;
  try {
    io_loop_->run_sync([&body] { return body(); },
                       seconds > 0 ? std::optional<double>(seconds) : std::nullopt);
  } catch (const ioloop::TimeoutError&) {
    error = absl::StrCat(test_name, " timed out after ", seconds, "s");
  } catch (...) {
    error = absl::StrCat(test_name, " failed: exception escaped the test body: ",
                         describe_exception(std::current_exception()));
  }
  if (failure_) {
    absl::StrAppend(&error, error.empty() ? "" : "\n", test_name,
                    " failed: exception in a loop callback: ",
                    describe_exception(std::exchange(failure_, nullptr)));
  }
  if (!error.empty()) {
    GTEST_MESSAGE_AT_(file, line, error.c_str(), ::testing::TestPartResult::kFatalFailure);
  }
}

}  // namespace tornado::testing
