#define _GNU_SOURCE /* accept4 */
/* Minimal level-triggered epoll echo server: the physical baseline for bench/echo.
 * Non-blocking accept/read/write; each connection keeps a pending-output buffer and
 * waits for EPOLLOUT (not EPOLLIN) while it is non-empty. No TCP_NODELAY, like both
 * Tornados' TCPServer. usage: epoll_echo PORT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536
struct conn { int fd; size_t off, len; char buf[BUF]; };

static void arm(int ep, struct conn* c, int op) {
  struct epoll_event ev = {.events = c->len ? EPOLLOUT : EPOLLIN, .data.ptr = c};
  epoll_ctl(ep, op, c->fd, &ev);
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8888, one = 1;
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr*)&a, sizeof a) || listen(ls, 1024)) { perror("bind/listen"); return 1; }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      struct conn* c = evs[i].data.ptr;
      if (!c) {  /* listening socket */
        int fd;
        while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          c = calloc(1, sizeof *c);
          c->fd = fd;
          arm(ep, c, EPOLL_CTL_ADD);
        }
        continue;
      }
      if (c->len == 0) {  /* readable: read, then try to write it all back at once */
        ssize_t r = read(c->fd, c->buf, BUF);
        if (r == 0 || (r < 0 && errno != EAGAIN)) goto drop;
        if (r < 0) continue;
        c->off = 0; c->len = (size_t)r;
      }
      ssize_t w = write(c->fd, c->buf + c->off, c->len - c->off);
      if (w < 0 && errno != EAGAIN) goto drop;
      if (w > 0) c->off += (size_t)w;
      int was_pending = evs[i].events & EPOLLOUT;
      if (c->off == c->len) c->len = c->off = 0;
      if (!!was_pending != !!c->len) arm(ep, c, EPOLL_CTL_MOD);
      continue;
    drop:
      close(c->fd);  /* closing removes it from the epoll set */
      free(c);
    }
  }
}
