#include "log/test_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tornado::log::testing {
namespace fs = std::filesystem;

namespace {

std::string temp_root() {
  const char* root = std::getenv("TEST_TMPDIR");
  return root != nullptr && *root != '\0' ? root : "/tmp";
}

}  // namespace

TempDir::TempDir() {
  std::string pattern = temp_root() + "/log_test.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code error;
  fs::remove_all(path_, error);
}

std::vector<std::string> TempDir::files() const {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(path_)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

StderrCapture::StderrCapture() {
  path_ = temp_root() + "/stderr.XXXXXX";
  int fd = mkstemp(path_.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  std::fflush(stderr);
  saved_fd_ = dup(2);
  dup2(fd, 2);
  close(fd);
}

StderrCapture::~StderrCapture() { stop(); }

std::string StderrCapture::stop() {
  if (saved_fd_ < 0) return "";
  std::fflush(stderr);
  dup2(saved_fd_, 2);
  close(saved_fd_);
  saved_fd_ = -1;
  std::string content = read_file(path_);
  std::remove(path_.c_str());
  return content;
}

}  // namespace tornado::log::testing
