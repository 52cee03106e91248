// The thread-local Scheduler slot and the logging used by Future.
#include "concurrent/future.h"

#include <exception>
#include <string>

#include "log/log.h"

namespace tornado::concurrent {
namespace {

thread_local Scheduler* t_current_scheduler = nullptr;

}  // namespace

Scheduler* Scheduler::current() noexcept { return t_current_scheduler; }

Scheduler* Scheduler::set_current(Scheduler* scheduler) noexcept {
  Scheduler* previous = t_current_scheduler;
  t_current_scheduler = scheduler;
  return previous;
}

namespace internal {

std::string describe_exception(const std::exception_ptr& e) {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

void log_exception(const char* what, const std::exception_ptr& e) noexcept {
  try {
    TORNADO_LOG_ERROR(tornado::log::app_log(), "{}: {}", what, describe_exception(e));
  } catch (...) {
    // Logging must never take the process down.
  }
}

void run_callback_logged(Callback& cb) noexcept {
  try {
    std::move(cb)();
  } catch (...) {
    log_exception("Exception in callback", std::current_exception());
  }
}

}  // namespace internal
}  // namespace tornado::concurrent
