// Helpers for the log package's tests: a fresh directory under $TEST_TMPDIR, file
// reading, stderr capture and a clock the test moves by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace tornado::log::testing {

// A new empty directory under $TEST_TMPDIR (or /tmp), removed with its files on exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // The names (not paths) of the files in the directory, sorted.
  std::vector<std::string> files() const;

 private:
  std::string path_;
};

// The whole content of a file ("" if it does not exist).
std::string read_file(const std::string& path);

// Sends file descriptor 2 to a temporary file until stop(), so a test can read what
// stderr sinks wrote.
class StderrCapture {
 public:
  StderrCapture();
  ~StderrCapture();
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  // Restores stderr and returns what was written to it meanwhile.
  std::string stop();

 private:
  int saved_fd_ = -1;
  std::string path_;
};

// A clock for TimedRotatingFileSink that only moves when told.
class FakeClock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start) : now_(start) {}
  std::chrono::system_clock::time_point operator()() const { return now_.load(); }
  void advance(std::chrono::system_clock::duration by) { now_ = now_.load() + by; }

 private:
  std::atomic<std::chrono::system_clock::time_point> now_;
};

}  // namespace tornado::log::testing
