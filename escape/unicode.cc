// UTF-8 encoding, validation and lossy decoding for tornado::escape.
#include "escape/unicode.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tornado::escape {

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace internal {

Utf8Step decode_utf8_step(std::string_view value, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(value[i]); };
  const unsigned char b0 = byte(pos);
  if (b0 < 0x80) return {b0, 1, true, nullptr};
  // Length and the allowed range of the second byte (Unicode Table 3-7).
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {0, 1, false, "invalid start byte"};
  }
  for (size_t k = 1; k < n; ++k) {
    if (pos + k >= value.size()) return {0, k, false, "unexpected end of data"};
    const unsigned char b = byte(pos + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) {
      return {0, k, false, "invalid continuation byte"};
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, n, true, nullptr};
}


bool is_python_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 ||
         cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

std::string_view strip_python_space(std::string_view value) {
  while (!value.empty()) {
    const Utf8Step step = decode_utf8_step(value, 0);
    if (!step.ok || !is_python_space(step.code_point)) break;
    value.remove_prefix(step.length);
  }
  while (!value.empty()) {
    // The last code point starts at most 3 continuation bytes back.
    size_t start = value.size() - 1;
    while (start > 0 && value.size() - start < 4 &&
           (static_cast<unsigned char>(value[start]) & 0xC0) == 0x80) {
      --start;
    }
    const Utf8Step step = decode_utf8_step(value, start);
    if (!step.ok || start + step.length != value.size() || !is_python_space(step.code_point)) break;
    value.remove_suffix(step.length);
  }
  return value;
}

}  // namespace internal

absl::StatusOr<std::string> utf8(std::u32string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const char32_t cp = value[i];
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "'utf-8' codec can't encode character U+%04X in position %d: %s",
          static_cast<uint32_t>(cp), i, cp > 0x10FFFF ? "not a code point" : "surrogates not allowed"));
    }
    append_utf8(out, cp);
  }
  return out;
}

absl::StatusOr<std::string> utf8(std::u16string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    char32_t cp = value[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < value.size() && value[i + 1] >= 0xDC00 &&
        value[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (value[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "'utf-8' codec can't encode character U+%04X in position %d: unpaired surrogate",
          static_cast<uint32_t>(cp), i));
    }
    append_utf8(out, cp);
  }
  return out;
}

absl::Status validate_utf8(std::string_view value) {
  for (size_t i = 0; i < value.size();) {
    if (static_cast<unsigned char>(value[i]) < 0x80) {
      ++i;
      continue;
    }
    const internal::Utf8Step step = internal::decode_utf8_step(value, i);
    if (!step.ok) {
      if (step.length == 1) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "'utf-8' codec can't decode byte 0x%02x in position %d: %s",
            static_cast<unsigned char>(value[i]), i, step.error));
      }
      return absl::InvalidArgumentError(
          absl::StrFormat("'utf-8' codec can't decode bytes in position %d-%d: %s", i,
                          i + step.length - 1, step.error));
    }
    i += step.length;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> to_unicode(std::string_view value) {
  if (absl::Status s = validate_utf8(value); !s.ok()) return s;
  return std::string(value);
}

std::string to_unicode_replace(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    const internal::Utf8Step step = internal::decode_utf8_step(value, i);
    if (step.ok) {
      out.append(value.substr(i, step.length));
    } else {
      out.append("\xEF\xBF\xBD");
    }
    i += step.length;
  }
  return out;
}

}  // namespace tornado::escape
