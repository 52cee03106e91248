// tornado::curl_httpclient, Tornado's tornado.curl_httpclient: an AsyncHTTPClient over
// libcurl's multi interface, driven by our IOLoop (curl's socket callback maps to
// add_handler/update_handler/remove_handler, its timer callback to call_later; no
// extra thread of ours).
//
// Linking this package registers the implementation as "curl" and makes it
// AsyncHTTPClient's default while no "simple" implementation is linked. It also links
// a libssh2.so.1 stand-in so that OpenSSL never loads beside BoringSSL (README.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "httpclient/httpclient.h"
#include "httputil/httputil.h"
#include "ioloop/ioloop.h"
#include "util/configurable.h"

namespace tornado::curl_httpclient {

using httpclient::HTTPClientError;

// A transfer error from libcurl: code 599, `message` is curl's error text (Tornado's
// CurlError); errno_code() is the CURLcode.
class CurlError : public HTTPClientError {
 public:
  CurlError(int curl_code, std::string message)
      : HTTPClientError(599, std::move(message)), errno_(curl_code) {}
  int errno_code() const { return errno_; }

 private:
  int errno_;
};

// Tornado's CurlAsyncHTTPClient. Keyword arguments: "max_clients" (int, default 10:
// that many curl easy handles; more requests wait in httpclient::RequestQueue, with
// its queue timeout), "defaults" (httpclient::HTTPRequest) and "max_header_size" (int,
// default 1 MiB: all header lines of one transfer, redirects included; more fails the
// transfer with a CurlError; Tornado's curl client has no limit).
//
// Supported HTTPRequest fields: all but body_producer (std::invalid_argument, as
// Tornado's curl client does not stream request bodies either). Only http:// and
// https:// URLs are allowed (redirects included).
class CurlAsyncHTTPClient : public httpclient::AsyncHTTPClient {
 public:
  explicit CurlAsyncHTTPClient(const util::Kwargs& kwargs);
  ~CurlAsyncHTTPClient() override;

  // Aborts transfers in flight (their futures never complete), closes curl's
  // connections and handles.
  void close() override;

  // Number of sockets curl has registered on the loop (tests, diagnostics).
  std::size_t registered_fds() const { return fds_.size(); }

 protected:
  void fetch_impl(httpclient::RequestPtr request, httpclient::ResponseCallback callback) override;

 private:
  struct Transfer;
  friend struct CurlCallbacks;

  void start(httpclient::RequestPtr request, httpclient::ResponseCallback callback,
             double queue_start_time, std::function<void()> release);
  void setup_request(Transfer& t);
  void handle_socket(int what, int fd);
  void set_timeout(long msecs);
  void handle_events(int fd, std::uint32_t events);
  void handle_timeout();
  void handle_force_timeout();
  void finish_pending_requests();
  void finish(void* easy, int curl_code);

  void* multi_ = nullptr;                // CURLM*
  std::vector<void*> curls_;             // every CURL* (max_clients of them)
  std::vector<void*> free_list_;
  absl::flat_hash_map<void*, std::unique_ptr<Transfer>> active_;
  std::map<int, std::uint32_t> fds_;
  ioloop::TimeoutHandle timeout_;
  std::unique_ptr<ioloop::PeriodicCallback> force_timeout_callback_;
  std::unique_ptr<httpclient::RequestQueue> queue_;
  bool closing_ = false;
  std::size_t max_header_size_ = 1 << 20;
};

// Tornado's _curl_header_callback minus the user callback: one raw header line from
// the peer (untrusted) updates `headers`/`reason`. A status line ("HTTP/...") starts a
// new response (clears both; the reason is kept when the line parses); a malformed
// field is dropped. Linear in the line; never throws on any input. Exposed for tests.
void parse_header_line(std::string_view line, httputil::HTTPHeaders& headers, std::string& reason);

// The libssh2.so.1 the process loaded is our stand-in (see libssh2_stub.c); false means
// a real libssh2 (and with it OpenSSL) got in first.
bool libssh2_stub_loaded();

}  // namespace tornado::curl_httpclient
