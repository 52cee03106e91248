// Load generator for bench/echo, plain C++ and epoll (no tornado-cpp, so it is the same
// for every server).
//   echo_client PORT pingpong CONNS SECONDS  -> messages/s: each of CONNS connections
//       sends 64 bytes and waits for the whole echo before sending the next.
//   echo_client PORT stream 1 SECONDS        -> MB/s echoed (1e6 bytes/s): one connection
//       writes 64 KiB chunks whenever writable and reads the echo back.
// Echoed bytes are checked against what was sent. Prints one number on stdout; errors go
// to stderr with exit status 1.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr size_t kMsg = 64;
constexpr size_t kChunk = 65536;
constexpr size_t kPattern = 251;  // prime, so chunk boundaries shift through the pattern

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "echo_client: %s: %s\n", what, errno ? std::strerror(errno) : "");
  std::exit(1);
}

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) die("fcntl");
  return fd;
}

struct Conn {
  int fd;
  size_t got = 0;  // bytes of the current echo received (ping-pong)
};

// Sends a 64-byte message (a fresh socket buffer always takes it whole).
void send_msg(Conn& c, const char* msg) {
  if (write(c.fd, msg, kMsg) != static_cast<ssize_t>(kMsg)) die("write");
  c.got = 0;
}

double pingpong(int port, int nconns, double seconds) {
  char msg[kMsg];
  for (size_t i = 0; i < kMsg; i++) msg[i] = static_cast<char>('a' + i % 26);
  int ep = epoll_create1(0);
  std::vector<Conn> conns(nconns);
  for (auto& c : conns) {
    c.fd = connect_to(port);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }
  long count = 0;
  double start = now(), deadline = start + seconds;
  for (auto& c : conns) send_msg(c, msg);
  std::vector<epoll_event> evs(nconns);
  char buf[kMsg];
  for (;;) {
    double t = now();
    if (t >= deadline) break;
    int n = epoll_wait(ep, evs.data(), nconns, static_cast<int>((deadline - t) * 1000) + 1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      Conn& c = *static_cast<Conn*>(evs[i].data.ptr);
      ssize_t r = read(c.fd, buf + c.got, kMsg - c.got);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) { errno = r ? errno : 0; die("server closed or read failed"); }
      if (std::memcmp(buf + c.got, msg + c.got, r) != 0) { errno = 0; die("echo mismatch"); }
      c.got += r;
      if (c.got == kMsg) {
        count++;
        send_msg(c, msg);
      }
    }
  }
  double elapsed = now() - start;
  for (auto& c : conns) close(c.fd);
  close(ep);
  return count / elapsed;
}

double stream(int port, double seconds) {
  std::string pattern(kChunk + kPattern, '\0');
  for (size_t i = 0; i < pattern.size(); i++) pattern[i] = static_cast<char>(i % kPattern);
  int fd = connect_to(port);
  int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  size_t sent = 0, chunk_left = 0, received = 0;
  std::vector<char> buf(kChunk);  // pattern covers kChunk bytes from any phase
  double start = now(), deadline = start + seconds;
  for (;;) {
    double t = now();
    if (t >= deadline) break;
    epoll_event got[1];
    int n = epoll_wait(ep, got, 1, static_cast<int>((deadline - t) * 1000) + 1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    if (n <= 0) continue;
    if (got[0].events & EPOLLIN) {
      ssize_t r = read(fd, buf.data(), buf.size());
      if (r == 0 || (r < 0 && errno != EAGAIN)) { errno = r ? errno : 0; die("read"); }
      if (r > 0) {
        if (std::memcmp(buf.data(), pattern.data() + received % kPattern, r) != 0) {
          errno = 0;
          die("echo mismatch");
        }
        received += r;
      }
    }
    if (got[0].events & EPOLLOUT) {
      if (chunk_left == 0) chunk_left = kChunk;  // the next 64 KiB write
      ssize_t w = write(fd, pattern.data() + sent % kPattern, chunk_left);
      if (w < 0 && errno != EAGAIN) die("write");
      if (w > 0) { sent += w; chunk_left -= w; }
    }
  }
  double elapsed = now() - start;
  close(fd);
  close(ep);
  return received / elapsed / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: echo_client PORT pingpong|stream CONNS SECONDS\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  std::string mode = argv[2];
  int conns = std::atoi(argv[3]);
  double seconds = std::atof(argv[4]);
  if (conns < 1 || seconds <= 0) {
    std::fprintf(stderr, "echo_client: CONNS must be >= 1 and SECONDS > 0\n");
    return 2;
  }
  double v;
  if (mode == "pingpong") {
    v = pingpong(port, conns, seconds);
  } else if (mode == "stream") {
    v = stream(port, seconds);
  } else {
    std::fprintf(stderr, "echo_client: unknown mode %s\n", mode.c_str());
    return 2;
  }
  std::printf("%.1f\n", v);
  return 0;
}
