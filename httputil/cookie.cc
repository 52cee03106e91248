// Cookie headers as browsers send them (Tornado's parse_cookie, _unquote_cookie and
// HTTPServerRequest.cookies). One pass over the input: no quadratic search
// (Tornado's CVE-2024-52804 was a regex search restarted at each escape).
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "httputil/httputil.h"
#include "httputil/internal.h"

namespace tornado::httputil {
namespace {

bool is_octal(char c, char max = '7') { return c >= '0' && c <= max; }

// Python http.cookies._unquote: a value in double quotes has \ooo (first digit 0-3)
// octal escapes and \c escapes (any c but a newline, as the regex "." has it).
std::string unquote_cookie(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  s = s.substr(1, s.size() - 2);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      out.push_back(s[i++]);
      continue;
    }
    if (i + 3 < s.size() && is_octal(s[i + 1], '3') && is_octal(s[i + 2]) && is_octal(s[i + 3])) {
      // The byte itself: our header values are bytes (Tornado's are latin-1 text).
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 4;
    } else if (i + 1 < s.size() && s[i + 1] != '\n') {
      out.push_back(s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// Python's http.cookies._LegalChars: what SimpleCookie accepts in a name.
bool is_legal_cookie_key(std::string_view key) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~:";
  if (key.empty()) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(c) && kExtra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// Morsel._reserved: attribute names SimpleCookie refuses as cookie names.
bool is_reserved_cookie_key(std::string_view key) {
  static constexpr std::array<std::string_view, 9> kReserved = {"expires",  "path",    "comment",
                                                                "domain",   "max-age", "secure",
                                                                "httponly", "version", "samesite"};
  for (auto r : kReserved) {
    if (ascii_iequals(key, r)) return true;
  }
  return false;
}

}  // namespace

std::map<std::string, std::string, std::less<>> parse_cookie(std::string_view cookie) {
  std::map<std::string, std::string, std::less<>> out;
  while (true) {
    std::size_t semi = cookie.find(';');
    std::string_view chunk = cookie.substr(0, semi);
    std::size_t eq = chunk.find('=');
    // A chunk without '=' is a value with an empty name (Mozilla bug 169091).
    std::string_view key = eq == std::string_view::npos ? "" : chunk.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? chunk : chunk.substr(eq + 1);
    key = internal::py_strip(key);
    value = internal::py_strip(value);
    if (!key.empty() || !value.empty()) {
      out.insert_or_assign(std::string(key), unquote_cookie(value));  // the last one wins
    }
    if (semi == std::string_view::npos) break;
    cookie.remove_prefix(semi + 1);
  }
  return out;
}

std::map<std::string, std::string, std::less<>> HTTPServerRequest::cookies() const {
  std::map<std::string, std::string, std::less<>> out;
  std::vector<std::string> values = headers.get_list("Cookie");
  if (values.empty()) return out;
  // Several Cookie fields (HTTP/2 splits them) are one list: join with "; ", not ",".
  for (auto& [name, value] : parse_cookie(absl::StrJoin(values, "; "))) {
    // SimpleCookie drops names it cannot hold; Tornado discards those silently.
    if (is_legal_cookie_key(name) && !is_reserved_cookie_key(name)) {
      out.emplace(name, std::move(value));
    }
  }
  return out;
}

}  // namespace tornado::httputil
