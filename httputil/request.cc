// HTTPServerRequest and query-string parsing.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "escape/url.h"
#include "httputil/httputil.h"

namespace tornado::httputil {

Arguments parse_qs_bytes(std::string_view qs, bool keep_blank_values) {
  Arguments out;
  while (!qs.empty()) {
    std::size_t amp = qs.find('&');
    std::string_view pair = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (value.empty() && !keep_blank_values) continue;
    // Bytes, not text: Tornado decodes with latin1 so any byte survives.
    out[escape::url_unescape(name, escape::Encoding::kBytes)].push_back(
        escape::url_unescape(value, escape::Encoding::kBytes));
  }
  return out;
}

absl::StatusOr<std::pair<std::string, std::optional<int>>> split_host_and_port(
    std::string_view netloc) {
  std::size_t colon = netloc.rfind(':');
  std::string_view digits =
      colon == std::string_view::npos ? std::string_view() : netloc.substr(colon + 1);
  bool numeric = !digits.empty() && digits.size() <= 5 &&
                 digits.find_first_not_of("0123456789") == std::string_view::npos;
  // "[::1]" and "::1" end in something that is not a port.
  if (!numeric || colon == 0 || netloc[colon - 1] == ':') {
    return std::pair<std::string, std::optional<int>>(std::string(netloc), std::nullopt);
  }
  int port = std::stoi(std::string(digits));
  if (port > 65535) return absl::InvalidArgumentError("port out of range");
  return std::pair<std::string, std::optional<int>>(std::string(netloc.substr(0, colon)),
                                                    port);
}

HTTPServerRequest::HTTPServerRequest(const RequestStartLine& start_line, HTTPHeaders hdrs,
                                     HTTPConnection* conn)
    : method(start_line.method),
      uri(start_line.path),
      version(start_line.version),
      headers(std::move(hdrs)),
      connection(conn) {
  if (connection != nullptr) {
    remote_ip = connection->context().remote_ip;
    protocol = connection->context().protocol;
  }
  host = headers.get("Host", "127.0.0.1");
  auto split = split_host_and_port(host);
  host_name = absl::AsciiStrToLower(split.ok() ? split->first : host);
  std::size_t q = uri.find('?');
  path = uri.substr(0, q);
  query = q == std::string::npos ? "" : uri.substr(q + 1);
  query_arguments = parse_qs_bytes(query, /*keep_blank_values=*/true);
  arguments = query_arguments;
}

std::string HTTPServerRequest::full_url() const { return absl::StrCat(protocol, "://", host, uri); }

double HTTPServerRequest::request_time() const {
  auto end = finish_time.value_or(std::chrono::system_clock::now());
  return std::chrono::duration<double>(end - start_time).count();
}

}  // namespace tornado::httputil
