// Small helpers for tests of servers on loopback: a plain client stream, a shell command
// run off the loop, and gzip compression of a request body.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "concurrent/future.h"
#include "iostream/iostream.h"

namespace tornado::testing {

// A client stream to 127.0.0.1:port, connected with a blocking loopback connect() so a
// test can open many clients without awaiting each. Throws std::system_error.
std::unique_ptr<iostream::IOStream> plain_client(int port);

// Runs `cmd` with popen on the loop's executor; completes with its stdout + "rc=N".
concurrent::Future<std::string> run_command(std::string cmd);

// `data` as a gzip member (zlib level 6).
std::string gzip_compress(std::string_view data);

}  // namespace tornado::testing
