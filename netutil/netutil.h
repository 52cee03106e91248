// tornado::netutil, Tornado's tornado.netutil: listening sockets (bind_sockets,
// bind_unix_socket), add_accept_handler, is_valid_ip, the Resolver interface with a
// non-blocking default (getaddrinfo on an executor thread) and OverrideResolver, and TLS
// contexts built from SSLOptions over BoringSSL (ssl_options_to_context).
//
// Threading: everything here is used on the thread of the current IOLoop.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "concurrent/future.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace tornado::ioloop {
class IOLoop;
}

namespace tornado::netutil {

using concurrent::Future;

// Tornado's _DEFAULT_BACKLOG: listen() backlog and the accept batch per wake-up.
inline constexpr int kDefaultBacklog = 128;

// A socket address (IPv4, IPv6 or AF_UNIX), the C++ form of Python's address tuples.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  // An address from an IP literal and port; std::invalid_argument if `ip` is not one.
  static SocketAddress from_ip(std::string_view ip, int port);
  // The address a socket is bound to / connected to (getsockname / getpeername).
  static SocketAddress local_of(int fd);
  static SocketAddress peer_of(int fd);

  int family() const { return storage.ss_family; }
  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  // The IP literal ("127.0.0.1", "::1"), or the path of an AF_UNIX address.
  std::string host() const;
  // The port (0 for AF_UNIX).
  int port() const;
  // "127.0.0.1:80", "[::1]:80" or the unix path.
  std::string to_string() const;
};

// Creates listening sockets bound to `port` on `address` (Tornado's bind_sockets).
// `address` is an IP literal or hostname; empty means all interfaces. `family` is
// AF_UNSPEC (all families the address resolves to), AF_INET or AF_INET6. `flags` are
// getaddrinfo AI_* flags, ORed with AI_PASSIVE. With port 0 every socket gets the port
// the first one was given. Sockets are non-blocking, close-on-exec, SO_REUSEADDR,
// IPv6 ones IPV6_V6ONLY; `reuse_port` sets SO_REUSEPORT. The caller owns the fds.
// Throws std::system_error (socket calls) or std::runtime_error (getaddrinfo).
std::vector<int> bind_sockets(int port, const std::string& address = "", int family = AF_UNSPEC,
                              int backlog = kDefaultBacklog, int flags = 0,
                              bool reuse_port = false);

// Creates a listening AF_UNIX stream socket at `file` with permissions `mode`
// (Tornado's bind_unix_socket). A stale socket file there is removed; any other file
// gives std::runtime_error ("File <file> exists and is not a socket").
int bind_unix_socket(const std::string& file, int mode = 0600, int backlog = kDefaultBacklog);

// Called with each accepted connection (non-blocking, close-on-exec; the callee owns
// it) and its peer address.
using AcceptCallback = std::function<void(int connection, SocketAddress address)>;

// Calls `callback` for each connection accepted on the listening socket `sock`
// (Tornado's add_accept_handler), on the current IOLoop. Accepts up to kDefaultBacklog
// connections per wake-up. When accept fails with EMFILE / ENFILE (out of file
// descriptors) it logs to "tornado.general" and stops listening for a back-off period
// (10 ms doubling up to 1 s) instead of spinning on the still-readable socket, then
// resumes. Returns a function that stops accepting (Tornado's remove_handler); it must
// be called on the loop's thread before the loop or `sock` goes away; it does not close
// `sock`.
std::function<void()> add_accept_handler(int sock, AcceptCallback callback);

// True if `ip` is an IPv4 or IPv6 literal (Tornado's is_valid_ip); no DNS lookups.
bool is_valid_ip(std::string_view ip);

// One resolved address: (family, address).
using ResolvedAddress = std::pair<int, SocketAddress>;

// Raised through resolve()'s future when a name cannot be resolved (Python's
// socket.gaierror). what() holds gai_strerror's text.
class ResolveError : public std::runtime_error {
 public:
  ResolveError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Resolves host names (Tornado's Resolver interface).
class Resolver {
 public:
  virtual ~Resolver() = default;
  // Resolves `host`:`port` for stream sockets of `family` (AF_UNSPEC: any). Completes on
  // the current IOLoop with at least one address, or raises ResolveError.
  virtual Future<std::vector<ResolvedAddress>> resolve(std::string host, int port,
                                                       int family = AF_UNSPEC) = 0;
  // Releases resources (Tornado's Resolver.close).
  virtual void close() {}
};

// The default resolver: getaddrinfo on the IOLoop's executor, so the loop never blocks
// (Tornado's DefaultExecutorResolver; also DefaultLoopResolver there). IP literals are
// answered without a thread hop.
class DefaultExecutorResolver : public Resolver {
 public:
  Future<std::vector<ResolvedAddress>> resolve(std::string host, int port,
                                               int family = AF_UNSPEC) override;
};
using DefaultLoopResolver = DefaultExecutorResolver;

// getaddrinfo on the calling thread (Tornado's _resolve_addr). Throws ResolveError.
std::vector<ResolvedAddress> resolve_blocking(const std::string& host, int port, int family);

// Wraps a resolver and answers some queries from a mapping (Tornado's OverrideResolver).
// Keys are "host", "host:port" or "host:port:family" (family as AF_INET's number, the
// C++ spelling of Tornado's (host, port, family) tuple); values are "host" or
// "host:port" (bracket IPv6: "[::1]:80"). The most specific key wins.
class OverrideResolver : public Resolver {
 public:
  OverrideResolver(std::shared_ptr<Resolver> resolver, std::map<std::string, std::string> mapping);
  Future<std::vector<ResolvedAddress>> resolve(std::string host, int port,
                                               int family = AF_UNSPEC) override;
  void close() override { resolver_->close(); }

 private:
  std::shared_ptr<Resolver> resolver_;
  std::map<std::string, std::string> mapping_;
};

// ---- TLS ------------------------------------------------------------------------------

// A TLS error from BoringSSL (Python's ssl.SSLError); what() holds its error queue text.
class SSLError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Peer certificate requirement (Python's ssl.CERT_NONE / CERT_OPTIONAL / CERT_REQUIRED).
enum class CertReqs { kNone, kOptional, kRequired };

// The TLS 1.2 cipher suites of every context unless SSLOptions::ciphers says otherwise:
// forward-secret (ECDHE) AEAD suites only, AES-GCM first (Mozilla's "intermediate"
// list without the DHE suites BoringSSL lacks). BoringSSL's own default also offers CBC
// suites (LUCKY13), 3DES (SWEET32) and RSA key exchange (no forward secrecy), which
// testssl.sh flags (bench/tls/run.sh --full). Server contexts also pick the suite by
// their own order (SSL_OP_CIPHER_SERVER_PREFERENCE), not the client's.
inline constexpr const char* kDefaultCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Tornado's ssl_options dict, typed. Paths are PEM files.
struct SSLOptions {
  std::string certfile;  // our certificate chain (a server's, or a client certificate)
  std::string keyfile;   // its private key (empty: in certfile)
  std::string ca_certs;  // CAs to verify the peer with (empty: system default paths)
  // Whether the peer must present a valid certificate. nullopt: Tornado's defaults, none
  // on the server side, required on the client side.
  std::optional<CertReqs> cert_reqs;
  // OpenSSL cipher string for TLS 1.2 (empty: kDefaultCiphers). TLS 1.3's suites are
  // fixed by BoringSSL (AES-GCM, ChaCha20-Poly1305).
  std::string ciphers;
  // ALPN protocols in preference order ("h2", "http/1.1").
  std::vector<std::string> alpn_protocols;
  // Per-hostname certificates chosen by SNI on the server side: hostname -> (certfile,
  // keyfile). Unknown or missing names get certfile/keyfile.
  std::map<std::string, std::pair<std::string, std::string>> sni_certificates;
  // Lowest protocol version (TLS1_2_VERSION by default; BoringSSL's own default is 1.0).
  std::uint16_t minimum_version = 0x0303;
  // Offer / accept session tickets (resumption).
  bool session_tickets = true;
  // Client side: check the server certificate against the hostname (Python's
  // check_hostname); only when the certificate is verified.
  bool check_hostname = true;
};

// A shared BoringSSL context (Python's ssl.SSLContext). Immutable once built.
class SSLContext {
 public:
  explicit SSLContext(SSL_CTX* ctx, bool server_side, bool check_hostname);
  ~SSLContext();
  SSLContext(const SSLContext&) = delete;
  SSLContext& operator=(const SSLContext&) = delete;
  SSL_CTX* get() const { return ctx_; }
  bool server_side() const { return server_side_; }
  bool check_hostname() const { return check_hostname_; }

 private:
  SSL_CTX* ctx_;
  bool server_side_;
  bool check_hostname_;
  friend std::shared_ptr<SSLContext> ssl_options_to_context(const SSLOptions&, bool);

 public:  // for the SNI callback
  std::vector<std::shared_ptr<SSLContext>> sni_contexts_;
  std::vector<std::string> sni_names_;
  std::string alpn_wire_;
};

// Builds a context from `options` (Tornado's ssl_options_to_context). Throws SSLError
// for unreadable certificates / keys, a bad cipher string or a key that does not match
// its certificate.
std::shared_ptr<SSLContext> ssl_options_to_context(const SSLOptions& options, bool server_side);

// The text of BoringSSL's error queue (cleared), prefixed by `what`.
std::string ssl_error_string(const std::string& what);

}  // namespace tornado::netutil
