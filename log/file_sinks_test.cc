// RotatingFileSink and TimedRotatingFileSink, driven by a fake clock (no sleeping).
#include "log/file_sinks.h"

#include <sys/time.h>

#include <chrono>
#include <algorithm>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>

#include "log/log_formatter.h"
#include "log/test_util.h"

namespace tornado::log {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::system_clock;
using ::testing::ElementsAre;

// 2024-01-07 13:05:09.250 UTC, a Sunday.
const system_clock::time_point kStart =
    system_clock::from_time_t(1704632709) + std::chrono::milliseconds(250);

// A logger writing bare messages to `sink`.
std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr sink) {
  sink->set_formatter(std::make_unique<LogFormatter>(LogFormatter::Options{.fmt = "%(message)s"}));
  return std::make_shared<spdlog::logger>("file_sinks_test", std::move(sink));
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

// ---- RotatingFileSink ----------------------------------------------------------------

TEST(RotatingFileSink, AppendsToAnExistingFile) {
  testing::TempDir dir;
  std::string path = dir.path() + "/app.log";
  write_file(path, "old\n");
  auto logger = make_logger(std::make_shared<RotatingFileSink>(path, 1000, 3));
  logger->info("new");
  EXPECT_EQ(testing::read_file(path), "old\nnew\n");
}

TEST(RotatingFileSink, RollsOverBySizeWithPythonNames) {
  testing::TempDir dir;
  std::string path = dir.path() + "/app.log";
  auto logger = make_logger(std::make_shared<RotatingFileSink>(path, 10, 2));
  // Each record is 4 bytes; the third would bring the file to 12 >= 10.
  for (const char* message : {"aaa", "bbb", "ccc", "ddd", "eee", "fff", "ggg"}) {
    logger->info(message);
  }
  EXPECT_THAT(dir.files(), ElementsAre("app.log", "app.log.1", "app.log.2"));
  EXPECT_EQ(testing::read_file(path), "ggg\n");
  EXPECT_EQ(testing::read_file(path + ".1"), "eee\nfff\n");
  EXPECT_EQ(testing::read_file(path + ".2"), "ccc\nddd\n");
}

TEST(RotatingFileSink, RollsOverWhenTheFileWouldReachTheLimitExactly) {
  testing::TempDir dir;
  std::string path = dir.path() + "/app.log";
  auto logger = make_logger(std::make_shared<RotatingFileSink>(path, 8, 1));
  logger->info("aaa");
  logger->info("bbb");  // 4 + 4 == 8: Python's >= rolls over.
  EXPECT_EQ(testing::read_file(path + ".1"), "aaa\n");
  EXPECT_EQ(testing::read_file(path), "bbb\n");
}

TEST(RotatingFileSink, NeverRollsOverAnEmptyFile) {
  testing::TempDir dir;
  std::string path = dir.path() + "/app.log";
  auto logger = make_logger(std::make_shared<RotatingFileSink>(path, 4, 1));
  logger->info("longer than the limit");
  EXPECT_THAT(dir.files(), ElementsAre("app.log"));
}

TEST(RotatingFileSink, ZeroSizeOrBackupsNeverRollsOver) {
  testing::TempDir dir;
  auto unlimited = make_logger(std::make_shared<RotatingFileSink>(dir.path() + "/a", 0, 3));
  auto no_backups = make_logger(std::make_shared<RotatingFileSink>(dir.path() + "/b", 4, 0));
  for (int i = 0; i < 5; ++i) {
    unlimited->info("line");
    no_backups->info("line");
  }
  EXPECT_THAT(dir.files(), ElementsAre("a", "b"));
  EXPECT_EQ(testing::read_file(dir.path() + "/b"), "line\nline\nline\nline\nline\n");
}

// ---- TimedRotatingFileSink -----------------------------------------------------------

class TimedRotatingFileSinkTest : public ::testing::Test {
 protected:
  std::shared_ptr<TimedRotatingFileSink> make_sink(std::string when, int interval = 1,
                                                   int backup_count = 0,
                                                   const std::string& path = "") {
    return std::make_shared<TimedRotatingFileSink>(
        path.empty() ? path_ : path, TimedRotatingFileSink::Options{.when = std::move(when),
                                              .interval = interval,
                                              .backup_count = backup_count,
                                              .utc = true,
                                              .clock = [this] { return clock_(); }});
  }

  testing::TempDir dir_;
  std::string path_ = dir_.path() + "/test_log";
  testing::FakeClock clock_{kStart};
};

absl::Time utc_time(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

TEST_F(TimedRotatingFileSinkTest, RollsOverEverySecondWithSecondSuffix) {
  auto sink = make_sink("S");
  auto logger = make_logger(sink);
  EXPECT_EQ(sink->rollover_at(), utc_time(2024, 1, 7, 13, 5, 10));
  logger->error("hello");
  clock_.advance(std::chrono::milliseconds(700));  // 13:05:09.950: same second.
  logger->error("again");
  EXPECT_THAT(dir_.files(), ElementsAre("test_log"));
  clock_.advance(std::chrono::milliseconds(50));  // 13:05:10.000: rollover.
  logger->error("next");
  EXPECT_THAT(dir_.files(), ElementsAre("test_log", "test_log.2024-01-07_13-05-09"));
  EXPECT_EQ(testing::read_file(path_ + ".2024-01-07_13-05-09"), "hello\nagain\n");
  EXPECT_EQ(testing::read_file(path_), "next\n");
  EXPECT_EQ(sink->rollover_at(), utc_time(2024, 1, 7, 13, 5, 11));
}

TEST_F(TimedRotatingFileSinkTest, MinuteSuffixAndInterval) {
  auto sink = make_sink("m", 5);
  auto logger = make_logger(sink);
  EXPECT_EQ(sink->rollover_at(), utc_time(2024, 1, 7, 13, 10, 9));
  logger->info("one");
  clock_.advance(minutes(5));
  logger->info("two");
  EXPECT_THAT(dir_.files(), ElementsAre("test_log", "test_log.2024-01-07_13-05"));
}

TEST_F(TimedRotatingFileSinkTest, KeepsOnlyBackupCountFiles) {
  auto logger = make_logger(make_sink("H", 1, 2));
  for (int i = 0; i < 5; ++i) {
    logger->info("hour {}", i);
    clock_.advance(hours(1));
  }
  logger->info("last");
  EXPECT_THAT(dir_.files(),
              ElementsAre("test_log", "test_log.2024-01-07_16", "test_log.2024-01-07_17"));
  EXPECT_EQ(testing::read_file(path_ + ".2024-01-07_17"), "hour 4\n");
  EXPECT_EQ(testing::read_file(path_), "last\n");
}

TEST_F(TimedRotatingFileSinkTest, BackupCountLeavesOtherFilesAlone) {
  write_file(path_ + ".old", "x");
  write_file(path_ + ".2024-01-01_00.gz", "x");
  write_file(path_ + ".2000-01-01_00", "oldest backup");
  auto logger = make_logger(make_sink("H", 1, 1));
  logger->info("a");
  clock_.advance(hours(1));
  logger->info("b");
  EXPECT_THAT(dir_.files(), ElementsAre("test_log", "test_log.2024-01-01_00.gz",
                                        "test_log.2024-01-07_13", "test_log.old"));
}

TEST_F(TimedRotatingFileSinkTest, DailyAtMidnight) {
  auto sink = make_sink("midnight");
  auto logger = make_logger(sink);
  EXPECT_EQ(sink->rollover_at(), utc_time(2024, 1, 8));
  logger->info("sunday");
  clock_.advance(hours(10) + minutes(54) + seconds(50));  // 23:59:59.250
  logger->info("still sunday");
  EXPECT_THAT(dir_.files(), ElementsAre("test_log"));
  clock_.advance(seconds(1));
  logger->info("monday");
  EXPECT_THAT(dir_.files(), ElementsAre("test_log", "test_log.2024-01-07"));
  EXPECT_EQ(testing::read_file(path_ + ".2024-01-07"), "sunday\nstill sunday\n");
  EXPECT_EQ(sink->rollover_at(), utc_time(2024, 1, 9));
}

TEST_F(TimedRotatingFileSinkTest, MidnightHonoursTheInterval) {
  EXPECT_EQ(make_sink("MIDNIGHT", 3)->rollover_at(), utc_time(2024, 1, 10));
}

TEST_F(TimedRotatingFileSinkTest, DaysCountFromNow) {
  EXPECT_EQ(make_sink("D", 2)->rollover_at(), utc_time(2024, 1, 9, 13, 5, 9));
}

TEST_F(TimedRotatingFileSinkTest, WeeklyAtTheMidnightStartingTheDay) {
  // Fresh files each: an existing file's rollover would count from its mtime.
  std::string other = dir_.path() + "/other_log";
  EXPECT_EQ(make_sink("w3", 1, 0, other + "3")->rollover_at(), utc_time(2024, 1, 11));  // Thursday.
  EXPECT_EQ(make_sink("W6", 1, 0, other + "6")->rollover_at(), utc_time(2024, 1, 14));  // Sunday.
  auto sink = make_sink("W0");
  EXPECT_EQ(sink->rollover_at(), utc_time(2024, 1, 8));  // Monday.
  auto logger = make_logger(sink);
  clock_.advance(hours(11));
  logger->info("monday");
  EXPECT_THAT(dir_.files(),
              ElementsAre("other_log3", "other_log6", "test_log", "test_log.2024-01-01"));
  EXPECT_EQ(sink->rollover_at(), utc_time(2024, 1, 15));
}

TEST_F(TimedRotatingFileSinkTest, ExistingFileRollsOverFromItsModificationTime) {
  write_file(path_, "from 2020\n");
  struct timeval times[2] = {{1577836800, 0}, {1577836800, 0}};  // 2020-01-01 00:00:00 UTC.
  ASSERT_EQ(utimes(path_.c_str(), times), 0);
  auto logger = make_logger(make_sink("S"));
  logger->info("now");
  EXPECT_THAT(dir_.files(), ElementsAre("test_log", "test_log.2020-01-01_00-00-00"));
  EXPECT_EQ(testing::read_file(path_ + ".2020-01-01_00-00-00"), "from 2020\n");
  EXPECT_EQ(testing::read_file(path_), "now\n");
}

TEST_F(TimedRotatingFileSinkTest, RejectsBadWhenAndInterval) {
  for (const char* when : {"X", "W", "W7", "Wx", "midnights", ""}) {
    EXPECT_THROW(make_sink(when), std::invalid_argument) << when;
  }
  EXPECT_THROW(make_sink("H", 0), std::invalid_argument);
  EXPECT_TRUE(TimedRotatingFileSink::check_when("midnight", 1).ok());
  EXPECT_FALSE(TimedRotatingFileSink::check_when("W9", 1).ok());
}

TEST(TimedRotatingFileSink, LocalTimeByDefault) {
  testing::TempDir dir;
  testing::FakeClock clock(kStart);
  TimedRotatingFileSink sink(dir.path() + "/log",
                             {.when = "midnight", .clock = [&clock] { return clock(); }});
  absl::TimeZone local = absl::LocalTimeZone();
  EXPECT_EQ(sink.rollover_at(),
            absl::FromCivil(absl::ToCivilDay(absl::FromChrono(kStart), local) + 1, local));
}

// Many threads log while the clock moves: every line lands in exactly one file.
TEST_F(TimedRotatingFileSinkTest, ThreadsLoggingAcrossRollovers) {
  auto logger = make_logger(make_sink("S"));
  constexpr int kThreads = 4;
  constexpr int kLines = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kLines; ++i) logger->info("thread {} line {}", t, i);
    });
  }
  for (int i = 0; i < 20; ++i) clock_.advance(std::chrono::milliseconds(500));
  for (std::thread& thread : threads) thread.join();
  logger->flush();
  size_t lines = 0;
  for (const std::string& name : dir_.files()) {
    std::string content = testing::read_file(dir_.path() + "/" + name);
    lines += static_cast<size_t>(std::count(content.begin(), content.end(), '\n'));
  }
  EXPECT_EQ(lines, static_cast<size_t>(kThreads * kLines));
}

}  // namespace
}  // namespace tornado::log
