// netutil: sockets, accept handler, resolvers.
#include "netutil/netutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "ioloop/ioloop.h"
#include "log/log.h"

namespace tornado::netutil {
namespace {

[[noreturn]] void throw_errno(const char* what, int fd = -1) {
  const int err = errno;
  if (fd >= 0) ::close(fd);
  throw std::system_error(err, std::generic_category(), what);
}

}  // namespace

SocketAddress SocketAddress::from_ip(std::string_view ip, int port) {
  SocketAddress a;
  std::string s(ip);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, s.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    a.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, s.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    a.length = sizeof(sockaddr_in6);
  } else {
    throw std::invalid_argument("not an IP address: " + s);
  }
  return a;
}

SocketAddress SocketAddress::local_of(int fd) {
  SocketAddress a;
  a.length = sizeof(a.storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.length) != 0) {
    throw_errno("getsockname");
  }
  return a;
}

SocketAddress SocketAddress::peer_of(int fd) {
  SocketAddress a;
  a.length = sizeof(a.storage);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.length) != 0) {
    throw_errno("getpeername");
  }
  return a;
}

std::string SocketAddress::host() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (family() == AF_INET) {
    // By hand: inet_ntop formats IPv4 with sprintf, which cost as much as a tenth of a
    // one-request connection (every accepted connection needs its remote_ip).
    const auto* octets =
        reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr);
    char* end = buf;
    for (int i = 0; i < 4; ++i) {
      if (i > 0) *end++ = '.';
      end = std::to_chars(end, buf + sizeof(buf), octets[i]).ptr;
    }
    return std::string(buf, end);
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf,
              sizeof(buf));
  } else if (family() == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&storage);
    if (length <= offsetof(sockaddr_un, sun_path)) return "";
    return std::string(un->sun_path, strnlen(un->sun_path, length - offsetof(sockaddr_un, sun_path)));
  }
  return buf;
}

int SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return 0;
}

std::string SocketAddress::to_string() const {
  if (family() == AF_INET6) return "[" + host() + "]:" + std::to_string(port());
  if (family() == AF_INET) return host() + ":" + std::to_string(port());
  return host();
}

std::vector<int> bind_sockets(int port, const std::string& address, int family, int backlog,
                              int flags, bool reuse_port) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags | AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string port_str = std::to_string(port);
  const int rc = getaddrinfo(address.empty() ? nullptr : address.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) throw ResolveError(rc, std::string("getaddrinfo: ") + gai_strerror(rc));
  std::vector<int> sockets;
  std::vector<SocketAddress> bound;
  int bound_port = 0;
  try {
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      SocketAddress addr;
      std::memcpy(&addr.storage, ai->ai_addr, ai->ai_addrlen);
      addr.length = ai->ai_addrlen;
      // getaddrinfo may return the same address twice (e.g. with both AI_ADDRCONFIG
      // families); Tornado skips duplicates too.
      bool dup = std::any_of(bound.begin(), bound.end(), [&](const SocketAddress& b) {
        return b.length == addr.length && std::memcmp(&b.storage, &addr.storage, b.length) == 0;
      });
      if (dup) continue;
      bound.push_back(addr);
      const int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        // An address family the kernel lacks (IPv6 disabled): skip it, as Tornado does.
        if (errno == EAFNOSUPPORT) continue;
        throw_errno("socket");
      }
      const int one = 1;
      if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) throw_errno("SO_REUSEADDR", fd);
      if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        throw_errno("SO_REUSEPORT", fd);
      }
      if (ai->ai_family == AF_INET6 &&
          setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
        throw_errno("IPV6_V6ONLY", fd);
      }
      // With port 0, later sockets take the port the first one was given.
      if (port == 0 && bound_port != 0) {
        if (ai->ai_family == AF_INET) {
          reinterpret_cast<sockaddr_in*>(&addr.storage)->sin_port = htons(static_cast<uint16_t>(bound_port));
        } else if (ai->ai_family == AF_INET6) {
          reinterpret_cast<sockaddr_in6*>(&addr.storage)->sin6_port = htons(static_cast<uint16_t>(bound_port));
        }
      }
      if (::bind(fd, addr.sockaddr_ptr(), addr.length) != 0) {
        // A link-local IPv6 address without a scope cannot be bound; skip it like Tornado.
        if (errno == EADDRNOTAVAIL && ai->ai_family == AF_INET6) {
          ::close(fd);
          continue;
        }
        throw_errno(("bind " + addr.to_string()).c_str(), fd);
      }
      if (::listen(fd, backlog) != 0) throw_errno("listen", fd);
      if (port == 0 && bound_port == 0) bound_port = SocketAddress::local_of(fd).port();
      sockets.push_back(fd);
    }
  } catch (...) {
    freeaddrinfo(res);
    for (int fd : sockets) ::close(fd);
    throw;
  }
  freeaddrinfo(res);
  return sockets;
}

int bind_unix_socket(const std::string& file, int mode, int backlog) {
  sockaddr_un un{};
  if (file.size() >= sizeof(un.sun_path)) throw std::invalid_argument("unix socket path too long: " + file);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    if (S_ISSOCK(st.st_mode)) {
      ::unlink(file.c_str());
    } else {
      ::close(fd);
      throw std::runtime_error("File " + file + " exists and is not a socket");
    }
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, file.data(), file.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof(un)) != 0) throw_errno("bind", fd);
  if (::chmod(file.c_str(), static_cast<mode_t>(mode)) != 0) throw_errno("chmod", fd);
  if (::listen(fd, backlog) != 0) throw_errno("listen", fd);
  return fd;
}

namespace {

struct AcceptState {
  int sock;
  AcceptCallback callback;
  ioloop::IOLoop* loop;
  bool removed = false;
  bool backing_off = false;
  double backoff = 0;
  ioloop::TimeoutHandle timer;
};

void on_acceptable(const std::shared_ptr<AcceptState>& st) {
  // At most kDefaultBacklog per wake-up, so other fds get their turn (Tornado's rule).
  for (int i = 0; i < kDefaultBacklog && !st->removed; ++i) {
    SocketAddress addr;
    addr.length = sizeof(addr.storage);
    const int conn = ::accept4(st->sock, reinterpret_cast<sockaddr*>(&addr.storage), &addr.length,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ECONNABORTED || err == EINTR) {
        if (err == ECONNABORTED || err == EINTR) continue;
        st->backoff = 0;
        return;
      }
      if (err == EMFILE || err == ENFILE) {
        // The listening socket stays readable: stop listening for a while rather than spin.
        st->backoff = st->backoff == 0 ? 0.01 : std::min(st->backoff * 2, 1.0);
        TORNADO_LOG_ERROR(log::gen_log(), "accept on fd {}: {}; pausing accepts for {} ms", st->sock,
                                std::strerror(err), static_cast<int>(st->backoff * 1000));
        st->loop->remove_handler(st->sock);
        st->backing_off = true;
        // While backing off, the timer owns the state (the handler that did is gone).
        st->timer = st->loop->call_later(st->backoff, [s = st] {
          if (s->removed) return;
          s->backing_off = false;
          s->loop->add_handler(
              s->sock, [s](int, std::uint32_t) { on_acceptable(s); }, ioloop::IOLoop::READ);
          // Level-triggered: if connections wait, the handler runs on the next poll.
        });
        return;
      }
      throw std::system_error(err, std::generic_category(), "accept");
    }
    if (i == 0) st->backoff = 0;
    st->callback(conn, addr);
  }
}

}  // namespace

std::function<void()> add_accept_handler(int sock, AcceptCallback callback) {
  auto st = std::make_shared<AcceptState>();
  st->sock = sock;
  st->callback = std::move(callback);
  st->loop = ioloop::IOLoop::current();
  std::weak_ptr<AcceptState> weak = st;
  // The loop's handler holds the state; the returned function only a weak reference.
  st->loop->add_handler(
      sock, [st](int, std::uint32_t) { on_acceptable(st); }, ioloop::IOLoop::READ);
  return [weak] {
    auto s = weak.lock();
    if (!s || s->removed) return;
    s->removed = true;
    if (s->backing_off) {
      s->loop->remove_timeout(s->timer);
    } else {
      s->loop->remove_handler(s->sock);
    }
  };
}

bool is_valid_ip(std::string_view ip) {
  if (ip.empty() || ip.find('\0') != std::string_view::npos) return false;
  std::string s(ip);
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return true;
  // Tornado accepts scoped IPv6 ("fe80::1%eth0") via getaddrinfo(AI_NUMERICHOST).
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(s.c_str(), nullptr, &hints, &res);
  if (rc != 0) return false;
  freeaddrinfo(res);
  return true;
}

std::vector<ResolvedAddress> resolve_blocking(const std::string& host, int port, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port_str = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) {
    throw ResolveError(rc, "getaddrinfo " + host + ": " + gai_strerror(rc));
  }
  std::vector<ResolvedAddress> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    SocketAddress a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    out.emplace_back(ai->ai_family, a);
  }
  freeaddrinfo(res);
  return out;
}

Future<std::vector<ResolvedAddress>> DefaultExecutorResolver::resolve(std::string host, int port,
                                                                      int family) {
  auto* loop = ioloop::IOLoop::current();
  if (is_valid_ip(host) && host.find('%') == std::string::npos) {
    Future<std::vector<ResolvedAddress>> f;
    try {
      SocketAddress a = SocketAddress::from_ip(host, port);
      if (family != AF_UNSPEC && family != a.family()) {
        throw ResolveError(EAI_ADDRFAMILY, "address family mismatch for " + host);
      }
      f.set_result(std::vector<ResolvedAddress>{{a.family(), a}});
    } catch (...) {
      f.set_exception(std::current_exception());
    }
    return f;
  }
  return loop->run_in_executor(nullptr, [host = std::move(host), port, family] {
    return resolve_blocking(host, port, family);
  });
}

OverrideResolver::OverrideResolver(std::shared_ptr<Resolver> resolver,
                                   std::map<std::string, std::string> mapping)
    : resolver_(std::move(resolver)), mapping_(std::move(mapping)) {}

Future<std::vector<ResolvedAddress>> OverrideResolver::resolve(std::string host, int port,
                                                               int family) {
  const std::string hp = host + ":" + std::to_string(port);
  const std::string hpf = hp + ":" + std::to_string(family);
  std::string target;
  if (auto it = mapping_.find(hpf); it != mapping_.end()) {
    target = it->second;
  } else if (auto it2 = mapping_.find(hp); it2 != mapping_.end()) {
    target = it2->second;
  } else if (auto it3 = mapping_.find(host); it3 != mapping_.end()) {
    target = it3->second;
  } else {
    return resolver_->resolve(std::move(host), port, family);
  }
  std::string new_host = target;
  int new_port = port;
  if (!target.empty() && target[0] == '[') {
    auto close = target.find(']');
    new_host = target.substr(1, close - 1);
    if (close + 1 < target.size() && target[close + 1] == ':') new_port = std::stoi(target.substr(close + 2));
  } else if (auto colon = target.rfind(':'); colon != std::string::npos &&
                                             target.find(':') == colon) {
    new_host = target.substr(0, colon);
    new_port = std::stoi(target.substr(colon + 1));
  }
  return resolver_->resolve(std::move(new_host), new_port, family);
}

}  // namespace tornado::netutil
