// Test support: the Python Tornado peer (testdata/server.py) as a child process.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "testing/peer_process.h"

namespace tornado::curl_httpclient::test {

// The directory of a test data file, under the test's runfiles.
inline std::string runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;
  return std::string(srcdir) + "/" + workspace + "/" + path;
}

// testdata/server.py run by /usr/bin/python3 (Debian's, with python3-tornado). It reads
// its stdin, a pipe we hold, and exits when that closes: a crashed test leaves no
// server behind. The destructor also kills and reaps it.
class PeerServer {
 public:
  // Starts the server and blocks until it prints its port; throws on failure.
  void start(const std::vector<std::string>& extra_args = {}) {
    std::vector<std::string> args = {"/usr/bin/python3", runfile("curl_httpclient/testdata/server.py")};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::string log;
    const std::string line = process_.start(
        args, [](const std::string& l) { return l.rfind("PORT ", 0) == 0; }, &log,
        /*capture_stderr=*/false);
    if (line.empty()) throw std::runtime_error("server.py did not start: " + log);
    port_ = std::atoi(line.c_str() + 5);
  }
  void stop() { process_.stop(); }
  int port() const { return port_; }

 private:
  testing::PeerProcess process_;
  int port_ = 0;
};

}  // namespace tornado::curl_httpclient::test
