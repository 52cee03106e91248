// enable_pretty_logging: builds the sinks Tornado would attach as handlers.
#include "log/pretty_logging.h"

#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include <absl/strings/ascii.h>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "log/log.h"
#include "log/log_formatter.h"

namespace tornado::log {
namespace {

bool is_none(const std::string& logging) {
  std::string lower(logging);
  for (char& c : lower) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return lower.empty() || lower == "none";
}

spdlog::sink_ptr make_file_sink(const LoggingOptions& options) {
  spdlog::sink_ptr sink;
  if (options.log_rotate_mode == "size") {
    sink = std::make_shared<RotatingFileSink>(options.log_file_prefix, options.log_file_max_size,
                                              options.log_file_num_backups);
  } else {
    sink = std::make_shared<TimedRotatingFileSink>(
        options.log_file_prefix,
        TimedRotatingFileSink::Options{.when = options.log_rotate_when,
                                       .interval = options.log_rotate_interval,
                                       .backup_count = options.log_file_num_backups,
                                       .clock = options.clock});
  }
  sink->set_formatter(std::make_unique<LogFormatter>(LogFormatter::Options{.color = ColorMode::kNever}));
  return sink;
}

}  // namespace

absl::Status LoggingOptions::validate() const {
  if (is_none(logging)) return absl::OkStatus();
  if (absl::StatusOr<spdlog::level::level_enum> level = parse_level(logging); !level.ok()) {
    return level.status();
  }
  if (log_file_prefix.empty()) return absl::OkStatus();
  if (log_rotate_mode == "time") {
    return TimedRotatingFileSink::check_when(log_rotate_when, log_rotate_interval);
  }
  if (log_rotate_mode != "size") {
    return absl::InvalidArgumentError(fmt::format(
        "The value of log_rotate_mode option should be \"size\" or \"time\", not \"{}\".",
        log_rotate_mode));
  }
  return absl::OkStatus();
}

void enable_pretty_logging(const LoggingOptions& options, spdlog::logger* logger) {
  if (is_none(options.logging)) return;
  if (absl::Status status = options.validate(); !status.ok()) {
    throw std::invalid_argument(std::string(status.message()));
  }
  spdlog::level::level_enum level = *parse_level(options.logging);

  std::vector<spdlog::sink_ptr> sinks;
  if (!options.log_file_prefix.empty()) sinks.push_back(make_file_sink(options));
  bool has_output = !sinks.empty() || (logger != nullptr && !logger->sinks().empty());
  if (options.log_to_stderr.value_or(!has_output)) {
    auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    stderr_sink->set_formatter(std::make_unique<LogFormatter>());
    sinks.push_back(std::move(stderr_sink));
  }

  if (logger != nullptr) {
    logger->set_level(level);
    logger->sinks().insert(logger->sinks().end(), sinks.begin(), sinks.end());
    return;
  }
  root_sink()->set_sinks(std::move(sinks));
  for (spdlog::logger* tornado_logger : {&access_log(), &app_log(), &gen_log()}) {
    tornado_logger->set_level(level);
  }
}

}  // namespace tornado::log
