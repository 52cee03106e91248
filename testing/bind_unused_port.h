// tornado::testing::bind_unused_port, Tornado's tornado.testing.bind_unused_port.
#pragma once

#include <string>

namespace tornado::testing {

// A listening socket and the port it is bound to.
struct BoundSocket {
  int fd = -1;
  int port = 0;
};

// Binds a new non-blocking, close-on-exec TCP socket to port 0 of `address` (IPv4 or
// IPv6 literal), listens on it and returns it with the port the kernel chose (Tornado's
// bind_unused_port, which returns (socket, port)). With `reuse_port`, sets SO_REUSEPORT.
// The caller owns the fd. Throws std::invalid_argument for an address that is not an IP
// literal and std::system_error when a socket call fails.
BoundSocket bind_unused_port(bool reuse_port = false, const std::string& address = "127.0.0.1");

}  // namespace tornado::testing
