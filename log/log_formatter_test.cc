// LogFormatter: Tornado's LogFormatterTest and UnicodeLogFormatterTest, plus the format
// language, colours and continuation lines.
#include "log/log_formatter.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <re2/re2.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/ostream_sink.h>

#include "log/log.h"
#include "log/test_util.h"
#include "log/utf8.h"

namespace tornado::log {
namespace {

using std::chrono::system_clock;

// 2024-01-07 13:05:09.250 UTC, a Sunday.
const system_clock::time_point kTime =
    system_clock::from_time_t(1704632709) + std::chrono::milliseconds(250);

std::string format(LogFormatter& formatter, spdlog::level::level_enum level,
                   std::string_view message, spdlog::source_loc loc = {}) {
  spdlog::details::log_msg msg(kTime, loc, "tornado.test", level,
                               spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t out;
  formatter.format(msg, out);
  return std::string(out.data(), out.size());
}

LogFormatter::Options utc(LogFormatter::Options options) {
  options.utc = true;
  return options;
}

// Tornado's LogFormatterTest: a logger writing to a file through a formatter whose
// colours are forced on, so the control characters are part of every line.
class LogFormatterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    filename_ = dir_.path() + "/log.out";
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(filename_);
    sink->set_formatter(std::make_unique<LogFormatter>(
        LogFormatter::Options{.color = ColorMode::kAlways, .colors = {{spdlog::level::err, 1}}}));
    logger_ = std::make_shared<spdlog::logger>("LogFormatterTest", sink);
  }

  // The message part of the one record in the file, checking the prefix around it.
  std::string get_output() {
    logger_->flush();
    std::string content = testing::read_file(filename_);
    std::string message;
    EXPECT_TRUE(RE2::FullMatch(
        content,
        R"((?s)\x1b\[31m\[E [0-9]{6} [0-9]{2}:[0-9]{2}:[0-9]{2} log_formatter_test:[0-9]+\]\x1b\[0m (.*)\n)",
        &message))
        << content;
    return message;
  }

  testing::TempDir dir_;
  std::string filename_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(LogFormatterTest, BasicLogging) {
  TORNADO_LOG_ERROR(*logger_, "foo");
  EXPECT_EQ(get_output(), "foo");
}

TEST_F(LogFormatterTest, FormatArguments) {
  TORNADO_LOG_ERROR(*logger_, "{} + {} = {}", 1, 2, 3);
  EXPECT_EQ(get_output(), "1 + 2 = 3");
}

// Tornado's test_bytes_logging: bytes that are not UTF-8 come out escaped.
TEST_F(LogFormatterTest, BytesLogging) {
  TORNADO_LOG_ERROR(*logger_, "{}", "\xe9");
  EXPECT_EQ(get_output(), "\\xe9");
}

// Tornado's test_utf8_logging and test_unicode_logging: UTF-8 passes through.
TEST_F(LogFormatterTest, Utf8Logging) {
  TORNADO_LOG_ERROR(*logger_, "{}", "\xc3\xa9");
  EXPECT_EQ(get_output(), "\xc3\xa9");
}

TEST_F(LogFormatterTest, MixedValidAndInvalidBytes) {
  TORNADO_LOG_ERROR(*logger_, "{}", "caf\xc3\xa9 \xff\xfe \xed\xa0\x80 ok");
  EXPECT_EQ(get_output(), "caf\xc3\xa9 \\xff\\xfe \\xed\\xa0\\x80 ok");
}

// Tornado's test_bytes_exception_logging: the exception follows on its own, indented,
// lines, with its undecodable bytes escaped and its newlines kept.
TEST_F(LogFormatterTest, BytesExceptionLogging) {
  try {
    throw std::runtime_error("\xe9");
  } catch (...) {
    TORNADO_LOG_EXCEPTION(*logger_, "caught exception");
  }
  std::string output = get_output();
  EXPECT_EQ(output, "caught exception\n    std::runtime_error: \\xe9");
  EXPECT_EQ(output.find("\\n"), std::string::npos);
}

TEST_F(LogFormatterTest, NestedExceptionLogging) {
  try {
    try {
      throw std::out_of_range("index 7");
    } catch (...) {
      std::throw_with_nested(std::runtime_error("lookup failed"));
    }
  } catch (...) {
    TORNADO_LOG_EXCEPTION(*logger_, "request {} failed  ", 3);
  }
  EXPECT_EQ(get_output(),
            "request 3 failed\n"
            "    std::out_of_range: index 7\n"
            "    \n"
            "    The above exception was the direct cause of the following exception:\n"
            "    \n"
            "    std::runtime_error: lookup failed");
}

TEST(LogFormatter, DefaultFormatMatchesTornado) {
  LogFormatter formatter(utc({.color = ColorMode::kNever}));
  EXPECT_EQ(format(formatter, spdlog::level::warn, "hello", {"/src/web/web.cc", 42, "get"}),
            "[W 240107 13:05:09 web:42] hello\n");
}

TEST(LogFormatter, LevelLetters) {
  LogFormatter formatter(utc({.fmt = "%(levelname)1.1s %(levelname)s %(levelno)d"}));
  EXPECT_EQ(format(formatter, spdlog::level::debug, ""), "D DEBUG 10\n");
  EXPECT_EQ(format(formatter, spdlog::level::info, ""), "I INFO 20\n");
  EXPECT_EQ(format(formatter, spdlog::level::err, ""), "E ERROR 40\n");
  EXPECT_EQ(format(formatter, spdlog::level::critical, ""), "C CRITICAL 50\n");
}

TEST(LogFormatter, UnknownSourceLocationAsPython) {
  LogFormatter formatter(utc({.fmt = "%(module)s:%(lineno)d %(funcName)s %(pathname)s"}));
  EXPECT_EQ(format(formatter, spdlog::level::info, "x"),
            "(unknown file):0 (unknown function) (unknown file)\n");
}

TEST(LogFormatter, SourceFields) {
  LogFormatter formatter(
      utc({.fmt = "%(pathname)s|%(filename)s|%(module)s|%(lineno)d|%(funcName)s|%(name)s"}));
  EXPECT_EQ(format(formatter, spdlog::level::info, "", {"a/b/conn.test.cc", 7, "run"}),
            "a/b/conn.test.cc|conn.test.cc|conn.test|7|run|tornado.test\n");
}

TEST(LogFormatter, MacrosRecordTheCallSite) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_formatter(std::make_unique<LogFormatter>(
      LogFormatter::Options{.fmt = "%(module)s:%(lineno)d %(funcName)s %(message)s"}));
  spdlog::logger logger("macros", sink);
  int line = __LINE__ + 1;
  TORNADO_LOG_INFO(logger, "x={}", 5);
  EXPECT_EQ(out.str(), "log_formatter_test:" + std::to_string(line) + " TestBody x=5\n");
}

TEST(LogFormatter, DateFormatAndPythonDefault) {
  LogFormatter custom(utc({.fmt = "%(asctime)s", .datefmt = "%Y/%m/%d %H.%M"}));
  EXPECT_EQ(format(custom, spdlog::level::info, ""), "2024/01/07 13.05\n");
  LogFormatter python_default(utc({.fmt = "%(asctime)s", .datefmt = ""}));
  EXPECT_EQ(format(python_default, spdlog::level::info, ""), "2024-01-07 13:05:09,250\n");
}

TEST(LogFormatter, NumericFields) {
  LogFormatter formatter(utc({.fmt = "%(created)f %(msecs)03d %(created).1f %(msecs)s"}));
  EXPECT_EQ(format(formatter, spdlog::level::info, ""), "1704632709.250000 250 1704632709.2 250.0\n");
}

TEST(LogFormatter, WidthPrecisionAndFlags) {
  LogFormatter formatter(utc({.fmt = "[%(levelname)-8s|%(levelname)8s|%(lineno)05d|%(lineno)-4d|"
                                     "%(lineno)+d|%(levelname).3s|%(message)4s|%(lineno).3d]%%"}));
  EXPECT_EQ(format(formatter, spdlog::level::warn, "\xc3\xa9", {"f.cc", 42, "f"}),
            "[WARNING | WARNING|00042|42  |+42|WAR|   \xc3\xa9|042]%\n");
}

TEST(LogFormatter, MultiLineMessagesAreIndented) {
  LogFormatter formatter(utc({.color = ColorMode::kNever}));
  EXPECT_EQ(format(formatter, spdlog::level::info, "first\nsecond\n", {"x.cc", 1, "f"}),
            "[I 240107 13:05:09 x:1] first\n    second\n    \n");
}

TEST(LogFormatter, InvalidFormatsAreRejectedAtConstruction) {
  for (const char* bad : {"%(message)", "%(nope)s", "%(message)d", "%s", "%(message", "%(lineno)x"}) {
    EXPECT_THROW(LogFormatter(LogFormatter::Options{.fmt = bad}), std::invalid_argument) << bad;
  }
}

TEST(LogFormatter, ColorsPerLevelWhenForced) {
  LogFormatter formatter(utc({.color = ColorMode::kAlways}));
  ASSERT_TRUE(formatter.color_enabled());
  spdlog::source_loc loc{"x.cc", 1, "f"};
  EXPECT_EQ(format(formatter, spdlog::level::debug, "m", loc), "\x1b[34m[D 240107 13:05:09 x:1]\x1b[0m m\n");
  EXPECT_EQ(format(formatter, spdlog::level::info, "m", loc), "\x1b[32m[I 240107 13:05:09 x:1]\x1b[0m m\n");
  EXPECT_EQ(format(formatter, spdlog::level::warn, "m", loc), "\x1b[33m[W 240107 13:05:09 x:1]\x1b[0m m\n");
  EXPECT_EQ(format(formatter, spdlog::level::err, "m", loc), "\x1b[31m[E 240107 13:05:09 x:1]\x1b[0m m\n");
  EXPECT_EQ(format(formatter, spdlog::level::critical, "m", loc),
            "\x1b[35m[C 240107 13:05:09 x:1]\x1b[0m m\n");
}

TEST(LogFormatter, LevelsWithoutAColourAreNotColoured) {
  LogFormatter formatter(utc({.color = ColorMode::kAlways, .colors = {{spdlog::level::err, 1}}}));
  EXPECT_EQ(format(formatter, spdlog::level::info, "m", {"x.cc", 1, "f"}), "[I 240107 13:05:09 x:1] m\n");
}

TEST(LogFormatter, NoColoursWhenOff) {
  LogFormatter formatter(utc({.color = ColorMode::kNever}));
  EXPECT_FALSE(formatter.color_enabled());
  EXPECT_EQ(formatter.color_code(spdlog::level::err), "");
  EXPECT_EQ(format(formatter, spdlog::level::err, "m", {"x.cc", 1, "f"}), "[E 240107 13:05:09 x:1] m\n");
}

TEST(LogFormatter, AutoColourNeedsATerminal) {
  testing::TempDir dir;
  int fd = open((dir.path() + "/plain").c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(LogFormatter::terminal_supports_color(fd));
  EXPECT_FALSE(LogFormatter(LogFormatter::Options{.color_fd = fd}).color_enabled());
  close(fd);
}

TEST(LogFormatter, CloneKeepsTheConfiguration) {
  LogFormatter formatter(utc({.fmt = "%(levelname)s %(message)s", .color = ColorMode::kAlways}));
  std::unique_ptr<spdlog::formatter> copy = formatter.clone();
  spdlog::details::log_msg msg(kTime, {}, "n", spdlog::level::info, "hi");
  spdlog::memory_buf_t a, b;
  formatter.format(msg, a);
  copy->format(msg, b);
  EXPECT_EQ(std::string(a.data(), a.size()), std::string(b.data(), b.size()));
}

TEST(Utf8, CountsAndTruncatesCodePoints) {
  EXPECT_EQ(utf8::count_code_points("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), 4u);
  EXPECT_EQ(utf8::count_code_points("\xff\xfe"), 2u);
  EXPECT_EQ(utf8::truncate_code_points("\xc3\xa9\xc3\xa9", 1), "\xc3\xa9");
  std::string out;
  utf8::append_escaping_invalid("\xc0\xaf \xf4\x90\x80\x80 \xe2\x82", out);  // Overlong, too big, cut.
  EXPECT_EQ(out, "\\xc0\\xaf \\xf4\\x90\\x80\\x80 \\xe2\\x82");
}

}  // namespace
}  // namespace tornado::log
