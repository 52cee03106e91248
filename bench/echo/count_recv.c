// LD_PRELOAD shim for bench/echo/syscalls.sh: counts the server's recv / recvfrom / read
// calls (read: fds above 2) and how many returned EAGAIN, and its send / sendmsg / write calls,
// without slowing it down the way strace does (strace makes the server slow enough that
// the client's next message is already there at every read, hiding EAGAINs). Prints the
// counts to stderr when the process gets SIGTERM.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_long recvs, recv_eagain, sends;

typedef ssize_t (*recv_fn)(int, void*, size_t, int);
typedef ssize_t (*recvfrom_fn)(int, void*, size_t, int, struct sockaddr*, socklen_t*);
typedef ssize_t (*read_fn)(int, void*, size_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr*, int);
typedef ssize_t (*send_fn)(int, const void*, size_t, int);
typedef ssize_t (*write_fn)(int, const void*, size_t);

static void count_read(ssize_t r) {
  atomic_fetch_add(&recvs, 1);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) atomic_fetch_add(&recv_eagain, 1);
}

ssize_t recv(int fd, void* buf, size_t n, int flags) {
  static recv_fn real;
  if (!real) real = (recv_fn)dlsym(RTLD_NEXT, "recv");
  ssize_t r = real(fd, buf, n, flags);
  count_read(r);
  return r;
}

ssize_t recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* a, socklen_t* l) {
  static recvfrom_fn real;
  if (!real) real = (recvfrom_fn)dlsym(RTLD_NEXT, "recvfrom");
  ssize_t r = real(fd, buf, n, flags, a, l);
  count_read(r);
  return r;
}

// read/write: only on fds > 2 (the epoll baseline uses them on its sockets; stdio not).
ssize_t read(int fd, void* buf, size_t n) {
  static read_fn real;
  if (!real) real = (read_fn)dlsym(RTLD_NEXT, "read");
  ssize_t r = real(fd, buf, n);
  if (fd > 2) count_read(r);
  return r;
}

ssize_t sendmsg(int fd, const struct msghdr* m, int flags) {
  static sendmsg_fn real;
  if (!real) real = (sendmsg_fn)dlsym(RTLD_NEXT, "sendmsg");
  atomic_fetch_add(&sends, 1);
  return real(fd, m, flags);
}

ssize_t send(int fd, const void* buf, size_t n, int flags) {
  static send_fn real;
  if (!real) real = (send_fn)dlsym(RTLD_NEXT, "send");
  atomic_fetch_add(&sends, 1);
  return real(fd, buf, n, flags);
}

ssize_t write(int fd, const void* buf, size_t n) {
  static write_fn real;
  if (!real) real = (write_fn)dlsym(RTLD_NEXT, "write");
  if (fd > 2) atomic_fetch_add(&sends, 1);
  return real(fd, buf, n);
}

static void on_term(int sig) {
  (void)sig;
  char line[160];
  int len = snprintf(line, sizeof(line), "count_recv: recv %ld eagain %ld send %ld\n",
                     atomic_load(&recvs), atomic_load(&recv_eagain), atomic_load(&sends));
  static write_fn real;
  if (!real) real = (write_fn)dlsym(RTLD_NEXT, "write");
  (void)!real(2, line, (size_t)len);
  _exit(0);
}

__attribute__((constructor)) static void init(void) { signal(SIGTERM, on_term); }
