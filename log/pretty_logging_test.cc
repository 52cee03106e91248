// enable_pretty_logging: Tornado's EnablePrettyLoggingTest and LoggingOptionTest.
#include "log/pretty_logging.h"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <re2/re2.h>

#include "log/log.h"
#include "log/test_util.h"

namespace tornado::log {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A file's content is one Tornado-formatted record, no colour, with this message.
void expect_one_record(const std::string& content, const std::string& message) {
  EXPECT_TRUE(RE2::FullMatch(content, R"(\[[DIWEC] [0-9]{6} [0-9:]{8} [^\]]*\] )" +
                                          RE2::QuoteMeta(message) + "\n"))
      << content;
}

// Tornado's tests build a fresh logger for each case; so do these (unregistered).
class EnablePrettyLoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logger_ = std::make_shared<spdlog::logger>("EnablePrettyLoggingTest");
    options_.log_file_prefix = dir_.path() + "/test_log";
  }

  testing::TempDir dir_;
  LoggingOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(EnablePrettyLoggingTest, DefaultsMatchTornado) {
  LoggingOptions defaults;
  EXPECT_EQ(defaults.logging, "info");
  EXPECT_FALSE(defaults.log_to_stderr.has_value());
  EXPECT_EQ(defaults.log_file_prefix, "");
  EXPECT_EQ(defaults.log_file_max_size, 100 * 1000 * 1000);
  EXPECT_EQ(defaults.log_file_num_backups, 10);
  EXPECT_EQ(defaults.log_rotate_mode, "size");
  EXPECT_EQ(defaults.log_rotate_when, "midnight");
  EXPECT_EQ(defaults.log_rotate_interval, 1);
}

TEST_F(EnablePrettyLoggingTest, LogFile) {
  enable_pretty_logging(options_, logger_.get());
  EXPECT_EQ(logger_->sinks().size(), 1u);
  TORNADO_LOG_ERROR(*logger_, "hello");
  EXPECT_THAT(dir_.files(), ElementsAre("test_log"));
  expect_one_record(testing::read_file(options_.log_file_prefix), "hello");
}

TEST_F(EnablePrettyLoggingTest, LogFileWithTimedRotating) {
  options_.log_rotate_mode = "time";
  enable_pretty_logging(options_, logger_.get());
  EXPECT_EQ(logger_->sinks().size(), 1u);
  logger_->error("hello");
  EXPECT_THAT(dir_.files(), ElementsAre("test_log"));
  expect_one_record(testing::read_file(options_.log_file_prefix), "hello");
}

TEST_F(EnablePrettyLoggingTest, SizeRotationRollsOver) {
  options_.log_file_max_size = 100;
  options_.log_file_num_backups = 2;
  enable_pretty_logging(options_, logger_.get());
  for (int i = 0; i < 6; ++i) logger_->error("record number {}", i);  // ~50 bytes each.
  EXPECT_THAT(dir_.files(), ElementsAre("test_log", "test_log.1", "test_log.2"));
  expect_one_record(testing::read_file(options_.log_file_prefix), "record number 5");
  expect_one_record(testing::read_file(options_.log_file_prefix + ".1"), "record number 4");
}

TEST_F(EnablePrettyLoggingTest, TimeRotationRollsOverWithInjectedClock) {
  testing::FakeClock clock(std::chrono::system_clock::now());
  options_.log_rotate_mode = "time";
  options_.log_rotate_when = "M";
  options_.log_rotate_interval = 2;
  options_.clock = [&clock] { return clock(); };
  enable_pretty_logging(options_, logger_.get());
  logger_->error("first");
  clock.advance(std::chrono::minutes(2));
  logger_->error("second");
  std::vector<std::string> files = dir_.files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], "test_log");
  EXPECT_TRUE(RE2::FullMatch(files[1], R"(test_log\.\d{4}-\d{2}-\d{2}_\d{2}-\d{2})")) << files[1];
  expect_one_record(testing::read_file(dir_.path() + "/" + files[1]), "first");
  expect_one_record(testing::read_file(options_.log_file_prefix), "second");
}

TEST_F(EnablePrettyLoggingTest, WrongRotateModeValue) {
  options_.log_rotate_mode = "wrong_mode";
  EXPECT_FALSE(options_.validate().ok());
  try {
    enable_pretty_logging(options_, logger_.get());
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "The value of log_rotate_mode option should be \"size\" or \"time\", not "
                 "\"wrong_mode\".");
  }
  EXPECT_THAT(logger_->sinks(), IsEmpty());
}

TEST_F(EnablePrettyLoggingTest, WrongRotateWhenOrLevel) {
  options_.log_rotate_mode = "time";
  options_.log_rotate_when = "fortnight";
  EXPECT_THROW(enable_pretty_logging(options_, logger_.get()), std::invalid_argument);
  options_.log_rotate_when = "H";
  options_.log_rotate_interval = 0;
  EXPECT_THROW(enable_pretty_logging(options_, logger_.get()), std::invalid_argument);
  options_.log_rotate_interval = 1;
  options_.logging = "verbose";
  EXPECT_THROW(enable_pretty_logging(options_, logger_.get()), std::invalid_argument);
  EXPECT_THAT(dir_.files(), IsEmpty());
}

TEST_F(EnablePrettyLoggingTest, SetsTheLevel) {
  options_.logging = "WARNING";
  enable_pretty_logging(options_, logger_.get());
  EXPECT_EQ(logger_->level(), spdlog::level::warn);
  logger_->info("hidden");
  logger_->warn("shown");
  expect_one_record(testing::read_file(options_.log_file_prefix), "shown");
}

// ---- LoggingOptionTest: turning Tornado's logging set-up off, and log_to_stderr. ----

class LoggingOptionTest : public EnablePrettyLoggingTest {};

TEST_F(LoggingOptionTest, NoneLeavesLoggingAlone) {
  for (const char* none : {"none", "None", "NONE", ""}) {
    options_.logging = none;
    options_.log_rotate_mode = "invalid, but never looked at";
    logger_->set_level(spdlog::level::err);
    enable_pretty_logging(options_, logger_.get());
    EXPECT_EQ(logger_->level(), spdlog::level::err) << none;
    EXPECT_THAT(logger_->sinks(), IsEmpty()) << none;
    EXPECT_TRUE(options_.validate().ok());
  }
  EXPECT_THAT(dir_.files(), IsEmpty());
}

TEST_F(LoggingOptionTest, StderrByDefaultWithoutAFile) {
  options_.log_file_prefix.clear();
  testing::StderrCapture capture;
  enable_pretty_logging(options_, logger_.get());
  TORNADO_LOG_INFO(*logger_, "hello");
  std::string output = capture.stop();
  EXPECT_EQ(logger_->sinks().size(), 1u);
  expect_one_record(output, "hello");  // No colour: stderr is not a terminal here.
}

TEST_F(LoggingOptionTest, NoStderrByDefaultWithAFile) {
  testing::StderrCapture capture;
  enable_pretty_logging(options_, logger_.get());
  logger_->info("hello");
  EXPECT_EQ(capture.stop(), "");
  expect_one_record(testing::read_file(options_.log_file_prefix), "hello");
}

TEST_F(LoggingOptionTest, NoStderrByDefaultWhenTheLoggerHasOutputs) {
  options_.log_file_prefix.clear();
  auto existing = std::make_shared<spdlog::sinks::dist_sink_mt>();
  logger_->sinks().push_back(existing);
  enable_pretty_logging(options_, logger_.get());
  EXPECT_EQ(logger_->sinks().size(), 1u);
}

TEST_F(LoggingOptionTest, StderrForcedOnWithAFile) {
  options_.log_to_stderr = true;
  testing::StderrCapture capture;
  enable_pretty_logging(options_, logger_.get());
  logger_->info("both");
  expect_one_record(capture.stop(), "both");
  expect_one_record(testing::read_file(options_.log_file_prefix), "both");
}

TEST_F(LoggingOptionTest, StderrForcedOffWithoutAFile) {
  options_.log_file_prefix.clear();
  options_.log_to_stderr = false;
  testing::StderrCapture capture;
  enable_pretty_logging(options_, logger_.get());
  logger_->error("nowhere");
  EXPECT_EQ(capture.stop(), "");
  EXPECT_THAT(logger_->sinks(), IsEmpty());
  EXPECT_EQ(logger_->level(), spdlog::level::info);
}

// ---- Without a logger: Tornado's three loggers and the root sink. ----

class RootLoggingTest : public EnablePrettyLoggingTest {
 protected:
  void SetUp() override {
    EnablePrettyLoggingTest::SetUp();
    saved_sinks_ = root_sink()->sinks();
  }
  void TearDown() override {
    root_sink()->set_sinks(saved_sinks_);
    for (spdlog::logger* logger : {&access_log(), &app_log(), &gen_log()}) {
      logger->set_level(spdlog::level::info);
    }
  }

  std::vector<spdlog::sink_ptr> saved_sinks_;
};

TEST_F(RootLoggingTest, ConfiguresAllTornadoLoggers) {
  options_.logging = "debug";
  testing::StderrCapture capture;
  enable_pretty_logging(options_);
  TORNADO_LOG_DEBUG(app_log(), "from app");
  TORNADO_LOG_INFO(gen_log(), "from gen");
  TORNADO_LOG_WARNING(access_log(), "from access");
  EXPECT_EQ(capture.stop(), "");
  std::string content = testing::read_file(options_.log_file_prefix);
  EXPECT_TRUE(RE2::FullMatch(content,
                             R"(\[D [^\]]* pretty_logging_test:\d+\] from app\n)"
                             R"(\[I [^\]]* pretty_logging_test:\d+\] from gen\n)"
                             R"(\[W [^\]]* pretty_logging_test:\d+\] from access\n)"))
      << content;
}

TEST_F(RootLoggingTest, CallingAgainReplacesTheOutputs) {
  enable_pretty_logging(options_);
  LoggingOptions second = options_;
  second.log_file_prefix = dir_.path() + "/second_log";
  second.logging = "error";
  enable_pretty_logging(second);
  app_log().warn("filtered");
  app_log().error("once");
  EXPECT_EQ(testing::read_file(options_.log_file_prefix), "");
  expect_one_record(testing::read_file(second.log_file_prefix), "once");
  EXPECT_EQ(gen_log().level(), spdlog::level::err);
}

TEST_F(RootLoggingTest, StderrWithoutAFile) {
  options_.log_file_prefix.clear();
  testing::StderrCapture capture;
  enable_pretty_logging(options_);
  gen_log().info("to stderr");
  std::string output = capture.stop();
  expect_one_record(output, "to stderr");
  EXPECT_THAT(output, Not(HasSubstr("\x1b[")));
}

}  // namespace
}  // namespace tornado::log
