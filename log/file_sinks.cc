// RotatingFileSink and TimedRotatingFileSink. Renames and deletions report nothing: a
// backup that cannot be moved must not stop the logging.
#include "log/file_sinks.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include <absl/strings/ascii.h>
#include <fmt/format.h>

namespace tornado::log {
namespace fs = std::filesystem;

namespace {

void rename_if_exists(const std::string& from, const std::string& to) {
  std::error_code error;
  if (fs::exists(from, error)) fs::rename(from, to, error);
}

std::string to_upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = absl::ascii_toupper(static_cast<unsigned char>(c));
  return upper;
}

}  // namespace

// ---- RotatingFileSink ----------------------------------------------------------------

RotatingFileSink::RotatingFileSink(std::string filename, int64_t max_bytes, int backup_count)
    : filename_(std::move(filename)), max_bytes_(max_bytes), backup_count_(backup_count) {
  file_.open(filename_, /*truncate=*/false);
  size_ = static_cast<int64_t>(file_.size());
}

void RotatingFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  int64_t length = static_cast<int64_t>(formatted.size());
  if (max_bytes_ > 0 && backup_count_ > 0 && size_ > 0 && size_ + length >= max_bytes_) {
    roll_over();
  }
  file_.write(formatted);
  file_.flush();
  size_ += length;
}

void RotatingFileSink::flush_() { file_.flush(); }

void RotatingFileSink::roll_over() {
  file_.close();
  for (int i = backup_count_ - 1; i >= 1; --i) {
    rename_if_exists(fmt::format("{}.{}", filename_, i), fmt::format("{}.{}", filename_, i + 1));
  }
  rename_if_exists(filename_, filename_ + ".1");
  file_.open(filename_, /*truncate=*/true);
  size_ = 0;
}

// ---- TimedRotatingFileSink -----------------------------------------------------------

absl::Status TimedRotatingFileSink::check_when(std::string_view when, int interval) {
  std::string upper = to_upper(when);
  bool weekly = upper.size() == 2 && upper[0] == 'W' && upper[1] >= '0' && upper[1] <= '6';
  if (upper != "S" && upper != "M" && upper != "H" && upper != "D" && upper != "MIDNIGHT" &&
      !weekly) {
    return absl::InvalidArgumentError(fmt::format(
        "invalid rollover interval \"{}\"; expected S, M, H, D, midnight or W0-W6 (W0 is Monday)",
        when));
  }
  if (interval < 1) {
    return absl::InvalidArgumentError(
        fmt::format("invalid rollover interval count {}; it must be at least 1", interval));
  }
  return absl::OkStatus();
}

TimedRotatingFileSink::TimedRotatingFileSink(std::string filename, Options options)
    : filename_(std::move(filename)), options_(std::move(options)) {
  if (absl::Status status = check_when(options_.when, options_.interval); !status.ok()) {
    throw std::invalid_argument(std::string(status.message()));
  }
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
  zone_ = options_.utc ? absl::UTCTimeZone() : absl::LocalTimeZone();

  std::string when = to_upper(options_.when);
  if (when == "S") {
    step_ = absl::Seconds(1);
    suffix_ = "%Y-%m-%d_%H-%M-%S";
  } else if (when == "M") {
    step_ = absl::Minutes(1);
    suffix_ = "%Y-%m-%d_%H-%M";
  } else if (when == "H") {
    step_ = absl::Hours(1);
    suffix_ = "%Y-%m-%d_%H";
  } else if (when == "D") {
    step_ = absl::Hours(24);
    suffix_ = "%Y-%m-%d";
  } else {
    unit_ = when == "MIDNIGHT" ? Unit::kMidnight : Unit::kWeekly;
    weekday_ = unit_ == Unit::kWeekly ? when[1] - '0' : 0;
    suffix_ = "%Y-%m-%d";
  }
  step_ *= options_.interval;
  // "%Y-%m-%d_%H" has the shape "dddd-dd-dd_dd".
  for (size_t i = 0; i < suffix_.size(); ++i) {
    if (suffix_[i] != '%') {
      shape_ += suffix_[i];
    } else {
      shape_ += suffix_[++i] == 'Y' ? "dddd" : "dd";
    }
  }

  absl::Time start = absl::FromChrono(options_.clock());
  struct stat info {};
  if (::stat(filename_.c_str(), &info) == 0) start = absl::FromTimeT(info.st_mtime);
  rollover_at_ = next_rollover(start);
  file_.open(filename_, /*truncate=*/false);
}

absl::Time TimedRotatingFileSink::rollover_at() {
  std::lock_guard<std::mutex> lock(mutex_);
  return rollover_at_;
}

absl::Time TimedRotatingFileSink::next_rollover(absl::Time now) const {
  switch (unit_) {
    case Unit::kFixed:
      return absl::FromUnixSeconds(absl::ToUnixSeconds(now)) + step_;
    case Unit::kMidnight:
      return absl::FromCivil(absl::ToCivilDay(now, zone_) + options_.interval, zone_);
    case Unit::kWeekly: {
      absl::CivilDay day = absl::ToCivilDay(now, zone_) + 1;
      while (static_cast<int>(absl::GetWeekday(day)) != weekday_) ++day;
      return absl::FromCivil(day, zone_);
    }
  }
  return now;
}

absl::Time TimedRotatingFileSink::period_start(absl::Time rollover) const {
  switch (unit_) {
    case Unit::kFixed:
      return rollover - step_;
    case Unit::kMidnight:
      return absl::FromCivil(absl::ToCivilDay(rollover, zone_) - options_.interval, zone_);
    case Unit::kWeekly:
      return absl::FromCivil(absl::ToCivilDay(rollover, zone_) - 7, zone_);
  }
  return rollover;
}

void TimedRotatingFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  absl::Time now = absl::FromChrono(options_.clock());
  if (now >= rollover_at_) roll_over(now);
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  file_.write(formatted);
  file_.flush();
}

void TimedRotatingFileSink::flush_() { file_.flush(); }

void TimedRotatingFileSink::roll_over(absl::Time now) {
  file_.close();
  std::string backup =
      filename_ + "." + absl::FormatTime(suffix_, period_start(rollover_at_), zone_);
  std::error_code error;
  fs::remove(backup, error);
  rename_if_exists(filename_, backup);
  if (options_.backup_count > 0) delete_old_backups();
  file_.open(filename_, /*truncate=*/false);
  rollover_at_ = next_rollover(now);
}

void TimedRotatingFileSink::delete_old_backups() {
  fs::path path(filename_);
  fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string prefix = path.filename().string() + ".";
  std::vector<std::string> backups;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
    std::string name = entry.path().filename().string();
    if (name.size() != prefix.size() + shape_.size() || !name.starts_with(prefix)) continue;
    bool matches = true;
    for (size_t i = 0; i < shape_.size() && matches; ++i) {
      char c = name[prefix.size() + i];
      matches = shape_[i] == 'd' ? absl::ascii_isdigit(static_cast<unsigned char>(c)) : c == shape_[i];
    }
    if (matches) backups.push_back(entry.path().string());
  }
  // The suffixes are fixed-width dates, so name order is age order.
  std::sort(backups.begin(), backups.end());
  size_t keep = static_cast<size_t>(options_.backup_count);
  for (size_t i = 0; i + keep < backups.size(); ++i) fs::remove(backups[i], error);
}

}  // namespace tornado::log
