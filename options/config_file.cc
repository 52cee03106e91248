// Recursive-descent reader of the Python-literal subset of config files.
#include "options/config_file.h"

#include <cerrno>
#include <cstdlib>
#include <limits>

#include <absl/status/status.h>
#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "escape/unicode.h"

namespace tornado::options {
namespace {

constexpr int kMaxDepth = 100;

absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

bool is_ident_start(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool is_ident_char(char c) { return absl::ascii_isalnum(c) || c == '_'; }

class Parser {
 public:
  Parser(std::string_view text, std::string_view filename) : s_(text), file_(filename) {}

  absl::StatusOr<std::vector<ConfigAssignment>> run() {
    std::vector<ConfigAssignment> out;
    while (true) {
      skip_blank_lines();
      if (at_end()) break;
      int line = line_;
      if (!is_ident_start(peek())) return error("expected `name = value`");
      std::string name = identifier();
      skip_inline_space();
      if (peek() != '=' || peek(1) == '=') {
        return error(absl::StrCat("expected `=` after `", name, "`"));
      }
      ++pos_;
      skip_inline_space();
      PyValue value;
      if (absl::Status st = expression(value, 0); !st.ok()) return st;
      skip_inline_space();
      if (peek() == ';') {
        ++pos_;
        skip_inline_space();
      }
      if (peek() == '#') skip_comment();
      if (!at_end() && peek() != '\n' && peek() != '\r') {
        return error("unexpected text after the value");
      }
      out.push_back(ConfigAssignment{std::move(name), std::move(value), line});
    }
    return out;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
  }

  absl::Status error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(A(file_), ":", line_, ": ", A(what)));
  }

  void newline() {
    // At '\n', '\r' or "\r\n".
    if (peek() == '\r' && peek(1) == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  void skip_comment() {
    while (!at_end() && peek() != '\n' && peek() != '\r') ++pos_;
  }

  // Spaces, tabs, form feeds and backslash continuations on the current logical line.
  void skip_inline_space() {
    while (!at_end()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\f') {
        ++pos_;
      } else if (c == '\\' && (peek(1) == '\n' || peek(1) == '\r')) {
        ++pos_;
        newline();
      } else {
        break;
      }
    }
  }

  // Inside brackets newlines and comments are whitespace too.
  void skip_bracket_space() {
    while (!at_end()) {
      skip_inline_space();
      char c = peek();
      if (c == '\n' || c == '\r') {
        newline();
      } else if (c == '#') {
        skip_comment();
      } else {
        break;
      }
    }
  }

  void skip_blank_lines() {
    while (!at_end()) {
      skip_inline_space();
      char c = peek();
      if (c == '#') skip_comment();
      c = peek();
      if (c == '\n' || c == '\r') {
        newline();
      } else {
        break;
      }
    }
    // A UTF-8 BOM at the very start is allowed, as Python's reader allows it.
    if (pos_ == 0 && s_.substr(0, 3) == "\xEF\xBB\xBF") {
      pos_ = 3;
      skip_blank_lines();
    }
  }

  std::string identifier() {
    size_t start = pos_;
    while (!at_end() && is_ident_char(peek())) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  absl::Status expression(PyValue& out, int depth) {
    if (depth > kMaxDepth) return error("values nested too deeply");
    char c = peek();
    if (c == '+' || c == '-') {
      bool negative = c == '-';
      ++pos_;
      skip_inline_space();
      if (!absl::ascii_isdigit(peek()) && peek() != '.' && peek() != '+' && peek() != '-') {
        return error("unary +/- applies only to numbers");
      }
      if (absl::Status st = expression(out, depth + 1); !st.ok()) return st;
      if (auto* i = std::get_if<int64_t>(&out.v)) {
        if (negative) {
          if (*i == std::numeric_limits<int64_t>::min()) return error("integer too large");
          *i = -*i;
        }
      } else if (auto* d = std::get_if<double>(&out.v)) {
        if (negative) *d = -*d;
      } else {
        return error("unary +/- applies only to numbers");
      }
      return absl::OkStatus();
    }
    if (c == '[') return sequence(out, ']', depth);
    if (c == '(') return sequence(out, ')', depth);
    if (c == '{') return dict(out, depth);
    if (absl::ascii_isdigit(c) || (c == '.' && absl::ascii_isdigit(peek(1)))) return number(out);
    if (c == '"' || c == '\'' || is_string_prefix()) return strings(out);
    if (is_ident_start(c)) {
      int line = line_;
      std::string name = identifier();
      if (name == "True") {
        out.v = true;
      } else if (name == "False") {
        out.v = false;
      } else if (name == "None") {
        out.v = PyValue::None{};
      } else if (name == "__file__") {
        out.v = std::string(file_);
      } else {
        line_ = line;
        return error(absl::StrCat("unsupported expression `", name.substr(0, 64),
                                  "` (only literals and __file__ are allowed)"));
      }
      return absl::OkStatus();
    }
    if (at_end()) return error("unexpected end of file, expected a value");
    return error(absl::StrCat("unexpected character '", std::string(1, c), "', expected a value"));
  }

  bool is_string_prefix() const {
    size_t i = 0;
    while (i < 2 && absl::ascii_isalpha(peek(i))) ++i;
    if (i == 0 || (peek(i) != '"' && peek(i) != '\'')) return false;
    std::string p = absl::AsciiStrToLower(A(s_.substr(pos_, i)));
    return p == "r" || p == "u" || p == "b" || p == "br" || p == "rb";
  }

  // One or more adjacent string literals, concatenated as Python does.
  absl::Status strings(PyValue& out) {
    std::string acc;
    bool any = false;
    while (true) {
      char c = peek();
      if (!(c == '"' || c == '\'' || is_string_prefix())) break;
      if (absl::Status st = string_literal(acc); !st.ok()) return st;
      any = true;
      size_t save_pos = pos_;
      int save_line = line_;
      skip_inline_space();
      if (!(peek() == '"' || peek() == '\'' || is_string_prefix())) {
        pos_ = save_pos;
        line_ = save_line;
        break;
      }
    }
    if (!any) return error("expected a string");
    out.v = std::move(acc);
    return absl::OkStatus();
  }

  absl::Status string_literal(std::string& acc) {
    bool raw = false;
    while (absl::ascii_isalpha(peek())) {
      if (peek() == 'r' || peek() == 'R') raw = true;
      ++pos_;
    }
    char q = peek();
    bool triple = peek(1) == q && peek(2) == q;
    int start_line = line_;
    pos_ += triple ? 3 : 1;
    while (true) {
      if (at_end()) {
        line_ = start_line;
        return error("unterminated string");
      }
      char c = peek();
      if (c == q) {
        if (!triple) {
          ++pos_;
          return absl::OkStatus();
        }
        if (peek(1) == q && peek(2) == q) {
          pos_ += 3;
          return absl::OkStatus();
        }
        acc += c;
        ++pos_;
      } else if (c == '\n' || c == '\r') {
        if (!triple) return error("end of line inside a string");
        newline();
        acc += '\n';
      } else if (c == '\\') {
        if (absl::Status st = escape(acc, raw); !st.ok()) return st;
      } else {
        acc += c;
        ++pos_;
      }
    }
  }

  absl::Status escape(std::string& acc, bool raw) {
    ++pos_;  // the backslash
    char c = peek();
    if (at_end()) return error("unterminated string");
    if (c == '\n' || c == '\r') {
      if (raw) acc += "\\\n";
      newline();
      return absl::OkStatus();
    }
    if (raw) {
      acc += '\\';
      acc += c;
      ++pos_;
      return absl::OkStatus();
    }
    ++pos_;
    switch (c) {
      case '\\': acc += '\\'; return absl::OkStatus();
      case '\'': acc += '\''; return absl::OkStatus();
      case '"': acc += '"'; return absl::OkStatus();
      case 'a': acc += '\a'; return absl::OkStatus();
      case 'b': acc += '\b'; return absl::OkStatus();
      case 'f': acc += '\f'; return absl::OkStatus();
      case 'n': acc += '\n'; return absl::OkStatus();
      case 'r': acc += '\r'; return absl::OkStatus();
      case 't': acc += '\t'; return absl::OkStatus();
      case 'v': acc += '\v'; return absl::OkStatus();
      case 'x': case 'u': case 'U': {
        int n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 0; i < n; ++i) {
          char h = peek();
          if (!absl::ascii_isxdigit(h)) return error(absl::StrCat("truncated \\", std::string(1, c), " escape"));
          cp = cp * 16 + (absl::ascii_isdigit(h) ? h - '0' : absl::ascii_tolower(h) - 'a' + 10);
          ++pos_;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return error("invalid code point in escape");
        escape::append_utf8(acc, cp);
        return absl::OkStatus();
      }
      default:
        if (c >= '0' && c <= '7') {
          uint32_t cp = c - '0';
          for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i) {
            cp = cp * 8 + (peek() - '0');
            ++pos_;
          }
          escape::append_utf8(acc, cp);
          return absl::OkStatus();
        }
        if (c == 'N') return error("\\N{...} escapes are not supported");
        acc += '\\';  // Python keeps unknown escapes as written.
        --pos_;
        return absl::OkStatus();
    }
  }

  absl::Status number(PyValue& out) {
    size_t start = pos_;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X' || peek(1) == 'o' || peek(1) == 'O' ||
                          peek(1) == 'b' || peek(1) == 'B')) {
      char kind = absl::ascii_tolower(peek(1));
      int base = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
      pos_ += 2;
      std::string digits;
      while (absl::ascii_isalnum(peek()) || peek() == '_') {
        if (peek() != '_') digits += peek();
        ++pos_;
      }
      uint64_t v = 0;
      if (digits.empty()) return error("invalid number");
      for (char d : digits) {
        int dv = absl::ascii_isdigit(d) ? d - '0' : absl::ascii_tolower(d) - 'a' + 10;
        if (!absl::ascii_isxdigit(d) || dv >= base) return error("invalid number");
        if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - dv) / base) {
          return error("integer too large");
        }
        v = v * base + dv;
      }
      out.v = static_cast<int64_t>(v);
      return absl::OkStatus();
    }
    bool is_float = false;
    std::string text;
    auto digits = [&] {
      while (absl::ascii_isdigit(peek()) || (peek() == '_' && absl::ascii_isdigit(peek(1)))) {
        if (peek() != '_') text += peek();
        ++pos_;
      }
    };
    digits();
    if (peek() == '.') {
      is_float = true;
      text += '.';
      ++pos_;
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      is_float = true;
      text += 'e';
      ++pos_;
      if (peek() == '+' || peek() == '-') {
        text += peek();
        ++pos_;
      }
      if (!absl::ascii_isdigit(peek())) return error("invalid number");
      digits();
    }
    if (is_ident_char(peek())) return error("invalid number");
    if (is_float) {
      double d;
      if (!absl::SimpleAtod(text, &d)) return error("invalid number");
      out.v = d;
      return absl::OkStatus();
    }
    if (text.size() > 1 && text[0] == '0' && text.find_first_not_of('0') != std::string::npos) {
      pos_ = start;
      return error("leading zeros in a decimal integer");
    }
    int64_t i;
    if (!absl::SimpleAtoi(text, &i)) return error("integer too large");
    out.v = i;
    return absl::OkStatus();
  }

  // [a, b] or (a, b); a trailing comma is allowed; `(x)` is just x.
  absl::Status sequence(PyValue& out, char close, int depth) {
    ++pos_;
    PyValue::List items;
    bool saw_comma = false;
    while (true) {
      skip_bracket_space();
      if (peek() == close) {
        ++pos_;
        break;
      }
      if (at_end()) return error(absl::StrCat("missing `", std::string(1, close), "`"));
      PyValue item;
      if (absl::Status st = expression(item, depth + 1); !st.ok()) return st;
      items.push_back(std::move(item));
      skip_bracket_space();
      if (peek() == ',') {
        saw_comma = true;
        ++pos_;
      } else if (peek() != close) {
        return error(absl::StrCat("expected `,` or `", std::string(1, close), "`"));
      }
    }
    if (close == ')' && items.size() == 1 && !saw_comma) {
      out = std::move(items[0]);
    } else {
      out.v = std::move(items);
    }
    return absl::OkStatus();
  }

  absl::Status dict(PyValue& out, int depth) {
    ++pos_;
    PyValue::Dict items;
    while (true) {
      skip_bracket_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      if (at_end()) return error("missing `}`");
      PyValue key, value;
      if (absl::Status st = expression(key, depth + 1); !st.ok()) return st;
      if (std::holds_alternative<PyValue::List>(key.v) || std::holds_alternative<PyValue::Dict>(key.v)) {
        return error("a dict key must be a scalar");
      }
      skip_bracket_space();
      if (peek() != ':') return error("expected `:` in a dict");
      ++pos_;
      skip_bracket_space();
      if (absl::Status st = expression(value, depth + 1); !st.ok()) return st;
      items.emplace_back(std::move(key), std::move(value));
      skip_bracket_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        return error("expected `,` or `}`");
      }
    }
    out.v = std::move(items);
    return absl::OkStatus();
  }

  std::string_view s_;
  std::string_view file_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

absl::StatusOr<std::vector<ConfigAssignment>> parse_config_text(std::string_view text,
                                                                std::string_view filename) {
  return Parser(text, filename).run();
}

}  // namespace tornado::options
