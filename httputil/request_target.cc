#include "httputil/request_target.h"

#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "httputil/httputil.h"

namespace tornado::httputil {
namespace {

// Character classes of RFC 3986, one table of bit flags.
enum : std::uint16_t {
  kUnreserved = 1,  // ALPHA DIGIT - . _ ~
  kSubDelim = 2,    // ! $ & ' ( ) * + , ; =
  kHex = 4,         // HEXDIG
  kDigit = 8,
  kAlpha = 16,
  // Sent unencoded by browsers (the WHATWG URL standard leaves them as they are): [ ] | ^
  // in paths, and also { } ` \ in queries. RFC 3986 forbids them, but refusing them
  // would refuse real browsers (`?ids[]=1`, `?filter[a]=1`); they cannot change framing.
  kBrowserPath = 32,
  kBrowserQuery = 64,
  kRegName = 128,  // a reg-name byte but "%": unreserved / sub-delims without ","
  kPathChar = 256,  // a path byte but "%": what scan_path takes without looking further
};

constexpr std::array<std::uint16_t, 256> make_classes() {
  std::array<std::uint16_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kUnreserved | kAlpha;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kUnreserved | kAlpha;
  for (int c = '0'; c <= '9'; ++c) t[c] |= kUnreserved | kDigit | kHex;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHex;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kHex;
  for (char c : std::string_view("-._~")) t[static_cast<unsigned char>(c)] |= kUnreserved;
  for (char c : std::string_view("!$&'()*+,;=")) t[static_cast<unsigned char>(c)] |= kSubDelim;
  for (char c : std::string_view("[]|^")) t[static_cast<unsigned char>(c)] |= kBrowserPath | kBrowserQuery;
  for (char c : std::string_view("{}`\\")) t[static_cast<unsigned char>(c)] |= kBrowserQuery;
  for (int c = 0; c < 256; ++c) {
    if ((t[c] & (kUnreserved | kSubDelim)) != 0 && c != ',') t[c] |= kRegName;
    if ((t[c] & (kUnreserved | kSubDelim | kBrowserPath)) != 0 || c == ':' || c == '@' ||
        c == '/') {
      t[c] |= kPathChar;
    }
  }
  return t;
}
constexpr std::array<std::uint16_t, 256> kClasses = make_classes();

constexpr bool has(char c, std::uint16_t cls) {
  return (kClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

absl::Status bad(const char* what) {
  return absl::InvalidArgumentError(std::string("invalid request target: ") + what);
}

// Why the byte at `c` is not allowed where it is.
absl::Status bad_byte(char c) {
  if (c == '#') return bad("fragment ('#') not allowed");
  auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u == 0x7f) return bad("control character");
  if (u == ' ') return bad("space");
  if (u >= 0x80) return bad("non-ASCII byte");
  return absl::InvalidArgumentError(std::string("invalid request target: character '") + c +
                                    "' not allowed");
}

// A "%" at s[i]: two hex digits must follow.
bool pct_ok(std::string_view s, std::size_t i) {
  return i + 2 < s.size() && has(s[i + 1], kHex) && has(s[i + 2], kHex);
}

// path characters (pchar / "/") of s from i up to "?" or the end; with_query also
// accepts "?" (query = *( pchar / "/" / "?" )). Returns where it stopped (size() if all
// consumed) or sets `err`.
std::size_t scan_path(std::string_view s, std::size_t i, bool with_query, absl::Status* err) {
  while (i < s.size()) {
    const char c = s[i];
    if (has(c, kUnreserved | kSubDelim | (with_query ? kBrowserQuery : kBrowserPath)) ||
        c == ':' || c == '@' || c == '/' || (with_query && c == '?')) {
      ++i;
    } else if (c == '%') {
      if (!pct_ok(s, i)) {
        *err = bad("'%' not followed by two hex digits");
        return i;
      }
      i += 3;
    } else if (c == '?' && !with_query) {
      return i;
    } else {
      *err = bad_byte(c);
      return i;
    }
  }
  return i;
}

// path [ "?" query ] from i to the end.
absl::Status check_path_and_query(std::string_view s, std::size_t i) {
  absl::Status err;
  i = scan_path(s, i, false, &err);
  if (!err.ok()) return err;
  if (i < s.size()) {  // s[i] == '?'
    scan_path(s, i + 1, true, &err);
  }
  return err;
}

// reg-name = *( unreserved / pct-encoded / sub-delims ): where it stops, or npos on a
// bad "%".
std::size_t scan_reg_name(std::string_view s, std::size_t i, bool allow_comma) {
  while (i < s.size()) {
    const char c = s[i];
    if (c == '%') {
      if (!pct_ok(s, i)) return std::string_view::npos;
      i += 3;
    } else if (has(c, kUnreserved | kSubDelim) && (allow_comma || c != ',')) {
      ++i;
    } else {
      break;
    }
  }
  return i;
}

// The inside of an IP-literal's brackets: IPv6address / IPvFuture.
bool ip_literal_ok(std::string_view in) {
  if (!in.empty() && (in[0] == 'v' || in[0] == 'V')) {
    // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
    std::size_t i = 1;
    while (i < in.size() && has(in[i], kHex)) ++i;
    if (i == 1 || i >= in.size() || in[i] != '.') return false;
    ++i;
    if (i == in.size()) return false;
    for (; i < in.size(); ++i) {
      if (!has(in[i], kUnreserved | kSubDelim) && in[i] != ':') return false;
    }
    return true;
  }
  // IPv6address: hex digits, ':' and '.' only (no zone), at most 45 characters.
  if (in.size() < 2 || in.size() > 45) return false;
  char buf[46];
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (!has(c, kHex) && c != ':' && c != '.') return false;
    buf[i] = c;
  }
  buf[in.size()] = '\0';
  unsigned char addr[16];
  return inet_pton(AF_INET6, buf, addr) == 1;
}

enum class HostError { kNone, kBadHost, kBadPort };

// uri-host [ ":" port ] = all of s. Sets *host_empty and *port_len.
HostError check_host_port(std::string_view s, bool allow_comma, bool* host_empty,
                          std::size_t* port_digits, std::uint32_t* port_value) {
  std::size_t i = 0;
  if (!s.empty() && s[0] == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos || !ip_literal_ok(s.substr(1, close - 1))) {
      return HostError::kBadHost;
    }
    i = close + 1;
    *host_empty = false;
  } else {
    i = scan_reg_name(s, 0, allow_comma);
    if (i == std::string_view::npos) return HostError::kBadHost;
    *host_empty = i == 0;
  }
  *port_digits = 0;
  *port_value = 0;
  if (i == s.size()) return HostError::kNone;
  if (s[i] != ':') return HostError::kBadHost;
  for (++i; i < s.size(); ++i) {
    if (!has(s[i], kDigit)) return HostError::kBadPort;
    ++*port_digits;
    if (*port_value < 1000000) *port_value = *port_value * 10 + (s[i] - '0');
  }
  return HostError::kNone;
}

absl::Status check_authority_form(std::string_view t) {
  bool host_empty = true;
  std::size_t port_digits = 0;
  std::uint32_t port = 0;
  switch (check_host_port(t, true, &host_empty, &port_digits, &port)) {
    case HostError::kBadHost:
      return bad("CONNECT needs authority-form host:port; invalid host");
    case HostError::kBadPort:
      return bad("CONNECT needs authority-form host:port; invalid port");
    case HostError::kNone:
      break;
  }
  if (host_empty) return bad("CONNECT needs authority-form host:port; empty host");
  if (port_digits == 0) return bad("CONNECT needs authority-form host:port; missing port");
  if (port_digits > 5 || port > 65535) return bad("CONNECT port out of range");
  return absl::OkStatus();
}

absl::Status check_absolute_form(std::string_view t) {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  std::size_t i = 0;
  if (t.empty() || !has(t[0], kAlpha)) {
    if (!t.empty() && (static_cast<unsigned char>(t[0]) <= 0x20 ||
                       static_cast<unsigned char>(t[0]) >= 0x7f || t[0] == '#')) {
      return bad_byte(t[0]);
    }
    return bad("not origin-form (\"/...\") nor absolute-form (\"scheme:...\")");
  }
  while (i < t.size() &&
         (has(t[i], kAlpha | kDigit) || t[i] == '+' || t[i] == '-' || t[i] == '.')) {
    ++i;
  }
  if (i == t.size() || t[i] != ':') {
    return bad("not origin-form (\"/...\") nor absolute-form (\"scheme:...\")");
  }
  const std::string_view scheme = t.substr(0, i);
  const bool http = ascii_iequals(scheme, "http") || ascii_iequals(scheme, "https");
  ++i;
  const std::string_view rest = t.substr(i);
  if (rest.size() < 2 || rest[0] != '/' || rest[1] != '/') {
    // `scheme ":" *DIGIT` is what authority-form looks like: only for CONNECT.
    bool digits = true;
    for (char c : rest) digits = digits && has(c, kDigit);
    if (digits) return bad("authority-form (host:port) is only allowed for CONNECT");
    if (http) return bad("http(s) URI without \"//\" authority");
    return check_path_and_query(t, i);  // path-absolute / path-rootless / path-empty
  }
  // "//" authority path-abempty
  i += 2;
  std::size_t end = i;
  while (end < t.size() && t[end] != '/' && t[end] != '?' && t[end] != '#') ++end;
  std::string_view authority = t.substr(i, end - i);
  const std::size_t at = authority.find('@');
  if (at != std::string_view::npos) {
    if (http) return bad("userinfo not allowed in an http(s) URI");
    // userinfo = *( unreserved / pct-encoded / sub-delims / ":" )
    for (std::size_t k = 0; k < at; ++k) {
      const char c = authority[k];
      if (c == '%') {
        if (!pct_ok(authority, k)) return bad("'%' not followed by two hex digits");
        k += 2;
      } else if (!has(c, kUnreserved | kSubDelim) && c != ':') {
        return bad_byte(c);
      }
    }
    authority = authority.substr(at + 1);
  }
  bool host_empty = true;
  std::size_t port_digits = 0;
  std::uint32_t port = 0;
  switch (check_host_port(authority, true, &host_empty, &port_digits, &port)) {
    case HostError::kBadHost:
      return bad("invalid host in authority");
    case HostError::kBadPort:
      return bad("invalid port in authority");
    case HostError::kNone:
      break;
  }
  if (http && host_empty) return bad("empty host in http(s) URI");
  return check_path_and_query(t, end);
}

}  // namespace

absl::Status validate_request_target(std::string_view method, std::string_view target) {
  if (target.empty()) return bad("empty");
  if (method.size() == 7 && std::memcmp(method.data(), "CONNECT", 7) == 0) {
    return check_authority_form(target);
  }
  if (target[0] == '/') {
    // A plain path (the common case) in one table lookup per byte; a "%" or "?" (or a
    // bad byte) takes the full scan.
    std::size_t i = 1;
    while (i < target.size() && (kClasses[static_cast<unsigned char>(target[i])] & kPathChar) != 0) {
      ++i;
    }
    if (i == target.size()) return absl::OkStatus();
    return check_path_and_query(target, 0);
  }
  if (target == "*") {
    if (method == "OPTIONS") return absl::OkStatus();
    return bad("asterisk-form (\"*\") is only allowed for OPTIONS");
  }
  return check_absolute_form(target);
}

bool is_valid_host_header(std::string_view value) {
  // The common Host ("name" or "name:port") in one table lookup per byte; an IP literal
  // or a "%" takes the full grammar below.
  const char* p = value.data();
  const char* const end = p + value.size();
  if (p == end || *p != '[') {
    while (p != end && (kClasses[static_cast<unsigned char>(*p)] & kRegName) != 0) ++p;
    if (p == end) return true;
    if (*p == ':') {
      for (++p; p != end && (kClasses[static_cast<unsigned char>(*p)] & kDigit) != 0;) ++p;
      return p == end;
    }
    if (*p != '%') return false;
  }
  bool host_empty = true;
  std::size_t port_digits = 0;
  std::uint32_t port = 0;
  return check_host_port(value, false, &host_empty, &port_digits, &port) == HostError::kNone;
}

}  // namespace tornado::httputil
