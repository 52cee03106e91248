// tornado::simple_httpclient, Tornado's tornado.simple_httpclient: SimpleAsyncHTTPClient,
// an AsyncHTTPClient over tcpclient + iostream + http1connection (client side), with
// Tornado 6.5's semantics plus keep-alive connection reuse, HTTP proxies (absolute-form
// and CONNECT), gzip/deflate/br decompression and credential stripping on cross-origin
// redirects (see README.md).
//
// Linking //simple_httpclient registers it as "simple", the default AsyncHTTPClient.
//
// Threading: a client belongs to the thread of its IOLoop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "httpclient/httpclient.h"
#include "util/configurable.h"

namespace tornado::simple_httpclient {

// A non-blocking HTTP client with no dependencies beyond the project (Tornado's
// SimpleAsyncHTTPClient). Keyword arguments (all optional):
//   "max_clients" (int, 10), "defaults" (httpclient::HTTPRequest): as AsyncHTTPClient;
//   "hostname_mapping" (std::map<std::string, std::string>): host -> host[:port]
//       overrides, as netutil::OverrideResolver;
//   "resolver" (std::shared_ptr<netutil::Resolver>): used instead of the default;
//   "max_buffer_size" (std::size_t, 100 MiB): the streams' read buffer limit;
//   "max_header_size" (std::size_t, 64 KiB): largest response header block;
//   "max_body_size" (std::size_t, max_buffer_size): largest body (before and after
//       decompression);
//   "max_idle_connections" (int, 4): idle keep-alive connections kept per
//       (scheme, host, port, proxy); 0 disables reuse ("Connection: close", as Tornado);
//   "idle_connection_timeout" (double seconds, 30): an idle connection is closed after.
class SimpleAsyncHTTPClient : public httpclient::AsyncHTTPClient {
 public:
  explicit SimpleAsyncHTTPClient(const util::Kwargs& kwargs);
  ~SimpleAsyncHTTPClient() override;

  // Closes idle connections and drops queued requests (requests in flight complete).
  void close() override;

  // Idle keep-alive connections held now.
  std::size_t idle_connection_count() const;
  // Connections opened so far (TCP connects, not reuses).
  std::uint64_t connections_opened() const;

  struct Impl;

 protected:
  void fetch_impl(httpclient::RequestPtr request, httpclient::ResponseCallback callback) override;

 private:
  std::shared_ptr<Impl> impl_;
};

// The User-Agent sent when the request sets none (Tornado: "Tornado/<version>").
inline constexpr std::string_view kDefaultUserAgent = "Tornado/6.5 (tornado-cpp simple_httpclient)";

// Resolves `location` against `base` (urllib.parse.urljoin for http(s) URLs): absolute,
// scheme-relative, absolute-path, query-only and relative references, with "." and ".."
// segments removed.
std::string urljoin(std::string_view base, std::string_view location);

}  // namespace tornado::simple_httpclient
