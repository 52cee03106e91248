// Tornado's three loggers (tornado.log): access_log, app_log and gen_log, over spdlog;
// Tornado's level names; TORNADO_LOG_* macros that record the caller's file:line; and
// logging of exceptions (Python's logger.exception / exc_info=True).
//
// Thread safety: the loggers and every sink this module creates are the spdlog "_mt"
// kind, so any thread may log at any time. Reconfiguring (enable_pretty_logging with an
// explicit logger, logger.sinks().push_back) is not synchronised with logging; do it
// before other threads log. root_sink() may be reconfigured at any time.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/spdlog.h>

namespace tornado::log {

// Per-request access logging ("tornado.access"); Tornado's access_log.
spdlog::logger& access_log();

// Uncaught errors from application code ("tornado.application"); Tornado's app_log.
spdlog::logger& app_log();

// Everything else, e.g. connection errors ("tornado.general"); Tornado's gen_log.
spdlog::logger& gen_log();

// The sink all three loggers write through, a thread-safe fan-out to the configured
// outputs; the counterpart of Python's root-logger handlers, to which Tornado's loggers
// propagate. Until enable_pretty_logging() runs it holds one stderr sink formatted by
// LogFormatter. Use root_sink()->add_sink / set_sinks to reconfigure from any thread.
std::shared_ptr<spdlog::sinks::dist_sink_mt> root_sink();

// Parses a level name, case-insensitively: Tornado's "debug", "info", "warning", "error",
// "critical" and "none" (nothing is logged), plus Python's aliases "warn" and "fatal",
// and spdlog's "trace" and "off". Python: getattr(logging, name.upper()).
absl::StatusOr<spdlog::level::level_enum> parse_level(std::string_view name);

// The Python logging name of a level: "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"
// ("TRACE" and "NONE" for spdlog's trace and off); Python's logging.getLevelName.
std::string_view level_name(spdlog::level::level_enum level);

// The Python logging number of a level (10 DEBUG ... 50 CRITICAL, 5 for trace); the
// record's levelno.
int level_number(spdlog::level::level_enum level);

// Sets one logger's level by name; Python's logger.setLevel("WARNING").
absl::Status set_level(spdlog::logger& logger, std::string_view name);

// Sets the level of every logger registered with spdlog, Tornado's included, and the
// default for loggers created later; the closest counterpart of setting the root
// logger's level in Python.
absl::Status set_global_level(std::string_view name);

// Describes an exception for a log: its type and what(), and for a std::nested_exception
// chain the innermost first, each followed by the one it caused, as Python prints a
// chained traceback. C++ keeps no traceback, so only these lines appear.
// Python: logging.Formatter.formatException.
std::string format_exception(std::exception_ptr error);

// Logs `message` with the exception described on the following lines (indented by
// LogFormatter); Python's logger.log(level, message, exc_info=error). Every sink sees
// the exception text, whatever its formatter.
void log_exception(spdlog::logger& logger, spdlog::source_loc loc, spdlog::level::level_enum level,
                   std::exception_ptr error, std::string_view message);

// As above, formatting the message with fmt (only when the level is enabled).
template <typename... Args>
void log_exception(spdlog::logger& logger, spdlog::source_loc loc, spdlog::level::level_enum level,
                   std::exception_ptr error, fmt::format_string<Args...> format, Args&&... args) {
  if (!logger.should_log(level)) return;
  log_exception(logger, loc, level, std::move(error),
                std::string_view(fmt::format(format, std::forward<Args>(args)...)));
}

}  // namespace tornado::log

// The caller's file, line and function, for spdlog; LogFormatter derives %(module)s,
// %(lineno)d and %(funcName)s from it.
#define TORNADO_LOG_HERE_() \
  ::spdlog::source_loc { __FILE__, __LINE__, static_cast<const char*>(__func__) }

// Logs through `logger` (an spdlog::logger&) at `level` with fmt-style arguments,
// recording the call site: TORNADO_LOG(app_log(), spdlog::level::info, "x={}", x).
#define TORNADO_LOG(logger, level, ...) (logger).log(TORNADO_LOG_HERE_(), level, __VA_ARGS__)
#define TORNADO_LOG_DEBUG(logger, ...) TORNADO_LOG(logger, ::spdlog::level::debug, __VA_ARGS__)
#define TORNADO_LOG_INFO(logger, ...) TORNADO_LOG(logger, ::spdlog::level::info, __VA_ARGS__)
#define TORNADO_LOG_WARNING(logger, ...) TORNADO_LOG(logger, ::spdlog::level::warn, __VA_ARGS__)
#define TORNADO_LOG_ERROR(logger, ...) TORNADO_LOG(logger, ::spdlog::level::err, __VA_ARGS__)
#define TORNADO_LOG_CRITICAL(logger, ...) \
  TORNADO_LOG(logger, ::spdlog::level::critical, __VA_ARGS__)

// Inside a catch block: logs at ERROR with the exception being handled, recording the
// call site; Python's logger.exception("...").
#define TORNADO_LOG_EXCEPTION(logger, ...)                                                     \
  ::tornado::log::log_exception((logger), TORNADO_LOG_HERE_(), ::spdlog::level::err,           \
                                std::current_exception(), __VA_ARGS__)
