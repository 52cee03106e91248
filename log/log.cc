// The loggers live in spdlog's registry under Tornado's names, so spdlog::get() and
// spdlog's level/sink controls reach them as Python's logging.getLogger does. All three
// write through one shared root sink, as Tornado's loggers propagate to the root logger.
#include "log/log.h"

#include <cxxabi.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include <absl/strings/ascii.h>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "log/log_formatter.h"

namespace tornado::log {
namespace {

struct Loggers {
  std::shared_ptr<spdlog::sinks::dist_sink_mt> root;
  spdlog::logger* access;
  spdlog::logger* app;
  spdlog::logger* gen;
};

// Returns the logger registered under `name`, creating it over `root` if needed (a
// logger the user registered first, with their own sinks, is kept as it is).
spdlog::logger* named_logger(const std::string& name,
                             const std::shared_ptr<spdlog::sinks::dist_sink_mt>& root) {
  std::shared_ptr<spdlog::logger> logger = spdlog::get(name);
  if (!logger) {
    logger = std::make_shared<spdlog::logger>(name, root);
    logger->set_level(spdlog::get_level());
    spdlog::register_logger(logger);
  }
  return logger.get();  // The registry keeps it alive until spdlog::drop/shutdown.
}

// Built once, all together, so the root sink is configured before any logger uses it.
const Loggers& loggers() {
  static const Loggers instance = [] {
    auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    stderr_sink->set_formatter(std::make_unique<LogFormatter>());
    auto root = std::make_shared<spdlog::sinks::dist_sink_mt>(
        std::vector<spdlog::sink_ptr>{std::move(stderr_sink)});
    return Loggers{root, named_logger("tornado.access", root),
                   named_logger("tornado.application", root),
                   named_logger("tornado.general", root)};
  }();
  return instance;
}

struct LevelName {
  std::string_view name;
  spdlog::level::level_enum level;
};

constexpr std::array<LevelName, 9> kLevelNames = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warning", spdlog::level::warn},
    {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},
    {"critical", spdlog::level::critical},
    {"fatal", spdlog::level::critical},
    {"none", spdlog::level::off},
}};

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

// The dynamic type of `e`, without libstdc++'s wrapper for std::throw_with_nested.
std::string exception_type_name(const std::exception& e) {
  std::string name = demangle(typeid(e).name());
  constexpr std::string_view kNestedWrapper = "std::_Nested_exception<";
  if (name.starts_with(kNestedWrapper) && name.ends_with(">")) {
    name = name.substr(kNestedWrapper.size(), name.size() - kNestedWrapper.size() - 1);
  }
  return name;
}

// Appends the description of `error` and of what caused it, causes first.
void describe(std::exception_ptr error, std::vector<std::string>& out) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::string line = exception_type_name(e) + ": " + e.what();
    try {
      std::rethrow_if_nested(e);
    } catch (...) {
      describe(std::current_exception(), out);
      out.push_back("");
      out.push_back("The above exception was the direct cause of the following exception:");
      out.push_back("");
    }
    out.push_back(std::move(line));
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    out.push_back(type ? demangle(type->name()) : "unknown exception");
  }
}

}  // namespace

spdlog::logger& access_log() { return *loggers().access; }

spdlog::logger& app_log() { return *loggers().app; }

spdlog::logger& gen_log() { return *loggers().gen; }

std::shared_ptr<spdlog::sinks::dist_sink_mt> root_sink() { return loggers().root; }

absl::StatusOr<spdlog::level::level_enum> parse_level(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (lower == "off") return spdlog::level::off;
  for (const LevelName& entry : kLevelNames) {
    if (entry.name == lower) return entry.level;
  }
  return absl::InvalidArgumentError(fmt::format(
      "unknown log level \"{}\"; expected debug, info, warning, error, critical or none", name));
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "TRACE";
    case spdlog::level::debug: return "DEBUG";
    case spdlog::level::info: return "INFO";
    case spdlog::level::warn: return "WARNING";
    case spdlog::level::err: return "ERROR";
    case spdlog::level::critical: return "CRITICAL";
    default: return "NONE";
  }
}

int level_number(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return 5;
    case spdlog::level::debug: return 10;
    case spdlog::level::info: return 20;
    case spdlog::level::warn: return 30;
    case spdlog::level::err: return 40;
    case spdlog::level::critical: return 50;
    default: return 60;
  }
}

absl::Status set_level(spdlog::logger& logger, std::string_view name) {
  absl::StatusOr<spdlog::level::level_enum> level = parse_level(name);
  if (!level.ok()) return level.status();
  logger.set_level(*level);
  return absl::OkStatus();
}

absl::Status set_global_level(std::string_view name) {
  absl::StatusOr<spdlog::level::level_enum> level = parse_level(name);
  if (!level.ok()) return level.status();
  loggers();  // Tornado's loggers exist before the registry applies the level.
  spdlog::set_level(*level);
  return absl::OkStatus();
}

std::string format_exception(std::exception_ptr error) {
  if (!error) return "(no exception)";
  std::vector<std::string> lines;
  describe(error, lines);
  std::string text;
  for (const std::string& line : lines) {
    if (!text.empty()) text += '\n';
    text += line;
  }
  return text;
}

void log_exception(spdlog::logger& logger, spdlog::source_loc loc, spdlog::level::level_enum level,
                   std::exception_ptr error, std::string_view message) {
  if (!logger.should_log(level)) return;
  // Tornado strips the first line's trailing whitespace before the exception lines.
  while (!message.empty() && absl::ascii_isspace(static_cast<unsigned char>(message.back()))) {
    message.remove_suffix(1);
  }
  std::string text(message);
  text += '\n';
  text += format_exception(error);
  logger.log(loc, level, spdlog::string_view_t(text));
}

}  // namespace tornado::log
