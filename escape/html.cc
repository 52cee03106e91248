// xhtml_escape and a linear-time HTML5 character reference decoder for xhtml_unescape.
#include "escape/html.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "escape/html_entities.h"
#include "escape/unicode.h"

namespace tornado::escape {
namespace {


// HTML5's replacements for numeric references to C1 controls (Windows-1252); the
// entries equal to their index are controls that stay as they are.
constexpr char32_t kWindows1252[32] = {
    0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
    0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178,
};

// Code points a numeric reference may not produce; they are dropped (html.unescape).
bool is_dropped_code_point(uint64_t cp) {
  return (cp >= 0x1 && cp <= 0x8) || cp == 0xB || (cp >= 0xE && cp <= 0x1F) ||
         (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
         (cp & 0xFFFE) == 0xFFFE;
}

void append_numeric(std::string& out, uint64_t cp) {
  if (cp == 0) {
    out.append("\xEF\xBF\xBD");
  } else if (cp == 0x0D) {
    out.push_back('\r');
  } else if (cp >= 0x80 && cp <= 0x9F) {
    append_utf8(out, kWindows1252[cp - 0x80]);
  } else if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    out.append("\xEF\xBF\xBD");
  } else if (!is_dropped_code_point(cp)) {
    append_utf8(out, static_cast<char32_t>(cp));
  }
}

const internal::HtmlEntity* find_entity(std::string_view name) {
  const internal::HtmlEntity* begin = internal::kHtmlEntities;
  const internal::HtmlEntity* end = begin + internal::kHtmlEntityCount;
  const auto* it = std::lower_bound(begin, end, name, [](const internal::HtmlEntity& e,
                                                         std::string_view n) { return e.name < n; });
  return it != end && it->name == name ? it : nullptr;
}

// Tries a numeric reference at value[pos] == '#'. On success appends the character and
// returns the index after the reference.
std::optional<size_t> numeric_reference(std::string_view value, size_t pos, std::string& out) {
  size_t i = pos + 1;
  const bool hex = i < value.size() && (value[i] == 'x' || value[i] == 'X');
  if (hex) ++i;
  const size_t digits_start = i;
  uint64_t cp = 0;
  for (; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    int digit;
    if (absl::ascii_isdigit(c)) {
      digit = c - '0';
    } else if (hex && absl::ascii_isxdigit(c)) {
      digit = absl::ascii_tolower(c) - 'a' + 10;
    } else {
      break;
    }
    // Saturates: every value above 0x10FFFF means the same (U+FFFD).
    cp = std::min<uint64_t>(cp * (hex ? 16 : 10) + digit, 0x110000);
  }
  if (i == digits_start) return std::nullopt;
  if (i < value.size() && value[i] == ';') ++i;
  append_numeric(out, cp);
  return i;
}

bool ends_name(char c) {
  return c == '\t' || c == '\n' || c == '\f' || c == ' ' || c == '<' || c == '&' ||
         c == '#' || c == ';';
}

// A named reference at value[pos] (just after '&'): up to 32 code points that do not
// end a name, plus an optional ';'. Appends its replacement (or the text unchanged)
// and returns the index after it; nullopt when no name starts here.
std::optional<size_t> named_reference(std::string_view value, size_t pos, std::string& out) {
  size_t i = pos, code_points = 0, ascii_prefix = 0;
  bool all_ascii = true;
  while (i < value.size() && code_points < 32 && !ends_name(value[i])) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) all_ascii = false;
    if (all_ascii) ++ascii_prefix;
    ++code_points;
    ++i;
    while (i < value.size() && (static_cast<unsigned char>(value[i]) & 0xC0) == 0x80) {
      ++i;  // continuation bytes belong to the same code point
      all_ascii = false;
    }
  }
  if (code_points == 0) return std::nullopt;
  if (i < value.size() && value[i] == ';') {
    ++i;
    ++code_points;
    if (all_ascii) ++ascii_prefix;
  }
  const std::string_view name = value.substr(pos, i - pos);
  if (const auto* e = find_entity(name)) {
    out.append(e->value);
    return i;
  }
  // The longest known prefix of at least two characters (only ASCII names exist).
  for (size_t x = std::min(code_points - 1, ascii_prefix); x >= 2; --x) {
    if (const auto* e = find_entity(name.substr(0, x))) {
      out.append(e->value);
      out.append(name.substr(x));
      return i;
    }
  }
  out.push_back('&');
  out.append(name);
  return i;
}

}  // namespace

std::string xhtml_escape(std::string_view value) {
  std::string out;
  out.reserve(value.size() + value.size() / 8);
  for (char c : value) {
    switch (c) {
      case '&': out.append("&amp;"); break;
      case '<': out.append("&lt;"); break;
      case '>': out.append("&gt;"); break;
      case '"': out.append("&quot;"); break;
      case '\'': out.append("&#x27;"); break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string xhtml_unescape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  size_t i = 0;
  while (i < value.size()) {
    const size_t amp = value.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(value.substr(i));
      break;
    }
    out.append(value.substr(i, amp - i));
    const size_t pos = amp + 1;
    std::optional<size_t> next;
    if (pos < value.size() && value[pos] == '#') {
      next = numeric_reference(value, pos, out);
    } else {
      next = named_reference(value, pos, out);
    }
    if (next) {
      i = *next;
    } else {
      out.push_back('&');  // not a reference: keep '&' and go on after it
      i = pos;
    }
  }
  return out;
}

}  // namespace tornado::escape
