// HTTPHeaders and the start-line parsers: the strict RFC 9110/9112 grammar.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "httputil/httputil.h"

namespace tornado::httputil {
namespace {


constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = true;
  for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) t[c] = true;
  return t;
}
constexpr std::array<bool, 256> kTchar = make_tchar_table();

bool is_tchar(unsigned char c) { return kTchar[c]; }

// field-vchar / SP / HTAB; obs-text (0x80-0xFF) is allowed as RFC 9110 permits.
constexpr std::array<bool, 256> make_field_value_table() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c == '\t' || (c >= 0x20 && c != 0x7f);
  return t;
}
constexpr std::array<bool, 256> kFieldValue = make_field_value_table();

bool is_field_value_char(unsigned char c) { return kFieldValue[c]; }

constexpr std::array<unsigned char, 256> make_case_table(bool upper) {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = static_cast<unsigned char>(c);
    if (upper && c >= 'a' && c <= 'z') t[c] = static_cast<unsigned char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') t[c] = static_cast<unsigned char>(c - 'A' + 'a');
  }
  return t;
}
constexpr std::array<unsigned char, 256> kToUpper = make_case_table(true);
constexpr std::array<unsigned char, 256> kToLower = make_case_table(false);

// Whether every byte of `s` is a field-value character. Eight bytes at a time: a word
// with no byte below 0x20 and none equal to 0x7f is valid as a whole; a word that may
// have one (the bit tricks can only over-report) is checked byte by byte.
bool all_field_value_chars(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    std::uint64_t below_space = (x - kOnes * 0x20) & ~x & kHigh;
    std::uint64_t y = x ^ (kOnes * 0x7f);
    std::uint64_t del = (y - kOnes) & ~y & kHigh;
    if ((below_space | del) == 0) continue;
    for (int i = 0; i < 8; ++i) {
      if (!kFieldValue[static_cast<unsigned char>(p[i])]) return false;
    }
  }
  for (; n > 0; ++p, --n) {
    if (!kFieldValue[static_cast<unsigned char>(*p)]) return false;
  }
  return true;
}

std::string_view strip_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}


bool is_http1_version(std::string_view v) {
  return v.size() == 8 && std::memcmp(v.data(), "HTTP/1.", 7) == 0 && absl::ascii_isdigit(v[7]);
}

}  // namespace

bool is_token(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(c); });
}

namespace {

// normalize_header_name of `name` into out[0, name.size()).
void normalize_into(std::string_view name, char* out) {
  // Table lookups, no branches on the letter: this runs for every header field. A
  // letter starts a word when the input byte before it is '-' (which both tables keep),
  // so no iteration waits for the previous one's result.
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto u = static_cast<unsigned char>(name[i]);
    const bool word_start = i == 0 || name[i - 1] == '-';
    out[i] = static_cast<char>(word_start ? kToUpper[u] : kToLower[u]);
  }
}

}  // namespace

std::string normalize_header_name(std::string_view name) {
  std::string out(name);
  normalize_into(name, out.data());
  return out;
}

HTTPHeaders::HTTPHeaders(std::initializer_list<Field> fields) {
  for (const auto& [name, value] : fields) add(name, value);
}

void HTTPHeaders::add(std::string_view name, std::string_view value) {
  fields_.emplace_back(normalize_header_name(name), std::string(value));
}

void HTTPHeaders::set(std::string_view name, std::string_view value) {
  erase(name);
  add(name, value);
}

std::size_t HTTPHeaders::erase(std::string_view name) {
  auto it = std::remove_if(fields_.begin(), fields_.end(), [&](const Field& f) {
    return ascii_iequals(f.first, name);
  });
  std::size_t removed = fields_.end() - it;
  fields_.erase(it, fields_.end());
  return removed;
}

bool HTTPHeaders::contains(std::string_view name) const {
  return std::any_of(fields_.begin(), fields_.end(),
                     [&](const Field& f) { return ascii_iequals(f.first, name); });
}

std::optional<std::string> HTTPHeaders::get(std::string_view name) const {
  std::optional<std::string> joined;
  for (const auto& [n, v] : fields_) {
    if (!ascii_iequals(n, name)) continue;
    if (joined) {
      absl::StrAppend(&*joined, ",", v);
    } else {
      joined = v;
    }
  }
  return joined;
}

std::string HTTPHeaders::get(std::string_view name, std::string_view default_value) const {
  auto v = get(name);
  return v ? *std::move(v) : std::string(default_value);
}

std::vector<std::string> HTTPHeaders::get_list(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : fields_) {
    if (ascii_iequals(n, name)) out.push_back(v);
  }
  return out;
}

absl::Status HTTPHeaders::parse_line(std::string_view line) {
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    return absl::InvalidArgumentError("obsolete line folding in header");
  }
  // The name is a token directly followed by ':'. One scan over the token bytes finds
  // the colon when the name is valid (':' is not a tchar, so it is the first one); any
  // other stop only has to tell the two errors apart.
  std::size_t colon = 0;
  while (colon < line.size() && is_tchar(static_cast<unsigned char>(line[colon]))) ++colon;
  if (colon == line.size() || line[colon] != ':' || colon == 0) {
    if (line.find(':') == std::string_view::npos) {
      return absl::InvalidArgumentError("no colon in header line");
    }
    return absl::InvalidArgumentError("invalid header name");
  }
  std::string_view value = strip_ows(line.substr(colon + 1));
  if (!all_field_value_chars(value)) {
    return absl::InvalidArgumentError("invalid character in header value");
  }
  // Constructed in place in the vector (no temporaries moved in), then normalized there.
  Field& field = fields_.emplace_back(std::piecewise_construct,
                                      std::forward_as_tuple(line.data(), colon),
                                      std::forward_as_tuple(value.data(), value.size()));
  normalize_into(line.substr(0, colon), field.first.data());
  return absl::OkStatus();
}

absl::StatusOr<HTTPHeaders> HTTPHeaders::parse(std::string_view block) {
  HTTPHeaders headers;
  // Room for a typical request's fields up front (a field line is rarely under 16
  // bytes), so the vector does not move them while growing; bounded by the input.
  headers.fields_.reserve(std::min<std::size_t>(block.size() / 16 + 1, 32));
  while (!block.empty()) {
    std::size_t lf = block.find('\n');
    std::string_view line = block.substr(0, lf);
    block = lf == std::string_view::npos ? std::string_view() : block.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;  // a trailing CRLF ends the block
    // A bare CR anywhere else is rejected by parse_line's value/name checks.
    if (auto status = headers.parse_line(line); !status.ok()) return status;
  }
  return headers;
}

std::string HTTPHeaders::to_string() const {
  std::string out;
  for (const auto& [n, v] : fields_) absl::StrAppend(&out, n, ": ", v, "\r\n");
  return out;
}

absl::StatusOr<RequestStartLine> parse_request_start_line(std::string_view line) {
  // method SP request-target SP HTTP-version, exactly two spaces. The version has a
  // fixed length, so it is the last 8 bytes: one search (for the first space) and one
  // pass over the target, which must hold no space, CTL or DEL.
  const std::size_t n = line.size();
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || n < sp1 + 11 || line[n - 9] != ' ') {
    return absl::InvalidArgumentError("malformed HTTP request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, n - 9 - (sp1 + 1));
  std::string_view version = line.substr(n - 8);
  bool target_ok = true;
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      if (c == ' ') return absl::InvalidArgumentError("malformed HTTP request line");
      target_ok = false;
    }
  }
  // A valid version has no space: only an invalid one needs the search.
  const bool version_ok = is_http1_version(version);
  if (!version_ok && version.find(' ') != std::string_view::npos) {
    return absl::InvalidArgumentError("malformed HTTP request line");
  }
  if (!is_token(method)) return absl::InvalidArgumentError("malformed HTTP method");
  if (!target_ok) return absl::InvalidArgumentError("malformed HTTP request target");
  if (!version_ok) {
    return absl::InvalidArgumentError("malformed HTTP version in request line");
  }
  return RequestStartLine{std::string(method), std::string(target), std::string(version)};
}

absl::StatusOr<ResponseStartLine> parse_response_start_line(std::string_view line) {
  // HTTP-version SP 3DIGIT SP [reason]; some servers omit the SP before an empty reason.
  if (line.size() < 12 || !is_http1_version(line.substr(0, 8)) || line[8] != ' ' ||
      !absl::ascii_isdigit(line[9]) || !absl::ascii_isdigit(line[10]) ||
      !absl::ascii_isdigit(line[11]) || (line.size() > 12 && line[12] != ' ')) {
    return absl::InvalidArgumentError("malformed HTTP status line");
  }
  std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
  for (char c : reason) {
    if (!is_field_value_char(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("invalid character in HTTP reason phrase");
    }
  }
  int code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  return ResponseStartLine{std::string(line.substr(0, 8)), code, std::string(reason)};
}

}  // namespace tornado::httputil
