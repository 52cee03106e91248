// LogFormatter: the format is parsed once into fields; each record is formatted into
// one string whose newlines are then indented, as Tornado's LogFormatter.format does.
#include "log/log_formatter.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <spdlog/details/log_msg.h>

#include "log/log.h"
#include "log/utf8.h"

namespace tornado::log {

namespace {

enum class Key {
  kLiteral,
  kMessage,
  kLevelName,
  kLevelNo,
  kAscTime,
  kCreated,
  kMsecs,
  kName,
  kModule,
  kFileName,
  kPathName,
  kLineNo,
  kFuncName,
  kProcess,
  kThread,
  kColor,
  kEndColor,
};

struct KeyName {
  std::string_view name;
  Key key;
  bool numeric;
};

constexpr KeyName kKeys[] = {
    {"message", Key::kMessage, false},   {"levelname", Key::kLevelName, false},
    {"levelno", Key::kLevelNo, true},    {"asctime", Key::kAscTime, false},
    {"created", Key::kCreated, true},    {"msecs", Key::kMsecs, true},
    {"name", Key::kName, false},         {"module", Key::kModule, false},
    {"filename", Key::kFileName, false}, {"pathname", Key::kPathName, false},
    {"lineno", Key::kLineNo, true},      {"funcName", Key::kFuncName, false},
    {"process", Key::kProcess, true},    {"thread", Key::kThread, true},
    {"color", Key::kColor, false},       {"end_color", Key::kEndColor, false},
};

constexpr std::string_view kUnknownFile = "(unknown file)";
constexpr std::string_view kUnknownFunction = "(unknown function)";

}  // namespace

struct LogFormatter::Field {
  Key key = Key::kLiteral;
  std::string literal;  // For kLiteral.
  bool left = false;    // '-' flag.
  bool zero = false;    // '0' flag.
  char sign = 0;        // '+' or ' ' flag, else 0.
  int width = -1;
  int precision = -1;
  char conversion = 's';
};

namespace {

[[noreturn]] void bad_format(std::string_view spec, std::string_view why) {
  throw std::invalid_argument(fmt::format("LogFormatter: bad format \"{}\": {}", spec, why));
}

int parse_number(std::string_view spec, size_t& i) {
  int value = 0;
  while (i < spec.size() && spec[i] >= '0' && spec[i] <= '9') {
    value = value * 10 + (spec[i] - '0');
    if (value > 10000) bad_format(spec, "width or precision too large");
    ++i;
  }
  return value;
}

// Parses `%(key)[flags][width][.precision]conversion` starting after the '%'.
LogFormatter::Field parse_field(std::string_view spec, size_t& i) {
  LogFormatter::Field field;
  if (i >= spec.size() || spec[i] != '(') bad_format(spec, "every % needs a (key), or write %%");
  size_t close = spec.find(')', i);
  if (close == std::string_view::npos) bad_format(spec, "unclosed %(");
  std::string_view name = spec.substr(i + 1, close - i - 1);
  const KeyName* key = nullptr;
  for (const KeyName& candidate : kKeys) {
    if (candidate.name == name) key = &candidate;
  }
  if (key == nullptr) bad_format(spec, fmt::format("unknown key \"{}\"", name));
  field.key = key->key;
  i = close + 1;
  for (; i < spec.size(); ++i) {
    char c = spec[i];
    if (c == '-') field.left = true;
    else if (c == '0') field.zero = true;
    else if (c == '+') field.sign = '+';
    else if (c == ' ' && field.sign != '+') field.sign = ' ';
    else if (c != '#') break;
  }
  if (i < spec.size() && spec[i] >= '1' && spec[i] <= '9') field.width = parse_number(spec, i);
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    field.precision = parse_number(spec, i);
  }
  if (i >= spec.size()) bad_format(spec, "missing conversion after %(key)");
  field.conversion = spec[i++];
  switch (field.conversion) {
    case 's':
      break;
    case 'd':
    case 'i':
    case 'u':
    case 'f':
    case 'F':
      if (!key->numeric) bad_format(spec, fmt::format("%({}) is a string", name));
      break;
    default:
      bad_format(spec, fmt::format("unsupported conversion '{}'", field.conversion));
  }
  return field;
}

std::vector<LogFormatter::Field> parse_format(std::string_view spec) {
  std::vector<LogFormatter::Field> fields;
  std::string literal;
  for (size_t i = 0; i < spec.size();) {
    if (spec[i] != '%') {
      literal += spec[i++];
      continue;
    }
    ++i;
    if (i < spec.size() && spec[i] == '%') {
      literal += '%';
      ++i;
      continue;
    }
    if (!literal.empty()) {
      fields.push_back(LogFormatter::Field{.literal = std::move(literal)});
      literal.clear();
    }
    fields.push_back(parse_field(spec, i));
  }
  if (!literal.empty()) fields.push_back(LogFormatter::Field{.literal = std::move(literal)});
  return fields;
}

void pad(const LogFormatter::Field& field, std::string_view text, std::string& out) {
  size_t length = utf8::count_code_points(text);
  size_t padding = field.width > 0 && static_cast<size_t>(field.width) > length
                       ? static_cast<size_t>(field.width) - length
                       : 0;
  if (!field.left) out.append(padding, ' ');
  out.append(text);
  if (field.left) out.append(padding, ' ');
}

void append_string(const LogFormatter::Field& field, std::string_view text, std::string& out) {
  if (field.precision >= 0) text = utf8::truncate_code_points(text, field.precision);
  if (field.width <= 0) {
    out.append(text);
  } else {
    pad(field, text, out);
  }
}

// A number as Python's %d / %f with flags, width and precision.
void append_number(const LogFormatter::Field& field, double value, std::string& out) {
  bool integral = field.conversion != 'f' && field.conversion != 'F';
  bool negative = std::signbit(value) && value != 0;
  double magnitude = std::fabs(value);
  std::string digits;
  if (integral) {
    digits = fmt::format("{}", static_cast<long long>(std::trunc(magnitude)));
    if (field.precision > 0 && digits.size() < static_cast<size_t>(field.precision)) {
      digits.insert(0, static_cast<size_t>(field.precision) - digits.size(), '0');
    }
  } else {
    digits = fmt::format("{:.{}f}", magnitude, field.precision >= 0 ? field.precision : 6);
  }
  std::string sign = negative ? "-" : field.sign ? std::string(1, field.sign) : "";
  size_t length = sign.size() + digits.size();
  size_t padding = field.width > 0 && static_cast<size_t>(field.width) > length
                       ? static_cast<size_t>(field.width) - length
                       : 0;
  if (field.left) {
    out += sign + digits;
    out.append(padding, ' ');
  } else if (field.zero) {
    out += sign;
    out.append(padding, '0');
    out += digits;
  } else {
    out.append(padding, ' ');
    out += sign + digits;
  }
}

// Python's str() of a float: the shortest repr, with ".0" if it is a whole number.
std::string python_float_str(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

void append_value(const LogFormatter::Field& field, double value, std::string& out) {
  if (field.conversion == 's') {
    bool is_float = field.key == Key::kCreated || field.key == Key::kMsecs;
    append_string(field,
                  is_float ? python_float_str(value)
                           : fmt::format("{}", static_cast<long long>(value)),
                  out);
  } else {
    append_number(field, value, out);
  }
}

std::string_view base_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Python's module: the file's base name without its extension.
std::string_view module_name(std::string_view path) {
  std::string_view name = base_name(path);
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot);
}

}  // namespace

std::map<spdlog::level::level_enum, int> LogFormatter::default_colors() {
  return {
      {spdlog::level::trace, 4},  {spdlog::level::debug, 4}, {spdlog::level::info, 2},
      {spdlog::level::warn, 3},   {spdlog::level::err, 1},   {spdlog::level::critical, 5},
  };
}

bool LogFormatter::terminal_supports_color(int fd) {
  if (isatty(fd) != 1) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  const char* term = std::getenv("TERM");
  return term != nullptr && *term != '\0' && std::string_view(term) != "dumb";
}

LogFormatter::LogFormatter() : LogFormatter(Options{}) {}

LogFormatter::LogFormatter(Options options)
    : options_(std::move(options)), fields_(parse_format(options_.fmt)) {
  color_enabled_ = options_.color == ColorMode::kAlways ||
                   (options_.color == ColorMode::kAuto && terminal_supports_color(options_.color_fd));
  if (color_enabled_) {
    for (const auto& [level, code] : options_.colors) {
      color_codes_[level] = fmt::format("\033[3{}m", code);
    }
    normal_ = "\033[0m";
  }
}

LogFormatter::LogFormatter(const LogFormatter& other) = default;
LogFormatter::~LogFormatter() = default;

std::unique_ptr<spdlog::formatter> LogFormatter::clone() const {
  return std::make_unique<LogFormatter>(*this);
}

std::string_view LogFormatter::color_code(spdlog::level::level_enum level) const {
  auto it = color_codes_.find(level);
  return it == color_codes_.end() ? std::string_view() : std::string_view(it->second);
}

void LogFormatter::format_time(std::time_t seconds, int millis, std::string& out) {
  if (seconds != cached_second_) {
    std::tm parts{};
    if (options_.utc) {
      gmtime_r(&seconds, &parts);
    } else {
      localtime_r(&seconds, &parts);
    }
    const std::string& datefmt = options_.datefmt.empty() ? "%Y-%m-%d %H:%M:%S" : options_.datefmt;
    std::string buffer(64 + 4 * datefmt.size(), '\0');
    size_t length = std::strftime(buffer.data(), buffer.size(), datefmt.c_str(), &parts);
    buffer.resize(length);
    cached_time_ = std::move(buffer);
    cached_second_ = seconds;
  }
  out += cached_time_;
  if (options_.datefmt.empty()) out += fmt::format(",{:03d}", millis);
}

void LogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using std::chrono::duration_cast;
  auto since_epoch = msg.time.time_since_epoch();
  std::time_t seconds = static_cast<std::time_t>(
      duration_cast<std::chrono::seconds>(since_epoch).count());
  long long micros = duration_cast<std::chrono::microseconds>(since_epoch).count() -
                     static_cast<long long>(seconds) * 1000000;
  if (micros < 0) {  // Before 1970: keep the fraction positive, as Python does.
    micros += 1000000;
    --seconds;
  }
  std::string_view path = msg.source.filename ? std::string_view(msg.source.filename) : kUnknownFile;
  std::string_view color = color_code(msg.level);

  std::string& line = line_;
  line.clear();
  for (const Field& field : fields_) {
    switch (field.key) {
      case Key::kLiteral:
        line += field.literal;
        break;
      case Key::kMessage: {
        std::string_view payload(msg.payload.data(), msg.payload.size());
        if (field.width <= 0 && field.precision < 0) {
          utf8::append_escaping_invalid(payload, line);  // The common case: no copy.
        } else {
          std::string safe;
          utf8::append_escaping_invalid(payload, safe);
          append_string(field, safe, line);
        }
        break;
      }
      case Key::kLevelName:
        append_string(field, level_name(msg.level), line);
        break;
      case Key::kLevelNo:
        append_value(field, level_number(msg.level), line);
        break;
      case Key::kAscTime: {
        int millis = static_cast<int>(micros / 1000);
        if (field.width <= 0 && field.precision < 0) {
          format_time(seconds, millis, line);
        } else {
          std::string time;
          format_time(seconds, millis, time);
          append_string(field, time, line);
        }
        break;
      }
      case Key::kCreated:
        append_value(field, static_cast<double>(seconds) + micros / 1e6, line);
        break;
      case Key::kMsecs:
        append_value(field, micros / 1000.0, line);
        break;
      case Key::kName:
        append_string(field, std::string_view(msg.logger_name.data(), msg.logger_name.size()), line);
        break;
      case Key::kModule:
        append_string(field, msg.source.filename ? module_name(path) : kUnknownFile, line);
        break;
      case Key::kFileName:
        append_string(field, base_name(path), line);
        break;
      case Key::kPathName:
        append_string(field, path, line);
        break;
      case Key::kLineNo:
        append_value(field, msg.source.line, line);
        break;
      case Key::kFuncName:
        append_string(field, msg.source.funcname ? msg.source.funcname : kUnknownFunction, line);
        break;
      case Key::kProcess:
        append_value(field, static_cast<double>(getpid()), line);
        break;
      case Key::kThread:
        append_value(field, static_cast<double>(msg.thread_id), line);
        break;
      case Key::kColor:
        append_string(field, color, line);
        break;
      case Key::kEndColor:
        append_string(field, color.empty() ? std::string_view() : std::string_view(normal_), line);
        break;
    }
  }
  // Continuation lines are indented so each record's first line stands out.
  std::string_view rest(line);
  for (size_t newline; (newline = rest.find('\n')) != std::string_view::npos;) {
    dest.append(rest.substr(0, newline + 1));
    dest.append(std::string_view("    "));
    rest.remove_prefix(newline + 1);
  }
  dest.append(rest);
  dest.push_back('\n');
}

}  // namespace tornado::log
