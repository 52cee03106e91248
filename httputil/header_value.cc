// parse_header_value: Tornado's _parse_header / _parseparam with the parts of Python's
// email.utils (decode_params, unquote, collapse_rfc2231_value) it relies on.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "escape/unicode.h"
#include "httputil/httputil.h"
#include "httputil/internal.h"

namespace tornado::httputil {
namespace {

// email.utils.unquote: strips one pair of surrounding quotes and then replaces "\\\\"
// by "\\" and "\\\"" by "\"" (two passes, as Python's str.replace); strips <...> too.
std::string email_unquote(std::string_view s) {
  if (s.size() > 1 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
    std::string pass1;
    pass1.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      pass1.push_back(s[i]);
      if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') ++i;
    }
    std::string out;
    out.reserve(pass1.size());
    for (std::size_t i = 0; i < pass1.size(); ++i) {
      if (pass1[i] == '\\' && i + 1 < pass1.size() && pass1[i + 1] == '"') continue;
      out.push_back(pass1[i]);
    }
    return out;
  }
  if (s.size() > 1 && s.front() == '<' && s.back() == '>') {
    return std::string(s.substr(1, s.size() - 2));
  }
  return std::string(s);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// urllib.parse.unquote(s, encoding="latin-1"): %XX -> that byte; anything else kept.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// bytes.decode(charset, "replace") for the charsets RFC 2231 values use; an unknown
// charset keeps the bytes (Python returns the undecoded text on LookupError).
std::string decode_charset(std::string_view charset, std::string_view text) {
  std::string cs = absl::AsciiStrToLower(std::string(charset));
  std::replace(cs.begin(), cs.end(), '_', '-');
  if (cs == "utf-8" || cs == "utf8" || cs == "u8") return escape::to_unicode_replace(text);
  bool latin1 =
      cs == "latin-1" || cs == "latin1" || cs == "iso-8859-1" || cs == "iso8859-1" || cs == "l1";
  bool ascii = cs == "us-ascii" || cs == "ascii";
  if (!latin1 && !ascii) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      out.push_back(c);
    } else {
      escape::append_utf8(out, latin1 ? char32_t{u} : char32_t{0xFFFD});
    }
  }
  return out;
}

struct Continuation {
  std::int64_t num;  // -1 for a bare "name*"
  std::string value;
  bool encoded;
  bool operator<(const Continuation& o) const {
    return std::tie(num, value, encoded) < std::tie(o.num, o.value, o.encoded);
  }
};

// Python's rfc2231_continuation: ^(\w+)\*((\d+)\*?)?$ (ASCII). Returns the base name and
// the number (-1 when absent), or nullopt when `name` is not of that form.
std::optional<std::pair<std::string_view, std::int64_t>> match_continuation(std::string_view name) {
  std::size_t star = name.find('*');
  if (star == 0 || star == std::string_view::npos) return std::nullopt;
  std::string_view base = name.substr(0, star);
  if (!std::all_of(base.begin(), base.end(),
                   [](char c) { return absl::ascii_isalnum(c) || c == '_'; })) {
    return std::nullopt;
  }
  std::string_view rest = name.substr(star + 1);
  if (rest.empty()) return std::make_pair(base, std::int64_t{-1});
  if (rest.back() == '*') rest.remove_suffix(1);
  if (rest.empty() ||
      !std::all_of(rest.begin(), rest.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    return std::nullopt;
  }
  std::int64_t num = 0;
  for (char c : rest) num = std::min<std::int64_t>(num * 10 + (c - '0'), INT64_MAX / 16);
  return std::make_pair(base, num);
}

}  // namespace

namespace internal {

std::string_view py_strip(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace internal

HeaderValue parse_header_value(std::string_view line) {
  using internal::py_strip;
  // _parseparam: split at ';' outside quoted strings. A '"' toggles "quoted" unless a
  // backslash precedes it; the state resets at each split. One pass, so linear.
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '"' && !(i > start && line[i - 1] == '\\')) quoted = !quoted;
    if (c == ';' && !quoted) {
      parts.push_back(py_strip(line.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(py_strip(line.substr(start)));

  HeaderValue out;
  out.value = std::string(parts[0]);
  // decode_params: plain parameters first (in order), then RFC 2231 ones by first
  // appearance; a later entry of the same name wins.
  std::vector<std::pair<std::string, std::vector<Continuation>>> extended;
  for (std::size_t k = 1; k < parts.size(); ++k) {
    std::size_t eq = parts[k].find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = absl::AsciiStrToLower(std::string(py_strip(parts[k].substr(0, eq))));
    std::string value = email_unquote(py_strip(parts[k].substr(eq + 1)));
    auto cont = match_continuation(name);
    if (!cont) {
      // Tornado strips one more pair of quotes after collapse_rfc2231_value.
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      out.params[name] = std::move(value);
      continue;
    }
    std::string base(cont->first);
    auto it = std::find_if(extended.begin(), extended.end(),
                           [&](const auto& e) { return e.first == base; });
    if (it == extended.end()) it = extended.insert(extended.end(), {base, {}});
    it->second.push_back(Continuation{cont->second, std::move(value), name.back() == '*'});
  }
  for (auto& [name, continuations] : extended) {
    std::sort(continuations.begin(), continuations.end());
    std::string joined;
    bool is_extended = false;
    for (const auto& c : continuations) {
      if (c.encoded) {
        joined += percent_decode(c.value);
        is_extended = true;
      } else {
        joined += c.value;
      }
    }
    std::string value;
    if (!is_extended) {
      value = std::move(joined);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
    } else {
      // decode_rfc2231: charset'language'text; without two ticks the charset is
      // us-ascii (collapse_rfc2231_value's fallback).
      std::size_t t1 = joined.find('\'');
      std::size_t t2 = t1 == std::string::npos ? t1 : joined.find('\'', t1 + 1);
      if (t2 == std::string::npos) {
        value = decode_charset("us-ascii", joined);
      } else {
        value = decode_charset(std::string_view(joined).substr(0, t1),
                               std::string_view(joined).substr(t2 + 1));
      }
    }
    out.params[name] = std::move(value);
  }
  return out;
}

}  // namespace tornado::httputil
