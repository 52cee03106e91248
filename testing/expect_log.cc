// ExpectLog: a filtering spdlog sink put in front of a logger's sinks.
#include "testing/expect_log.h"

#include <exception>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <re2/re2.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include "gtest/gtest.h"
#include "log/log.h"

namespace tornado::testing {
namespace internal {

// Set while this thread emits the "unexpected level" warning, so that warning passes
// through every ExpectLog unfiltered (it could match a broad pattern and recurse).
thread_local bool tls_in_warning = false;

class ExpectLogSink : public spdlog::sinks::sink {
 public:
  ExpectLogSink(std::string_view pattern, std::optional<spdlog::level::level_enum> level,
                std::vector<spdlog::sink_ptr> next)
      : re_(std::string(pattern), RE2::Quiet), level_(level), next_(std::move(next)) {
    if (!re_.ok()) {
      throw std::invalid_argument("ExpectLog: bad pattern '" + std::string(pattern) +
                                  "': " + re_.error());
    }
  }

  void log(const spdlog::details::log_msg& msg) override {
    const std::string_view message(msg.payload.data(), msg.payload.size());
    bool swallow = false;
    bool warn = false;
    if (!tls_in_warning) {
      const bool match = re_.Match(message, 0, message.size(), RE2::ANCHOR_START, nullptr, 0);
      std::lock_guard<std::mutex> lock(mu_);
      if (message.find('\n') != std::string_view::npos) logged_stack_ = true;
      if (match) {
        if (level_ && msg.level != *level_) {
          warn = true;
        } else {
          swallow = true;
          matched_.emplace_back(message);
        }
      }
    }
    if (warn) {
      tls_in_warning = true;
      TORNADO_LOG_WARNING(log::app_log(), "Got expected log message '{}' at unexpected level ({} vs {})", message,
                          log::level_name(*level_), log::level_name(msg.level));
      tls_in_warning = false;
    }
    if (swallow) return;
    for (auto& sink : next_) {
      if (sink->should_log(msg.level)) sink->log(msg);
    }
  }
  void flush() override {
    for (auto& sink : next_) sink->flush();
  }
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

  std::size_t match_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return matched_.size();
  }
  bool logged_stack() const {
    std::lock_guard<std::mutex> lock(mu_);
    return logged_stack_;
  }
  std::vector<std::string> matched_messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return matched_;
  }

 private:
  const RE2 re_;
  const std::optional<spdlog::level::level_enum> level_;
  const std::vector<spdlog::sink_ptr> next_;
  mutable std::mutex mu_;
  std::vector<std::string> matched_;
  bool logged_stack_ = false;
};

}  // namespace internal

namespace {
spdlog::logger& lookup(std::string_view name) {
  (void)log::app_log();  // Tornado's loggers register on first use.
  std::shared_ptr<spdlog::logger> logger = spdlog::get(std::string(name));
  if (!logger) throw std::invalid_argument("ExpectLog: no logger named '" + std::string(name) + "'");
  return *logger;  // The spdlog registry keeps it alive.
}
}  // namespace

ExpectLog::ExpectLog(std::string_view logger_name, std::string_view pattern, bool required,
                     std::optional<spdlog::level::level_enum> level)
    : ExpectLog(lookup(logger_name), pattern, required, level) {}

ExpectLog::ExpectLog(spdlog::logger& logger, std::string_view pattern, bool required,
                     std::optional<spdlog::level::level_enum> level)
    : logger_(logger),
      pattern_(pattern),
      required_(required),
      uncaught_at_entry_(std::uncaught_exceptions()),
      orig_sinks_(logger.sinks()) {
  sink_ = std::make_shared<internal::ExpectLogSink>(pattern, level, orig_sinks_);
  if (level && *level < logger_.level()) {
    orig_level_ = logger_.level();
    logger_.set_level(*level);
  }
  logger_.sinks() = {sink_};
}

ExpectLog::~ExpectLog() {
  logger_.sinks() = orig_sinks_;
  if (orig_level_) logger_.set_level(*orig_level_);
  // As Tornado, no failure while an exception is unwinding through the scope.
  if (required_ && !matched() && std::uncaught_exceptions() <= uncaught_at_entry_) {
    ADD_FAILURE() << "did not get expected log message matching '" << pattern_ << "' on logger "
                  << logger_.name();
  }
}

std::size_t ExpectLog::match_count() const { return sink_->match_count(); }
bool ExpectLog::logged_stack() const { return sink_->logged_stack(); }
std::vector<std::string> ExpectLog::matched_messages() const { return sink_->matched_messages(); }

}  // namespace tornado::testing
