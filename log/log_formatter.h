// LogFormatter: Tornado's log line format as an spdlog formatter, usable by any sink.
#pragma once

#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/formatter.h>

namespace tornado::log {

// When LogFormatter colours its output. Tornado's color=True is kAuto, color=False kNever.
enum class ColorMode {
  kAuto,    // Colour only if the output is a terminal that supports colour.
  kAlways,  // Colour whatever the output (e.g. a pager that understands ANSI codes).
  kNever,
};

// Formats records as Tornado's LogFormatter (tornado.log.LogFormatter): Python
// %-style fields such as `%(levelname)1.1s`, a strftime date format, a colour per
// level, and continuation lines (a multi-line message, an exception's text) indented
// by four spaces. Bytes that are not valid UTF-8 are written as \xNN escapes, so the
// output is always valid UTF-8 (Tornado repr()s undecodable byte strings).
//
// Fields: message, levelname, levelno, asctime, created, msecs, name, module, filename,
// pathname, lineno, funcName, process, thread, color, end_color. Conversions s, d,
// i, u, f, F with Python's flags (-, 0, +, space), width and precision. `%%` is a %.
//
// Like every spdlog formatter it is used under its sink's lock; clone() gives each
// sink its own copy.
class LogFormatter final : public spdlog::formatter {
 public:
  // Tornado's LogFormatter.DEFAULT_FORMAT.
  static constexpr std::string_view kDefaultFormat =
      "%(color)s[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d]%(end_color)s %(message)s";
  // Tornado's LogFormatter.DEFAULT_DATE_FORMAT (strftime, local time).
  static constexpr std::string_view kDefaultDateFormat = "%y%m%d %H:%M:%S";

  // Tornado's DEFAULT_COLORS: terminal colour numbers per level (DEBUG 4 blue, INFO 2
  // green, WARNING 3 yellow, ERROR 1 red, CRITICAL 5 magenta; trace as debug).
  static std::map<spdlog::level::level_enum, int> default_colors();

  struct Options {
    std::string fmt = std::string(kDefaultFormat);
    // strftime format of %(asctime)s; empty gives Python's default
    // "%Y-%m-%d %H:%M:%S,mmm".
    std::string datefmt = std::string(kDefaultDateFormat);
    ColorMode color = ColorMode::kAuto;
    // The file descriptor kAuto inspects: the one the sink writes to.
    int color_fd = 2;
    // Levels without an entry are not coloured.
    std::map<spdlog::level::level_enum, int> colors = default_colors();
    // Use UTC instead of local time for %(asctime)s (Python's converter = time.gmtime).
    bool utc = false;
  };

  // Throws std::invalid_argument if `options.fmt` is not a valid format (Python would
  // fail at the first record instead).
  LogFormatter();
  explicit LogFormatter(Options options);
  LogFormatter(const LogFormatter& other);
  LogFormatter& operator=(const LogFormatter&) = delete;
  ~LogFormatter() override;

  // Writes one record, ending with a newline.
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

  // Whether this formatter writes colour codes (decided at construction).
  bool color_enabled() const { return color_enabled_; }

  // The escape code that starts `level`'s colour, empty if it has none; `normal()`
  // ends it. Tornado's _colors and _normal.
  std::string_view color_code(spdlog::level::level_enum level) const;
  std::string_view normal() const { return normal_; }

  // Whether `fd` is a terminal that shows colours: a tty, TERM set and not "dumb", and
  // NO_COLOR unset. Tornado's _stderr_supports_color (which asks curses).
  static bool terminal_supports_color(int fd);

  struct Field;  // One parsed piece of the format (implementation detail).

 private:
  void format_time(std::time_t seconds, int millis, std::string& out);

  Options options_;
  std::vector<Field> fields_;
  bool color_enabled_ = false;
  std::map<spdlog::level::level_enum, std::string> color_codes_;
  std::string normal_;
  // The last second formatted by %(asctime)s, reused within that second.
  std::time_t cached_second_ = -1;
  std::string cached_time_;
  std::string line_;  // Reused for each record, keeping its capacity.
};

}  // namespace tornado::log
