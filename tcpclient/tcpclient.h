// tornado::tcpclient, Tornado's tornado.tcpclient: TCPClient (resolve, then connect with
// "happy eyeballs" across address families, optionally start TLS) and the Connector that
// races the connection attempts (Tornado's _Connector).
//
// Threading: everything here belongs to the thread of the current IOLoop.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "concurrent/future.h"
#include "gen/gen.h"
#include "ioloop/ioloop.h"
#include "iostream/iostream.h"
#include "netutil/netutil.h"

namespace tornado::tcpclient {

using concurrent::Future;
using netutil::ResolvedAddress;
using netutil::SocketAddress;
using StreamPtr = std::shared_ptr<iostream::IOStream>;

// How long the primary address family has before the secondary one is tried too
// (Tornado's _INITIAL_CONNECT_TIMEOUT), seconds.
inline constexpr double kInitialConnectTimeout = 0.3;

// The winner of a Connector race: its family, address and connected stream.
struct ConnectResult {
  int af = AF_UNSPEC;
  SocketAddress address;
  StreamPtr stream;
};

// Creates a stream for (af, address) and starts connecting it: the stream and a future
// that completes when it is connected. May throw (e.g. bind failure): that counts as a
// failed attempt.
using ConnectFunction = std::function<std::pair<StreamPtr, Future<void>>(int af, SocketAddress)>;

// Races connection attempts to resolved addresses (Tornado's _Connector): addresses of
// the first address's family ("primary") are tried one after another; `timeout`
// seconds after start, or as soon as a primary attempt fails, the other families
// ("secondary") are tried in parallel. The first attempt to succeed wins; streams of
// attempts that succeed later are closed, as are all pending ones once there is a
// result. Fails with the last attempt's error once all failed, or with TimeoutError at
// `connect_timeout` (closing every pending stream).
//
// Created through create(); callbacks keep it alive while attempts or timers are
// pending. The current IOLoop must outlive it.
class Connector : public std::enable_shared_from_this<Connector> {
 public:
  static std::shared_ptr<Connector> create(std::vector<ResolvedAddress> addrinfo,
                                           ConnectFunction connect);

  // Splits addresses into those of the first address's family and the rest, order
  // kept (Tornado's _Connector.split).
  static std::pair<std::vector<ResolvedAddress>, std::vector<ResolvedAddress>> split(
      const std::vector<ResolvedAddress>& addrinfo);

  // Starts the first attempt. Completes with the winner, or fails as described above.
  Future<ConnectResult> start(double timeout = kInitialConnectTimeout,
                              std::optional<gen::Timeout> connect_timeout = std::nullopt);

  // The secondary-family timer firing (public, as in Tornado, so tests can drive it).
  void on_timeout();
  // The overall connect timeout firing.
  void on_connect_timeout();
  // Removes both timers.
  void clear_timeouts();
  // Closes every stream still held (attempts that did not win).
  void close_streams();

  // Streams of attempts made and not won (Tornado's _Connector.streams set: failed
  // attempts stay in it).
  const std::vector<StreamPtr>& streams() const { return streams_; }
  Future<ConnectResult> future() const { return future_; }

 private:
  struct Queue {
    std::vector<ResolvedAddress> addrs;
    std::size_t next = 0;
  };
  Connector(std::vector<ResolvedAddress> addrinfo, ConnectFunction connect);
  void try_connect(Queue* queue);
  void on_connect_done(Queue* queue, int af, SocketAddress address, StreamPtr stream,
                       Future<void> connected);

  ioloop::IOLoop* io_loop_;
  ConnectFunction connect_;
  Future<ConnectResult> future_;
  ioloop::TimeoutHandle timeout_;
  ioloop::TimeoutHandle connect_timeout_;
  std::exception_ptr last_error_;
  std::size_t remaining_;
  Queue primary_;
  Queue secondary_;
  std::vector<StreamPtr> streams_;
};

// A non-blocking TCP connection factory (Tornado's TCPClient).
class TCPClient {
 public:
  // `resolver` null: a DefaultExecutorResolver this client owns and closes.
  explicit TCPClient(std::shared_ptr<netutil::Resolver> resolver = nullptr);
  ~TCPClient();
  TCPClient(const TCPClient&) = delete;
  TCPClient& operator=(const TCPClient&) = delete;

  // Closes the resolver if this client created it.
  void close();

  // Connects to `host`:`port` (Tornado's TCPClient.connect): resolves it (`af` limits
  // the family), races the addresses (Connector), and with `ssl_context` (client side)
  // starts TLS with `host` as server_hostname (SNI and certificate check). Binds the
  // socket first to `source_ip` / `source_port` when given (port alone: the loopback of
  // the family). `max_buffer_size` goes to the stream. `timeout` bounds the whole
  // operation (resolve, connect, handshake).
  //
  // Completes with the connected stream (an SSLIOStream with TLS). Fails with
  // netutil::ResolveError, StreamClosedError (real_error: the connect error, e.g.
  // ECONNREFUSED; an SSLError from the handshake), std::system_error (bind failure), or
  // TimeoutError. The client must outlive the future.
  Future<StreamPtr> connect(std::string host, int port, int af = AF_UNSPEC,
                            std::shared_ptr<netutil::SSLContext> ssl_context = nullptr,
                            std::optional<std::size_t> max_buffer_size = std::nullopt,
                            std::string source_ip = "",
                            std::optional<int> source_port = std::nullopt,
                            std::optional<gen::Timeout> timeout = std::nullopt);

 private:
  std::shared_ptr<netutil::Resolver> resolver_;
  bool own_resolver_;
};

}  // namespace tornado::tcpclient
