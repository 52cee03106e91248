// bind_unused_port over netutil::bind_sockets, as Tornado's.
#include "testing/bind_unused_port.h"

#include <netdb.h>
#include <unistd.h>

#include <stdexcept>

#include "netutil/netutil.h"

namespace tornado::testing {

BoundSocket bind_unused_port(bool reuse_port, const std::string& address) {
  if (!netutil::is_valid_ip(address)) {
    throw std::invalid_argument("bind_unused_port: not an IP address: " + address);
  }
  std::vector<int> sockets = netutil::bind_sockets(0, address, AF_UNSPEC, netutil::kDefaultBacklog,
                                                   AI_NUMERICHOST, reuse_port);
  // An IP literal resolves to exactly one address; keep the first socket regardless.
  for (std::size_t i = 1; i < sockets.size(); ++i) close(sockets[i]);
  return BoundSocket{sockets[0], netutil::SocketAddress::local_of(sockets[0]).port()};
}

}  // namespace tornado::testing
