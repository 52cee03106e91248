// enable_pretty_logging: Tornado's logging set-up from options (log level, stderr,
// rotating log files), as tornado.options runs it after parsing the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <absl/status/status.h>
#include <spdlog/logger.h>

#include "log/file_sinks.h"

namespace tornado::log {

// The logging options Tornado's define_logging_options declares, one field per flag
// with the same name and default, so the options module can fill it from flags.
struct LoggingOptions {
  // Level name (debug, info, warning, error, critical); "none" (any case) or empty
  // leaves the logging configuration alone. Tornado's --logging.
  std::string logging = "info";
  // Write to stderr (coloured on a terminal). Unset: only if there is no log file and
  // the logger has no other output. Tornado's --log_to_stderr.
  std::optional<bool> log_to_stderr;
  // Path of the log file; empty for none. Tornado's --log_file_prefix.
  std::string log_file_prefix;
  // Size rotation: the file size that triggers a rollover (0: never).
  int64_t log_file_max_size = 100 * 1000 * 1000;
  // Rotated files to keep.
  int log_file_num_backups = 10;
  // "size" or "time".
  std::string log_rotate_mode = "size";
  // Time rotation: S, M, H, D, midnight or W0-W6, as Python's TimedRotatingFileHandler.
  std::string log_rotate_when = "midnight";
  // Time rotation: how many `log_rotate_when` units a file covers.
  int log_rotate_interval = 1;

  // Not a flag: the clock of time rotation (empty: the system clock); tests inject one.
  TimedRotatingFileSink::Clock clock;

  // Checks what enable_pretty_logging would reject: the level name, and with a log file
  // the rotate mode and time-rotation settings.
  absl::Status validate() const;
};

// Turns on Tornado-formatted logging as `options` say; Tornado's enable_pretty_logging.
// Sets the level, adds a rotating log file (never coloured) and, per log_to_stderr,
// stderr with colours on a terminal. Does nothing when options.logging is "none".
//
// Without `logger` it configures Tornado's three loggers: their level, and the outputs
// of root_sink(), which it replaces (calling it again reconfigures instead of doubling
// every line, as Tornado's would). With `logger` it sets that logger's level and adds
// the outputs to its sinks, as Tornado adds handlers; do that before other threads log
// through it. Throws std::invalid_argument (Tornado's ValueError) for invalid options,
// spdlog::spdlog_ex if the log file cannot be opened.
void enable_pretty_logging(const LoggingOptions& options = LoggingOptions(),
                           spdlog::logger* logger = nullptr);

}  // namespace tornado::log
