// The three loggers, the root sink, level names, exception logging and threads.
#include "log/log.h"

#include <algorithm>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <re2/re2.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "log/log_formatter.h"
#include "log/test_util.h"
#include "log/version.h"

namespace tornado::log {
namespace {

// Makes the root sink write bare messages to a string for the test's duration.
class RootCapture {
 public:
  RootCapture()
      : saved_(root_sink()->sinks()), sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    sink_->set_formatter(std::make_unique<LogFormatter>(
        LogFormatter::Options{.fmt = "%(name)s %(levelname)s %(message)s"}));
    root_sink()->set_sinks({sink_});
  }
  ~RootCapture() { root_sink()->set_sinks(saved_); }
  std::string str() const { return out_.str(); }

 private:
  std::vector<spdlog::sink_ptr> saved_;
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

TEST(LogTest, LoggersHaveTornadoNames) {
  EXPECT_EQ(access_log().name(), "tornado.access");
  EXPECT_EQ(app_log().name(), "tornado.application");
  EXPECT_EQ(gen_log().name(), "tornado.general");
}

TEST(LogTest, LoggersAreRegisteredWithSpdlog) {
  EXPECT_EQ(spdlog::get("tornado.application").get(), &app_log());
  EXPECT_EQ(spdlog::get("tornado.access").get(), &access_log());
  EXPECT_EQ(spdlog::get("tornado.general").get(), &gen_log());
}

TEST(LogTest, MessagesReachAnAddedSink) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  gen_log().sinks().push_back(sink);
  gen_log().warn("connection {} reset", 7);
  gen_log().sinks().pop_back();
  EXPECT_NE(out.str().find("connection 7 reset"), std::string::npos) << out.str();
}

TEST(LogTest, AllLoggersShareTheRootSink) {
  RootCapture capture;
  access_log().info("200 GET /");
  app_log().error("handler failed");
  gen_log().warn("reset");
  EXPECT_EQ(capture.str(),
            "tornado.access INFO 200 GET /\n"
            "tornado.application ERROR handler failed\n"
            "tornado.general WARNING reset\n");
}

TEST(LogTest, DefaultOutputIsTornadoFormattedStderr) {
  testing::StderrCapture capture;
  TORNADO_LOG_WARNING(gen_log(), "default {}", "output");
  std::string output = capture.stop();
  EXPECT_TRUE(RE2::FullMatch(output, R"(\[W \d{6} \d\d:\d\d:\d\d log_test:\d+\] default output\n)"))
      << output;
}

TEST(LogTest, VersionHeaderIsGenerated) {
  EXPECT_STREQ(kVersion, "0.2.0");
  EXPECT_EQ(kVersionMinor, 2);
}

TEST(LevelTest, ParsesTornadoLevelNamesInAnyCase) {
  EXPECT_EQ(*parse_level("debug"), spdlog::level::debug);
  EXPECT_EQ(*parse_level("INFO"), spdlog::level::info);
  EXPECT_EQ(*parse_level("Warning"), spdlog::level::warn);
  EXPECT_EQ(*parse_level("warn"), spdlog::level::warn);
  EXPECT_EQ(*parse_level("error"), spdlog::level::err);
  EXPECT_EQ(*parse_level("critical"), spdlog::level::critical);
  EXPECT_EQ(*parse_level("FATAL"), spdlog::level::critical);
  EXPECT_EQ(*parse_level("none"), spdlog::level::off);
  EXPECT_EQ(*parse_level("off"), spdlog::level::off);
  EXPECT_EQ(*parse_level("trace"), spdlog::level::trace);
  for (const char* bad : {"", "verbose", "err", "info "}) {
    EXPECT_EQ(parse_level(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(LevelTest, PythonNamesAndNumbers) {
  EXPECT_EQ(level_name(spdlog::level::warn), "WARNING");
  EXPECT_EQ(level_name(spdlog::level::err), "ERROR");
  EXPECT_EQ(level_name(spdlog::level::off), "NONE");
  EXPECT_EQ(level_number(spdlog::level::debug), 10);
  EXPECT_EQ(level_number(spdlog::level::critical), 50);
}

TEST(LevelTest, SetLevelPerLogger) {
  RootCapture capture;
  ASSERT_TRUE(set_level(app_log(), "error").ok());
  EXPECT_FALSE(set_level(app_log(), "loud").ok());
  app_log().warn("hidden");
  gen_log().warn("shown");
  ASSERT_TRUE(set_level(app_log(), "info").ok());
  EXPECT_EQ(capture.str(), "tornado.general WARNING shown\n");
}

TEST(LevelTest, SetGlobalLevelReachesEveryRegisteredLogger) {
  RootCapture capture;
  auto own = spdlog::stderr_logger_mt("log_test.own");
  ASSERT_TRUE(set_global_level("none").ok());
  EXPECT_EQ(own->level(), spdlog::level::off);
  app_log().critical("hidden");
  EXPECT_EQ(access_log().level(), spdlog::level::off);
  ASSERT_TRUE(set_global_level("debug").ok());
  gen_log().debug("shown");
  EXPECT_FALSE(set_global_level("bogus").ok());
  EXPECT_EQ(gen_log().level(), spdlog::level::debug);
  ASSERT_TRUE(set_global_level("info").ok());
  spdlog::drop("log_test.own");
  EXPECT_EQ(capture.str(), "tornado.general DEBUG shown\n");
}

TEST(ExceptionTest, FormatsTypeAndWhat) {
  EXPECT_EQ(format_exception(std::make_exception_ptr(std::invalid_argument("bad port"))),
            "std::invalid_argument: bad port");
  EXPECT_EQ(format_exception(std::make_exception_ptr(42)), "int");
  EXPECT_EQ(format_exception(nullptr), "(no exception)");
}

struct HttpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST(ExceptionTest, FormatsUserTypesAndNestedChains) {
  std::exception_ptr error;
  try {
    try {
      throw HttpError("HTTP 599");
    } catch (...) {
      std::throw_with_nested(std::logic_error("fetch failed"));
    }
  } catch (...) {
    error = std::current_exception();
  }
  EXPECT_EQ(format_exception(error),
            "tornado::log::(anonymous namespace)::HttpError: HTTP 599\n"
            "\n"
            "The above exception was the direct cause of the following exception:\n"
            "\n"
            "std::logic_error: fetch failed");
}

TEST(ExceptionTest, LogExceptionAtAnyLevelOnlyWhenEnabled) {
  RootCapture capture;
  auto error = std::make_exception_ptr(std::runtime_error("boom"));
  log_exception(gen_log(), {}, spdlog::level::debug, error, "hidden {}", 1);
  log_exception(gen_log(), {}, spdlog::level::warn, error, "retrying {}", 2);
  EXPECT_EQ(capture.str(), "tornado.general WARNING retrying 2\n    std::runtime_error: boom\n");
}

TEST(ThreadTest, ManyThreadsLogThroughTheSameLoggers) {
  RootCapture capture;
  constexpr int kThreads = 8;
  constexpr int kLines = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      spdlog::logger& logger = t % 2 == 0 ? app_log() : access_log();
      for (int i = 0; i < kLines; ++i) TORNADO_LOG_INFO(logger, "thread {} line {}", t, i);
    });
  }
  // Reconfiguring the root sink while others log is safe.
  std::ostringstream extra_out;
  auto extra = std::make_shared<spdlog::sinks::ostream_sink_mt>(extra_out);
  root_sink()->add_sink(extra);
  root_sink()->remove_sink(extra);
  for (std::thread& thread : threads) thread.join();
  std::string output = capture.str();
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), kThreads * kLines);
}

}  // namespace
}  // namespace tornado::log
