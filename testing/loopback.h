// Small helpers for tests of servers on loopback: a plain client stream, raw HTTP/1.1
// exchanges, a shell command run off the loop, and gzip compression of a request body.
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

// Sends `request` on a new plain_client and returns everything read until the server
// closes (a StreamClosedError ends the read like a close).
concurrent::Future<std::string> http_exchange(int port, std::string request);
// Reads one response (head, then a Content-Length body if any) from a kept-alive stream.
concurrent::Future<std::string> read_http_response(iostream::IOStream* client);
// The status code of a raw "HTTP/1.1 NNN ..." response, -1 if it is not one.
int http_status_of(const std::string& response);
// What follows the head of a raw response ("" without a complete head).
std::string http_body_of(const std::string& response);

// Runs `cmd` with popen on the loop's executor; completes with its stdout + "rc=N".
concurrent::Future<std::string> run_command(std::string cmd);

// `data` as a gzip member (zlib level 6).
std::string gzip_compress(std::string_view data);

}  // namespace tornado::testing
