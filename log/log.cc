// The loggers live in spdlog's registry under Tornado's names, so spdlog::get() and
// spdlog's level/sink controls reach them as Python's logging.getLogger does.
#include "log/log.h"

#include <memory>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace tornado::log {
namespace {

spdlog::logger& named_logger(const std::string& name) {
  std::shared_ptr<spdlog::logger> logger = spdlog::get(name);
  if (!logger) {
    logger = spdlog::stderr_color_mt(name);
  }
  return *logger;
}

}  // namespace

spdlog::logger& access_log() {
  static spdlog::logger& logger = named_logger("tornado.access");
  return logger;
}

spdlog::logger& app_log() {
  static spdlog::logger& logger = named_logger("tornado.application");
  return logger;
}

spdlog::logger& gen_log() {
  static spdlog::logger& logger = named_logger("tornado.general");
  return logger;
}

}  // namespace tornado::log
