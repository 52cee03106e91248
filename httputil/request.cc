// HTTPServerRequest and query-string parsing.
#include <algorithm>
#include <optional>

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
  // Back from the end over the digits (value built on the way), at most 5 of them; the
  // byte before them must be that colon.
  const std::size_t n = netloc.size();
  std::size_t i = n;
  int port = 0;
  int scale = 1;
  while (i > 0 && n - i < 5 && netloc[i - 1] >= '0' && netloc[i - 1] <= '9') {
    port += (netloc[i - 1] - '0') * scale;
    scale *= 10;
    --i;
  }
  if (i == n || i < 2 || netloc[i - 1] != ':' || netloc[i - 2] == ':') return std::nullopt;
  return std::pair<std::string_view, int>(netloc.substr(0, i - 1), port);
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::optional<int>>> split_host_and_port(
    std::string_view netloc) {
  const auto split = split_port(netloc);
  if (!split) return std::pair<std::string, std::optional<int>>(std::string(netloc), std::nullopt);
  if (split->second > 65535) return absl::InvalidArgumentError("port out of range");
  return std::pair<std::string, std::optional<int>>(std::string(split->first), split->second);
}

namespace {

// The Host field as headers.get("Host") gives it, else Tornado's "127.0.0.1". One field
// (the common case, and the only one HTTP1Connection lets through) is copied without a
// joined temporary.
std::string host_of(const HTTPHeaders& headers) {
  const std::string* only_host = nullptr;
  int hosts = 0;
  for (const auto& [name, value] : headers.get_all()) {
    if (name.size() == 4 && ascii_iequals(name, "Host")) {
      only_host = &value;
      ++hosts;
    }
  }
  if (hosts == 1) return *only_host;
  if (hosts > 1) return *headers.get("Host");
  return "127.0.0.1";
}

// The host without a valid port, lower-cased (the whole Host if its port is out of
// range, as split_host_and_port fails then).
std::string host_name_of(std::string_view host) {
  const auto split = split_port(host);
  std::string out(split && split->second <= 65535 ? split->first : host);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

// An absolute-form target ("http://Host:80/p?q", RFC 9112 3.2.2) as its authority and
// the origin-form rest ("/" when the path is empty); nullopt for any other form or a
// URI without "//" authority.
std::optional<std::pair<std::string_view, std::string>> split_absolute_form(
    std::string_view target) {
  if (target.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(target[0]))) {
    return std::nullopt;
  }
  const std::size_t sep = target.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  for (char c : target.substr(0, sep)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' &&
        c != '.') {
      return std::nullopt;
    }
  }
  const std::string_view rest = target.substr(sep + 3);
  const std::size_t end = std::min(rest.find_first_of("/?"), rest.size());
  std::string_view authority = rest.substr(0, end);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // userinfo is not part of the host
  }
  std::string origin(rest.substr(end));
  if (origin.empty() || origin[0] == '?') origin.insert(0, "/");
  return std::pair<std::string_view, std::string>(authority, std::move(origin));
}

}  // namespace

// Every member computed in the initializer list: no default value built and replaced.
HTTPServerRequest::HTTPServerRequest(const RequestStartLine& start_line, HTTPHeaders hdrs,
                                     HTTPConnection* conn)
    : method(start_line.method),
      uri(start_line.path),
      version(start_line.version),
      headers(std::move(hdrs)),
      remote_ip(conn != nullptr ? conn->context().remote_ip : std::string()),
      protocol(conn != nullptr ? conn->context().protocol : std::string("http")),
      host(host_of(headers)),
      host_name(host_name_of(host)),
      path(std::string_view(uri).substr(0, uri.find('?'))),
      connection(conn) {
  // RFC 9112 3.2.2: with an absolute-form target the origin server uses the target's
  // authority, not Host; uri and path become the origin-form part. (Tornado keeps the
  // whole URL in both, so no route matches such a request.)
  if (uri[0] != '/') {
    if (auto absolute = split_absolute_form(uri)) {
      host.assign(absolute->first);
      host_name = host_name_of(host);
      uri = std::move(absolute->second);
      path = uri.substr(0, uri.find('?'));
    }
  }
  if (path.size() < uri.size()) {  // uri[path.size()] == '?'
    query.assign(uri, path.size() + 1);
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
