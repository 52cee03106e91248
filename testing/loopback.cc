#include "testing/loopback.h"

#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "ioloop/ioloop.h"
#include "netutil/netutil.h"

namespace tornado::testing {

std::unique_ptr<iostream::IOStream> plain_client(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  const auto addr = netutil::SocketAddress::from_ip("127.0.0.1", port);
  if (::connect(fd, addr.sockaddr_ptr(), addr.length) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "connect");
  }
  return std::make_unique<iostream::IOStream>(fd);
}

concurrent::Future<std::string> http_exchange(int port, std::string request) {
  auto client = plain_client(port);
  co_await client->write(std::move(request));
  std::string got;
  try {
    got = co_await client->read_until_close();
  } catch (const iostream::StreamClosedError&) {
  }
  co_return got;
}

concurrent::Future<std::string> read_http_response(iostream::IOStream* client) {
  std::string head = co_await client->read_until("\r\n\r\n");
  const auto p = head.find("Content-Length: ");
  std::string body;
  if (p != std::string::npos) {
    const std::size_t n = std::stoul(head.substr(p + 16, head.find("\r\n", p) - p - 16));
    if (n > 0) body = co_await client->read_bytes(n);
  }
  co_return head + body;
}

int http_status_of(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 9, "HTTP/1.1 ") != 0) return -1;
  return std::stoi(response.substr(9, 3));
}

std::string http_body_of(const std::string& response) {
  const auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

concurrent::Future<std::string> run_command(std::string cmd) {
  return ioloop::IOLoop::current()->run_in_executor(nullptr, [cmd] {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return std::string("popen failed");
    char buf[512];
    while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    const int rc = ::pclose(p);
    return out + "rc=" + std::to_string(rc);
  });
}

std::string gzip_compress(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = data.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace tornado::testing
