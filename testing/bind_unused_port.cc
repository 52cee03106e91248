// bind_unused_port over plain socket calls (to move onto netutil::bind_sockets).
#include "testing/bind_unused_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace tornado::testing {
namespace {

[[noreturn]] void fail(int fd, const char* what) {
  const int err = errno;
  if (fd >= 0) close(fd);
  throw std::system_error(err, std::generic_category(), std::string("bind_unused_port: ") + what);
}

}  // namespace

BoundSocket bind_unused_port(bool reuse_port, const std::string& address) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    length = sizeof(sockaddr_in6);
  } else {
    throw std::invalid_argument("bind_unused_port: not an IP address: " + address);
  }

  const int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(-1, "socket");
  const int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) fail(fd, "SO_REUSEADDR");
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    fail(fd, "SO_REUSEPORT");
  }
  if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    fail(fd, "IPV6_V6ONLY");
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) fail(fd, "bind");
  // Tornado's bind_sockets default backlog (_DEFAULT_BACKLOG).
  if (listen(fd, 128) != 0) fail(fd, "listen");
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
    fail(fd, "getsockname");
  }
  const int port = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                                     : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return BoundSocket{fd, port};
}

}  // namespace tornado::testing
