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

namespace {

// netloc's host and port when it ends in ":<1 to 5 digits>" after a host ("::1" and
// "[::1]" end in something that is not a port). The port may be above 65535.
std::optional<std::pair<std::string_view, int>> split_port(std::string_view netloc) {
  const std::size_t colon = netloc.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || netloc[colon - 1] == ':') return std::nullopt;
  const std::string_view digits = netloc.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  return std::pair<std::string_view, int>(netloc.substr(0, colon), port);
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::optional<int>>> split_host_and_port(
    std::string_view netloc) {
  const auto split = split_port(netloc);
  if (!split) return std::pair<std::string, std::optional<int>>(std::string(netloc), std::nullopt);
  if (split->second > 65535) return absl::InvalidArgumentError("port out of range");
  return std::pair<std::string, std::optional<int>>(std::string(split->first), split->second);
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
  if (auto h = headers.get("Host")) host = *std::move(h);
  // host_name: the host without a valid port, lower-cased (the whole Host if its port is
  // out of range, as split_host_and_port fails then).
  const auto split = split_port(host);
  const std::string_view name = split && split->second <= 65535 ? split->first : host;
  host_name.assign(name.data(), name.size());
  for (char& c : host_name) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  const std::size_t q = uri.find('?');
  if (q == std::string::npos) {
    path = uri;
  } else {
    path.assign(uri, 0, q);
    query.assign(uri, q + 1);
    query_arguments = parse_qs_bytes(query, /*keep_blank_values=*/true);
    arguments = query_arguments;
  }
}

std::string HTTPServerRequest::full_url() const { return absl::StrCat(protocol, "://", host, uri); }

double HTTPServerRequest::request_time() const {
  auto end = finish_time.value_or(std::chrono::system_clock::now());
  return std::chrono::duration<double>(end - start_time).count();
}

}  // namespace tornado::httputil
