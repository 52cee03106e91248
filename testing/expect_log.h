// tornado::testing::ExpectLog, Tornado's tornado.testing.ExpectLog: a scope that expects
// (and swallows) log records matching a pattern.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>
#include <spdlog/logger.h>

namespace tornado::testing {

namespace internal {
class ExpectLogSink;
}

// While alive, intercepts the records of `logger` (Tornado's ExpectLog context manager):
// a record whose message matches the RE2 `pattern` at its start (Python's re.match) is
// counted and swallowed; others go on to the logger's sinks as before. With `level`, only
// records at exactly that level count: a matching record at another level passes through
// and a warning "Got expected log message ... at unexpected level" goes to app_log; if the
// logger's level would drop records at `level`, it is lowered for the scope. When
// `required` and nothing matched, the destructor fails the current test (ADD_FAILURE
// naming the pattern: "did not get expected log message"), unless an exception is
// unwinding through the scope. The sink is thread-safe:
// any thread may log while the guard is alive. Construction and destruction swap the
// logger's sinks, which spdlog does not synchronise with logging: create and destroy
// the guard while no other thread logs to that logger. Guards nest (the inner one sees
// records first). Throws std::invalid_argument for a pattern RE2 rejects.
class ExpectLog {
 public:
  ExpectLog(spdlog::logger& logger, std::string_view pattern, bool required = true,
            std::optional<spdlog::level::level_enum> level = std::nullopt);
  // The logger registered with spdlog under `logger_name` ("tornado.application");
  // throws std::invalid_argument if there is none. Tornado accepts a logger name too.
  ExpectLog(std::string_view logger_name, std::string_view pattern, bool required = true,
            std::optional<spdlog::level::level_enum> level = std::nullopt);
  ~ExpectLog();
  ExpectLog(const ExpectLog&) = delete;
  ExpectLog& operator=(const ExpectLog&) = delete;

  // True once a record matched (Tornado's matched attribute).
  bool matched() const { return match_count() > 0; }
  // How many records matched and were swallowed.
  std::size_t match_count() const;
  // True once any record seen carried an exception's text (logged with
  // log::log_exception / TORNADO_LOG_EXCEPTION, i.e. a multi-line record; Tornado's
  // logged_stack, which checks record.exc_info).
  bool logged_stack() const;
  // The messages that matched, in order (diagnostics).
  std::vector<std::string> matched_messages() const;

 private:
  spdlog::logger& logger_;
  std::string pattern_;
  bool required_;
  int uncaught_at_entry_;
  std::optional<spdlog::level::level_enum> orig_level_;
  std::vector<spdlog::sink_ptr> orig_sinks_;
  std::shared_ptr<internal::ExpectLogSink> sink_;
};

}  // namespace tornado::testing
