// tornado::httputil, Tornado's tornado.httputil: HTTP header container, start-line
// parsers, the server-side request object and the delegate interfaces that connect the
// wire protocol (http1connection) to applications (httpserver, web, clients).
//
// Every parser here takes untrusted input. Synchronous parsers return absl::Status /
// absl::StatusOr (never throw, never crash, linear time); HTTPInputError is the
// exception the async layers raise for the same failures.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "concurrent/future.h"

namespace tornado::httputil {

using concurrent::Future;

// Malformed input from the peer (Tornado's HTTPInputError).
class HTTPInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Misuse of the output side, e.g. writing more than Content-Length (HTTPOutputError).
class HTTPOutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A case-insensitive multi-map of header fields that keeps the order fields arrived in
// (Tornado's HTTPHeaders). Names are stored normalized ("content-type" ->
// "Content-Type"). get() joins repeated fields with "," as Tornado's h[name] does.
// Lookups scan the fields: header blocks are bounded by max_header_size.
class HTTPHeaders {
 public:
  using Field = std::pair<std::string, std::string>;

  HTTPHeaders() = default;
  HTTPHeaders(std::initializer_list<Field> fields);

  // Appends a field (Tornado's add).
  void add(std::string_view name, std::string_view value);
  // Replaces every field of that name with one (Tornado's h[name] = value).
  void set(std::string_view name, std::string_view value);
  // Removes every field of that name; returns how many were removed.
  std::size_t erase(std::string_view name);
  bool contains(std::string_view name) const;
  // The values of `name` joined with ",", or nullopt if absent.
  std::optional<std::string> get(std::string_view name) const;
  // Same, with a default.
  std::string get(std::string_view name, std::string_view default_value) const;
  // Every value of `name`, in order (Tornado's get_list).
  std::vector<std::string> get_list(std::string_view name) const;
  // Every field, in arrival order (Tornado's get_all).
  const std::vector<Field>& get_all() const { return fields_; }
  // Number of fields (a repeated name counts each time).
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

  // Parses one header line "Name: value" (no CRLF) strictly per RFC 9110/9112: the name
  // is a token, no whitespace before the colon, the value has no CTL other than HTAB and
  // is stripped of surrounding SP/HTAB. Obsolete line folding is rejected.
  absl::Status parse_line(std::string_view line);
  // Parses a header block: lines separated by CRLF (a bare LF is accepted, as RFC 9112
  // allows for recipients; a bare CR is rejected).
  static absl::StatusOr<HTTPHeaders> parse(std::string_view block);

  // "Name: value\r\n" per field, in order.
  std::string to_string() const;

  friend bool operator==(const HTTPHeaders& a, const HTTPHeaders& b) {
    return a.fields_ == b.fields_;
  }

 private:
  std::vector<Field> fields_;
};

// "content-type" -> "Content-Type" (Tornado's _normalize_header).
std::string normalize_header_name(std::string_view name);
// RFC 9110 token (tchar+).
bool is_token(std::string_view s);
// ASCII case-insensitive equality, for header names and tokens (Debian's
// absl::EqualsIgnoreCase takes absl::string_view). Inline: lookups call it per field.
inline bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// "GET /path HTTP/1.1" (Tornado's RequestStartLine).
struct RequestStartLine {
  std::string method;
  std::string path;
  std::string version;
  friend bool operator==(const RequestStartLine&, const RequestStartLine&) = default;
};

// "HTTP/1.1 200 OK" (Tornado's ResponseStartLine).
struct ResponseStartLine {
  std::string version;
  int code = 0;
  std::string reason;
  friend bool operator==(const ResponseStartLine&, const ResponseStartLine&) = default;
};

using StartLine = std::variant<RequestStartLine, ResponseStartLine>;

// Parses a request line strictly: method is a token, single spaces, the target has no
// whitespace or CTL, version is "HTTP/1.<digit>".
absl::StatusOr<RequestStartLine> parse_request_start_line(std::string_view line);
// Parses a status line: "HTTP/1.<digit> <3 digits> <reason>" (reason may be empty).
absl::StatusOr<ResponseStartLine> parse_response_start_line(std::string_view line);

class HTTPConnection;

// Receives one HTTP message (request on the server side, response on the client side).
// Tornado's HTTPMessageDelegate. A method may return a pending Future to apply flow
// control: the connection reads nothing more until it resolves. A default-constructed
// std::optional (nullopt) means "go on".
class HTTPMessageDelegate {
 public:
  virtual ~HTTPMessageDelegate() = default;
  // The start line and headers arrived. The headers are the delegate's to keep (moved
  // in: a request object takes them without a copy); the start line is only borrowed.
  virtual std::optional<Future<void>> headers_received(const StartLine& start_line,
                                                       HTTPHeaders headers) = 0;
  // A piece of the body arrived (already de-chunked and decompressed).
  virtual std::optional<Future<void>> data_received(std::string chunk) = 0;
  // The message is complete.
  virtual void finish() = 0;
  // The connection closed before finish().
  virtual void on_connection_close() = 0;
};

// The peer's address and protocol as seen by the server (Tornado's _HTTPRequestContext);
// httpserver fills it and may rewrite it from X-Real-Ip / X-Forwarded-Proto.
struct RequestContext {
  std::string remote_ip;  // "" for a UNIX socket
  std::string protocol;   // "http" or "https"
};

// The writing side of one message exchange (Tornado's HTTPConnection).
class HTTPConnection {
 public:
  virtual ~HTTPConnection() = default;
  // Writes a start line and headers, and optionally the first chunk. Completes when the
  // bytes are flushed; fails with StreamClosedError if the connection closed.
  virtual Future<void> write_headers(const StartLine& start_line, const HTTPHeaders& headers,
                                     std::string chunk = {}) = 0;
  // Writes a body chunk (chunk-encoded if the message is chunked).
  virtual Future<void> write(std::string chunk) = 0;
  // Ends the message.
  virtual void finish() = 0;
  // Where the request came from (server side).
  virtual const RequestContext& context() const = 0;
};

// An HTTP/1 server-side connection as the server sees it (Tornado's
// HTTP1ServerConnection), used as a key by server delegates.
class HTTPServerConnection {
 public:
  virtual ~HTTPServerConnection() = default;
};

// Creates a message delegate per request (Tornado's HTTPServerConnectionDelegate).
class HTTPServerConnectionDelegate {
 public:
  virtual ~HTTPServerConnectionDelegate() = default;
  // A request is starting on `request_conn`, which outlives the returned delegate.
  virtual std::unique_ptr<HTTPMessageDelegate> start_request(
      HTTPServerConnection* server_conn, HTTPConnection* request_conn) = 0;
  // The connection closed; no more requests will start on it.
  virtual void on_close(HTTPServerConnection* server_conn) { (void)server_conn; }
};

// An uploaded file from a multipart/form-data body (Tornado's HTTPFile).
struct HTTPFile {
  std::string filename;
  std::string body;
  std::string content_type;
};

// name -> values in arrival order (Tornado's Dict[str, List[bytes]]).
using Arguments = std::map<std::string, std::vector<std::string>, std::less<>>;
using Files = std::map<std::string, std::vector<HTTPFile>, std::less<>>;

// A request as a server application sees it (Tornado's HTTPServerRequest).
class HTTPServerRequest {
 public:
  HTTPServerRequest() = default;
  // Builds a request from a parsed start line (Tornado's start_line= constructor): sets
  // method, uri, version, path, query, query_arguments, arguments, host (from the Host
  // header, else "127.0.0.1"), host_name, remote_ip/protocol (from the connection's
  // context when there is one), start time.
  HTTPServerRequest(const RequestStartLine& start_line, HTTPHeaders headers,
                    HTTPConnection* connection = nullptr);

  std::string method = "GET";
  std::string uri = "/";
  std::string version = "HTTP/1.0";
  HTTPHeaders headers;
  std::string body;
  std::string remote_ip;
  std::string protocol = "http";
  std::string host = "127.0.0.1";
  std::string host_name = "127.0.0.1";
  std::string path = "/";
  std::string query;
  Arguments arguments;
  Arguments query_arguments;
  Arguments body_arguments;
  Files files;
  HTTPConnection* connection = nullptr;
  std::chrono::system_clock::time_point start_time = std::chrono::system_clock::now();
  std::optional<std::chrono::system_clock::time_point> finish_time;

  // Cookies from the Cookie header(s), parsed leniently as browsers send them
  // (Tornado's cookies property; parse_cookie).
  std::map<std::string, std::string, std::less<>> cookies() const;
  // protocol + "://" + host + uri.
  std::string full_url() const;
  // Seconds since start_time, or until finish_time once set.
  double request_time() const;
  // Parses body per Content-Type into body_arguments/files and merges them into
  // arguments (Tornado's _parse_body). Malformed bodies are logged and skipped, as
  // Tornado does.
  void parse_body();
};

// Parses a query string into name -> values (Tornado's parse_qs_bytes; '+' is a space,
// bad %-escapes are kept literally). Blank values are dropped unless keep_blank_values.
Arguments parse_qs_bytes(std::string_view qs, bool keep_blank_values = false);
// Flattens arguments into (name, value) pairs (Tornado's qs_to_qsl).
std::vector<std::pair<std::string, std::string>> qs_to_qsl(const Arguments& args);
// Appends query arguments to a URL that may already have some (Tornado's url_concat).
std::string url_concat(std::string_view url,
                       const std::vector<std::pair<std::string, std::string>>& args);

// Limits for parse_body_arguments / parse_multipart_form_data. max_parts bounds the
// pieces the body splits into at its delimiters, the preamble included (Tornado 6.5's
// len(parts) > max_parts); max_part_header_size bounds each part's header block.
struct BodyLimits {
  std::size_t max_parts = 10000;
  std::size_t max_part_header_size = 10 * 1024;
};
// Parses a urlencoded or multipart/form-data body into arguments and files (Tornado's
// parse_body_arguments). An error names what was malformed; what parsed before it stays.
absl::Status parse_body_arguments(std::string_view content_type, std::string_view body,
                                  Arguments& arguments, Files& files,
                                  const HTTPHeaders* headers = nullptr,
                                  const BodyLimits& limits = {});
absl::Status parse_multipart_form_data(std::string_view boundary, std::string_view data,
                                       Arguments& arguments, Files& files,
                                       const BodyLimits& limits = {});

// A header value with parameters, such as Content-Type or Content-Disposition:
// "form-data; name=\"f\"; filename*=UTF-8''%C3%A1.txt" -> value "form-data" and params
// {"name": "f", "filename": "\u00e1.txt"} (Tornado's _parse_header). Parameter names are
// lower-cased; values are unquoted; ';' inside a quoted string does not split; RFC 2231
// "name*" (charset''percent-encoded) and "name*0", "name*1*" continuations are decoded
// to UTF-8 and win over a plain "name". Never fails, linear time.
struct HeaderValue {
  std::string value;
  std::map<std::string, std::string, std::less<>> params;
};
HeaderValue parse_header_value(std::string_view line);

// RFC 7231 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (format_timestamp).
std::string format_timestamp(std::chrono::system_clock::time_point t);
// "host:port" / "[v6]:port" / "host" -> (host, port) (split_host_and_port).
absl::StatusOr<std::pair<std::string, std::optional<int>>> split_host_and_port(
    std::string_view netloc);
// Parses a Cookie header as browsers send it, in linear time on any input (parse_cookie).
std::map<std::string, std::string, std::less<>> parse_cookie(std::string_view cookie);
// The reason phrase of a status code ("Not Found"), "Unknown" if none (Tornado's
// httputil.responses.get(code, "Unknown")); RFC 9110's names, e.g. 413 "Content Too
// Large" where Python's table still says "Request Entity Too Large".
std::string_view reason_phrase(int code);
// "user:password" for Basic auth (encode_username_password).
std::string encode_username_password(std::string_view username, std::string_view password);

}  // namespace tornado::httputil
