// UTF-8 validation following the well-formed byte sequences table of Unicode 15, §3.9.
#include "log/utf8.h"

#include <cstdint>

namespace tornado::log::utf8 {
namespace {

// The length of the well-formed sequence starting at text[i], or 0 if there is none.
size_t sequence_length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  uint8_t lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length;
  uint8_t low = 0x80;
  uint8_t high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // No overlong forms.
    if (lead == 0xED) high = 0x9F;  // No surrogates.
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // No overlong forms.
    if (lead == 0xF4) high = 0x8F;  // Nothing past U+10FFFF.
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

void append_escaping_invalid(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < text.size()) {
    size_t ascii_end = i;  // Runs of ASCII, the common case, are copied at once.
    while (ascii_end < text.size() && static_cast<uint8_t>(text[ascii_end]) < 0x80) ++ascii_end;
    out.append(text.substr(i, ascii_end - i));
    i = ascii_end;
    if (i == text.size()) break;
    size_t length = sequence_length(text, i);
    if (length == 0) {
      uint8_t b = static_cast<uint8_t>(text[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
}

size_t count_code_points(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    size_t length = sequence_length(text, i);
    i += length == 0 ? 1 : length;
  }
  return count;
}

std::string_view truncate_code_points(std::string_view text, size_t limit) {
  size_t i = 0;
  for (size_t count = 0; count < limit && i < text.size(); ++count) {
    size_t length = sequence_length(text, i);
    i += length == 0 ? 1 : length;
  }
  return text.substr(0, i);
}

}  // namespace tornado::log::utf8
