// Percent-encoding and decoding for tornado::escape.
#include "escape/url.h"

#include "escape/unicode.h"

namespace tornado::escape {
namespace {

bool always_safe(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string url_escape(std::string_view value, bool plus) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() + value.size() / 4);
  for (char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (always_safe(c) || (!plus && c == '/')) {
      out.push_back(ch);
    } else if (plus && c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string url_unescape(std::string_view value, Encoding encoding, bool plus) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '+' && plus) {
      out.push_back(' ');
      continue;
    }
    int hi, lo;
    if (c != '%' || i + 2 >= value.size() ||
        (hi = hex_value(value[i + 1])) < 0 || (lo = hex_value(value[i + 2])) < 0) {
      out.push_back(c);
      continue;
    }
    const auto byte = static_cast<char32_t>(hi * 16 + lo);
    if (encoding == Encoding::kLatin1) {
      append_utf8(out, byte);
    } else {
      out.push_back(static_cast<char>(byte));
    }
    i += 2;
  }
  if (encoding == Encoding::kUtf8) return to_unicode_replace(out);
  return out;
}

}  // namespace tornado::escape
