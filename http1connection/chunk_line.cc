#include "http1connection/chunk_line.h"

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tornado::http1connection {
namespace {

constexpr std::size_t kMaxSignificantDigits = 15;
constexpr std::size_t kMaxDigits = 64;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" /
//         "|" / "~" / DIGIT / ALPHA
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_ws(char c) { return c == ' ' || c == '\t'; }

// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
bool is_qdtext(unsigned char u) {
  return u == '\t' || u == ' ' || u == 0x21 || (u >= 0x23 && u <= 0x5b) ||
         (u >= 0x5d && u <= 0x7e) || u >= 0x80;
}

// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
bool is_quoted_pair_char(unsigned char u) {
  return u == '\t' || u == ' ' || (u >= 0x21 && u <= 0x7e) || u >= 0x80;
}

absl::Status bad_ext(const char* what) {
  return absl::InvalidArgumentError(std::string("invalid chunk extension: ") + what);
}

}  // namespace

absl::StatusOr<std::uint64_t> parse_chunk_size_line(std::string_view line) {
  const std::size_t n = line.size();
  std::size_t i = 0;
  std::size_t significant = 0;
  std::uint64_t size = 0;
  for (; i < n; ++i) {
    const int v = hex_value(line[i]);
    if (v < 0) break;
    if (i + 1 > kMaxDigits) return absl::InvalidArgumentError("chunk size too long");
    if (significant == 0 && v == 0) continue;
    if (++significant > kMaxSignificantDigits) {
      return absl::InvalidArgumentError("chunk size too long");
    }
    size = size * 16 + static_cast<std::uint64_t>(v);
  }
  if (i == 0) return absl::InvalidArgumentError("invalid chunk size");

  // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
  while (i < n) {
    // Entered with i < n: reaching the end here means trailing whitespace.
    const std::size_t ws_start = i;
    while (i < n && is_ws(line[i])) ++i;
    if (i == n) return bad_ext("whitespace not followed by ';'");
    if (line[i] != ';') {
      if (i != ws_start) return bad_ext("whitespace not followed by ';'");
      return bad_ext("unexpected character (expected ';')");
    }
    ++i;
    while (i < n && is_ws(line[i])) ++i;
    const std::size_t name_start = i;
    while (i < n && is_tchar(line[i])) ++i;
    if (i == name_start) return bad_ext("empty or invalid extension name");
    // [ BWS "=" BWS ext-val ]: look past the BWS for "="; if none, the BWS is the
    // next iteration's.
    std::size_t j = i;
    while (j < n && is_ws(line[j])) ++j;
    if (j == n || line[j] != '=') continue;
    i = j + 1;
    while (i < n && is_ws(line[i])) ++i;
    if (i == n) return bad_ext("empty extension value");
    if (line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        const auto u = static_cast<unsigned char>(line[i]);
        if (u == '"') {
          closed = true;
          ++i;
          break;
        }
        if (u == '\\') {
          if (i + 1 == n || !is_quoted_pair_char(static_cast<unsigned char>(line[i + 1]))) {
            return bad_ext("invalid quoted-pair");
          }
          i += 2;
        } else if (is_qdtext(u)) {
          ++i;
        } else {
          return bad_ext("invalid character in quoted string");
        }
      }
      if (!closed) return bad_ext("unterminated quoted string");
    } else {
      const std::size_t value_start = i;
      while (i < n && is_tchar(line[i])) ++i;
      if (i == value_start) return bad_ext("empty or invalid extension value");
    }
  }
  return size;
}

}  // namespace tornado::http1connection
