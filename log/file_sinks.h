// File sinks that rotate as Python's logging.handlers do: by size (RotatingFileHandler)
// and by time (TimedRotatingFileHandler), with Python's backup file names.
//
// Both are thread-safe (spdlog base_sink over std::mutex), append to an existing file,
// and flush after every record as Python's handlers do, so a crash loses no line.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>
#include <absl/time/time.h>
#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>

namespace tornado::log {

// Writes to `filename`; when a record would bring the file to `max_bytes` or more, the
// file becomes `filename.1` (`.1` becomes `.2`, ... up to `backup_count`, the oldest
// is deleted) and a new file is started. With max_bytes or backup_count 0 it never
// rolls over. Python's logging.handlers.RotatingFileHandler; unlike spdlog's
// rotating_file_sink it keeps the extension in place ("app.log.1", not "app.1.log")
// and never rolls over an empty file.
class RotatingFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Opens (creates) the file; throws spdlog::spdlog_ex if it cannot.
  RotatingFileSink(std::string filename, int64_t max_bytes, int backup_count);

  const std::string& filename() const { return filename_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  void roll_over();

  std::string filename_;
  int64_t max_bytes_;
  int backup_count_;
  spdlog::details::file_helper file_;
  int64_t size_ = 0;
};

// Writes to `filename` and, at each rollover time, renames it with the start of the
// period it covers as suffix (`filename.2024-01-07_13-00-00` for hourly files) and
// starts a new one, keeping at most `backup_count` old files (0 keeps all). Python's
// logging.handlers.TimedRotatingFileHandler.
class TimedRotatingFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  struct Options {
    // "S", "M", "H", "D" (seconds, minutes, hours, days; `interval` of them), "midnight"
    // (every `interval` days at midnight), "W0".."W6" (weekly, at the midnight that
    // starts that day, 0 = Monday; `interval` unused). Case-insensitive, as Python's.
    std::string when = "h";
    int interval = 1;
    int backup_count = 0;
    // Rollover times and file names in UTC instead of local time.
    bool utc = false;
    // The time source; tests inject a fake one. Defaults to the system clock.
    Clock clock;
  };

  // Opens (creates) the file; throws std::invalid_argument for a bad `when` or
  // interval, spdlog::spdlog_ex if the file cannot be opened. As in Python, an
  // existing file's first rollover is computed from its modification time.
  TimedRotatingFileSink(std::string filename, Options options);

  // Checks a `when` and `interval` as the constructor would (for option validation).
  static absl::Status check_when(std::string_view when, int interval);

  // The time of the next rollover.
  absl::Time rollover_at();

  const std::string& filename() const { return filename_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  enum class Unit { kFixed, kMidnight, kWeekly };

  absl::Time next_rollover(absl::Time now) const;
  absl::Time period_start(absl::Time rollover) const;
  void roll_over(absl::Time now);
  void delete_old_backups();

  std::string filename_;
  Options options_;
  absl::TimeZone zone_;
  Unit unit_ = Unit::kFixed;
  absl::Duration step_;  // For kFixed: interval times the unit.
  int weekday_ = 0;      // For kWeekly: 0 = Monday.
  std::string suffix_;   // absl::FormatTime format of the backup suffix.
  std::string shape_;    // The suffix with 'd' for each digit, to recognise backups.
  absl::Time rollover_at_;
  spdlog::details::file_helper file_;
};

}  // namespace tornado::log
