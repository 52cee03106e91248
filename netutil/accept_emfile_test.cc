// add_accept_handler out of file descriptors: it logs, backs off instead of spinning on
// the still-readable listening socket, and resumes once descriptors are free again.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "gtest/gtest.h"
#include "ioloop/ioloop.h"
#include "log/log.h"
#include "netutil/netutil.h"
#include "testing/testing.h"

namespace tornado::netutil {
namespace {

class AcceptEmfileTest : public testing::AsyncTestCase {};

TEST_F(AcceptEmfileTest, BacksOffAndResumes) {
  log::gen_log();  // registers "tornado.general"
  auto fds = bind_sockets(0, "127.0.0.1");
  const auto addr = SocketAddress::local_of(fds[0]);
  std::vector<int> accepted;
  int wakeups_while_full = 0;
  std::vector<int> filler;
  testing::ExpectLog expect("tornado.general", ".*Too many open files; pausing accepts");
  auto remove = add_accept_handler(fds[0], [&](int conn, SocketAddress) {
    accepted.push_back(conn);
    stop();
  });
  // One normal accept first. (It also warms UBSan's type cache: with no free fd, its
  // runtime cannot check a type it has not seen, since that check needs a pipe.)
  int first = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(first, addr.sockaddr_ptr(), addr.length), 0);
  wait(5.0);
  ASSERT_EQ(accepted.size(), 1u);

  // Warm it for a handler that removes itself during its own call too (the back-off
  // below does that while no descriptor is free; the loop frees such a handler after it
  // returns).
  {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ASSERT_EQ(::write(p[1], "x", 1), 1);
    io_loop()->add_handler(
        p[0],
        [this, fd = p[0]](int, std::uint32_t) {
          io_loop()->remove_handler(fd);
          stop();
        },
        ioloop::IOLoop::READ);
    wait(5.0);
    ::close(p[0]);
    ::close(p[1]);
  }

  // Warm the logging path the same way (a line like the handler's, not counted).
  log::gen_log().error("warm-up: {}: Too many open files; pausing accepts for {} ms", 0, 0);
  const int baseline = static_cast<int>(expect.match_count());
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  // Fill the descriptor table up to a low limit so accept() fails with EMFILE.
  rlimit low = old;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  for (;;) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    filler.push_back(fd);
  }
  ASSERT_EQ(errno, EMFILE);
  ASSERT_EQ(::connect(client, addr.sockaddr_ptr(), addr.length), 0);  // queued, not accepted
  // Let the handler fail a few times, counting the back-off log lines; then free fds.
  io_loop()->call_later(0.2, [&] {
    wakeups_while_full = static_cast<int>(expect.match_count()) - baseline;
    for (int fd : filler) ::close(fd);
    filler.clear();
  });
  wait(5.0);
  remove();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  // 10 ms doubling: about 5 attempts in 200 ms, never a spin of thousands.
  EXPECT_GE(wakeups_while_full, 2);
  EXPECT_LE(wakeups_while_full, 10);
  EXPECT_EQ(accepted.size(), 2u);
  for (int fd : accepted) ::close(fd);
  ::close(first);
  ::close(client);
  ::close(fds[0]);
}

}  // namespace
}  // namespace tornado::netutil
