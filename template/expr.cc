// The expression language: tokenizer, recursive-descent parser (depth-bounded) and
// evaluator with Python semantics over Value.
#include "template/expr.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "escape/escape.h"
#include "escape/unicode.h"

namespace tornado::template_ {

// ---------------------------------------------------------------- slots

int SlotTable::slot(std::string_view name) {
  auto it = index_.find(std::string(name));
  if (it != index_.end()) return it->second;
  const int i = static_cast<int>(names_.size());
  names_.emplace_back(name);
  index_.emplace(std::string(name), i);
  return i;
}

int SlotTable::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? -1 : it->second;
}

// ---------------------------------------------------------------- tokenizer

namespace {

bool is_name_start(char c) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (static_cast<unsigned char>(c) & 0x80);
}
bool is_name_char(char c) {
  return is_name_start(c) || absl::ascii_isdigit(static_cast<unsigned char>(c));
}

int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::vector<Token>> tokenize(std::string_view src) {
  std::vector<Token> out;
  size_t i = 0;
  const size_t n = src.size();
  auto err = [&](std::string_view what, size_t at) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " at column ", at + 1));
  };
  while (true) {
    while (i < n && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r'))
      ++i;
    Token t;
    t.pos = i;
    if (i >= n) {
      out.push_back(std::move(t));
      return out;
    }
    const char c = src[i];
    // String literal, with optional r/b/u prefix.
    size_t q = i;
    bool raw = false;
    while (q < n && q < i + 2 && (src[q] == 'r' || src[q] == 'R' || src[q] == 'b' ||
                                  src[q] == 'B' || src[q] == 'u' || src[q] == 'U')) {
      if (src[q] == 'r' || src[q] == 'R') raw = true;
      ++q;
    }
    if (q < n && (src[q] == '\'' || src[q] == '"') && (q == i || is_name_start(c))) {
      const char quote = src[q];
      size_t j = q + 1;
      std::string s;
      bool closed = false;
      while (j < n) {
        char d = src[j];
        if (d == quote) {
          closed = true;
          ++j;
          break;
        }
        if (d == '\n') break;
        if (d == '\\' && j + 1 < n) {
          char e = src[j + 1];
          if (raw) {
            s.push_back('\\');
            s.push_back(e);
            j += 2;
            continue;
          }
          j += 2;
          switch (e) {
            case 'n': s.push_back('\n'); break;
            case 't': s.push_back('\t'); break;
            case 'r': s.push_back('\r'); break;
            case '0': s.push_back('\0'); break;
            case '\\': s.push_back('\\'); break;
            case '\'': s.push_back('\''); break;
            case '"': s.push_back('"'); break;
            case '\n': break;
            case 'x':
            case 'u':
            case 'U': {
              const size_t len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
              if (j + len > n) return err("truncated escape", j);
              uint32_t cp = 0;
              for (size_t k = 0; k < len; ++k) {
                int h = hex_val(src[j + k]);
                if (h < 0) return err("bad escape", j);
                cp = cp * 16 + h;
              }
              if (cp > 0x10FFFF) return err("bad escape", j);
              escape::append_utf8(s, cp);
              j += len;
              break;
            }
            default:
              s.push_back('\\');
              s.push_back(e);
          }
          continue;
        }
        s.push_back(d);
        ++j;
      }
      if (!closed) return err("unterminated string", i);
      t.kind = Token::Kind::kString;
      t.text = std::move(s);
      out.push_back(std::move(t));
      i = j;
      continue;
    }
    if (is_name_start(c)) {
      size_t j = i;
      while (j < n && is_name_char(src[j])) ++j;
      t.kind = Token::Kind::kName;
      t.text = std::string(src.substr(i, j - i));
      out.push_back(std::move(t));
      i = j;
      continue;
    }
    if (absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < n && absl::ascii_isdigit(static_cast<unsigned char>(src[i + 1])))) {
      size_t j = i;
      bool is_float = false;
      if (c == '0' && j + 1 < n && (src[j + 1] == 'x' || src[j + 1] == 'X')) {
        j += 2;
        size_t start = j;
        while (j < n && hex_val(src[j]) >= 0) ++j;
        uint64_t v = 0;
        auto r = std::from_chars(src.data() + start, src.data() + j, v, 16);
        if (r.ec != std::errc() || v > static_cast<uint64_t>(INT64_MAX))
          return err("bad number", i);
        t.kind = Token::Kind::kNumber;
        t.number = Value(static_cast<int64_t>(v));
        out.push_back(std::move(t));
        i = j;
        continue;
      }
      while (j < n && (absl::ascii_isdigit(static_cast<unsigned char>(src[j])) || src[j] == '_'))
        ++j;
      if (j < n && src[j] == '.') {
        is_float = true;
        ++j;
        while (j < n && absl::ascii_isdigit(static_cast<unsigned char>(src[j]))) ++j;
      }
      if (j < n && (src[j] == 'e' || src[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (src[k] == '+' || src[k] == '-')) ++k;
        if (k < n && absl::ascii_isdigit(static_cast<unsigned char>(src[k]))) {
          is_float = true;
          j = k;
          while (j < n && absl::ascii_isdigit(static_cast<unsigned char>(src[j]))) ++j;
        }
      }
      std::string digits;
      for (size_t k = i; k < j; ++k)
        if (src[k] != '_') digits.push_back(src[k]);
      t.kind = Token::Kind::kNumber;
      if (is_float) {
        double d = 0;
        auto r = std::from_chars(digits.data(), digits.data() + digits.size(), d);
        if (r.ec != std::errc() && r.ec != std::errc::result_out_of_range)
          return err("bad number", i);
        t.number = Value(d);
      } else {
        int64_t v = 0;
        auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (r.ec != std::errc() || r.ptr != digits.data() + digits.size())
          return err("integer literal too large or malformed", i);
        t.number = Value(v);
      }
      out.push_back(std::move(t));
      i = j;
      continue;
    }
    static constexpr std::string_view kOps3[] = {"**=", "//="};
    static constexpr std::string_view kOps2[] = {"**", "//", "==", "!=", "<=", ">=",
                                                 "+=", "-=", "*=", "/=", "%="};
    std::string_view rest = src.substr(i);
    std::string_view op;
    for (auto o : kOps3)
      if (rest.substr(0, 3) == o) op = o;
    if (op.empty())
      for (auto o : kOps2)
        if (rest.substr(0, 2) == o) op = o;
    if (op.empty() && std::strchr("()[]{},:.+-*/%<>=", c) != nullptr && c != '\0')
      op = rest.substr(0, 1);
    if (op.empty()) return err(absl::StrCat("unexpected character '", std::string(1, c), "'"), i);
    t.kind = Token::Kind::kOp;
    t.text = std::string(op);
    out.push_back(std::move(t));
    i += op.size();
  }
}

// ---------------------------------------------------------------- parser

namespace {

std::unique_ptr<Expr> make(Expr::Op op) {
  auto e = std::make_unique<Expr>();
  e->op = op;
  return e;
}

std::unique_ptr<Expr> make2(Expr::Op op, std::unique_ptr<Expr> a, std::unique_ptr<Expr> b) {
  auto e = make(op);
  e->kids.push_back(std::move(a));
  e->kids.push_back(std::move(b));
  return e;
}

struct DepthGuard {
  int& d;
  explicit DepthGuard(int& depth) : d(depth) { ++d; }
  ~DepthGuard() { --d; }
};

}  // namespace

#define TRY_ASSIGN(lhs, expr)         \
  auto lhs##_or = (expr);             \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = std::move(*lhs##_or)

absl::Status ExprParser::error(std::string_view what) const {
  const Token& t = toks_[pos_];
  std::string near = t.kind == Token::Kind::kEnd ? "end of expression"
                     : t.kind == Token::Kind::kString ? "string literal"
                     : t.kind == Token::Kind::kNumber ? "number"
                                                      : absl::StrCat("'", t.text, "'");
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(what), " at column ", t.pos + 1, " (near ", near, ")"));
}

bool ExprParser::accept_op(std::string_view op) {
  if (toks_[pos_].kind == Token::Kind::kOp && toks_[pos_].text == op) {
    ++pos_;
    return true;
  }
  return false;
}

bool ExprParser::accept_name(std::string_view name) {
  if (toks_[pos_].kind == Token::Kind::kName && toks_[pos_].text == name) {
    ++pos_;
    return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Expr>> ExprParser::parse_expression(bool allow_tuple) {
  TRY_ASSIGN(first, ternary());
  if (!allow_tuple || !(peek().kind == Token::Kind::kOp && peek().text == ",")) return first;
  auto list = make(Expr::Op::kList);
  list->kids.push_back(std::move(first));
  while (accept_op(",")) {
    const Token& t = peek();
    if (t.kind == Token::Kind::kEnd || (t.kind == Token::Kind::kOp && t.text == "=")) break;
    TRY_ASSIGN(next, ternary());
    list->kids.push_back(std::move(next));
  }
  return list;
}

absl::StatusOr<std::vector<int>> ExprParser::parse_targets() {
  std::vector<int> out;
  const bool paren = accept_op("(");
  while (true) {
    const Token& t = peek();
    if (t.kind != Token::Kind::kName) return error("expected a variable name");
    static const char* kReserved[] = {"in", "not", "and", "or", "if", "else", "True",
                                      "False", "None", "is"};
    for (const char* r : kReserved)
      if (t.text == r) return error("expected a variable name");
    out.push_back(slots_.slot(t.text));
    ++pos_;
    if (!accept_op(",")) break;
    if (peek().kind != Token::Kind::kName) break;
  }
  if (paren && !accept_op(")")) return error("expected ')'");
  return out;
}

ExprParser::P ExprParser::ternary() {
  DepthGuard g(depth_);
  if (depth_ > kMaxExprDepth) return error("expression nested too deeply");
  TRY_ASSIGN(a, or_expr());
  if (!accept_name("if")) return a;
  TRY_ASSIGN(cond, or_expr());
  if (!accept_name("else")) return error("expected 'else'");
  TRY_ASSIGN(b, ternary());
  auto e = make(Expr::Op::kIfElse);
  e->kids.push_back(std::move(cond));
  e->kids.push_back(std::move(a));
  e->kids.push_back(std::move(b));
  return e;
}

ExprParser::P ExprParser::or_expr() {
  TRY_ASSIGN(a, and_expr());
  while (accept_name("or")) {
    TRY_ASSIGN(b, and_expr());
    a = make2(Expr::Op::kOr, std::move(a), std::move(b));
  }
  return a;
}

ExprParser::P ExprParser::and_expr() {
  TRY_ASSIGN(a, not_expr());
  while (accept_name("and")) {
    TRY_ASSIGN(b, not_expr());
    a = make2(Expr::Op::kAnd, std::move(a), std::move(b));
  }
  return a;
}

ExprParser::P ExprParser::not_expr() {
  if (accept_name("not")) {
    DepthGuard g(depth_);
    if (depth_ > kMaxExprDepth) return error("expression nested too deeply");
    TRY_ASSIGN(a, not_expr());
    auto e = make(Expr::Op::kNot);
    e->kids.push_back(std::move(a));
    return e;
  }
  return comparison();
}

ExprParser::P ExprParser::comparison() {
  TRY_ASSIGN(a, arith());
  std::unique_ptr<Expr> cmp;
  while (true) {
    Expr::Cmp c;
    const Token& t = peek();
    if (t.kind == Token::Kind::kOp && t.text == "<") c = Expr::Cmp::kLt;
    else if (t.kind == Token::Kind::kOp && t.text == "<=") c = Expr::Cmp::kLe;
    else if (t.kind == Token::Kind::kOp && t.text == ">") c = Expr::Cmp::kGt;
    else if (t.kind == Token::Kind::kOp && t.text == ">=") c = Expr::Cmp::kGe;
    else if (t.kind == Token::Kind::kOp && t.text == "==") c = Expr::Cmp::kEq;
    else if (t.kind == Token::Kind::kOp && t.text == "!=") c = Expr::Cmp::kNe;
    else if (t.kind == Token::Kind::kName && t.text == "in") c = Expr::Cmp::kIn;
    else if (t.kind == Token::Kind::kName && t.text == "not" && peek(1).kind == Token::Kind::kName &&
             peek(1).text == "in") {
      c = Expr::Cmp::kNotIn;
      ++pos_;
    } else if (t.kind == Token::Kind::kName && t.text == "is") {
      c = Expr::Cmp::kIs;
      if (peek(1).kind == Token::Kind::kName && peek(1).text == "not") {
        c = Expr::Cmp::kIsNot;
        ++pos_;
      }
    } else {
      break;
    }
    ++pos_;
    TRY_ASSIGN(b, arith());
    if (!cmp) {
      cmp = make(Expr::Op::kCompare);
      cmp->kids.push_back(std::move(a));
    }
    cmp->kids.push_back(std::move(b));
    cmp->cmps.push_back(c);
  }
  if (cmp) return cmp;
  return a;
}

ExprParser::P ExprParser::arith() {
  TRY_ASSIGN(a, term());
  while (true) {
    Expr::Op op;
    if (accept_op("+")) op = Expr::Op::kAdd;
    else if (accept_op("-")) op = Expr::Op::kSub;
    else break;
    TRY_ASSIGN(b, term());
    a = make2(op, std::move(a), std::move(b));
  }
  return a;
}

ExprParser::P ExprParser::term() {
  TRY_ASSIGN(a, factor());
  while (true) {
    Expr::Op op;
    if (accept_op("*")) op = Expr::Op::kMul;
    else if (accept_op("/")) op = Expr::Op::kDiv;
    else if (accept_op("//")) op = Expr::Op::kFloorDiv;
    else if (accept_op("%")) op = Expr::Op::kMod;
    else break;
    TRY_ASSIGN(b, factor());
    a = make2(op, std::move(a), std::move(b));
  }
  return a;
}

ExprParser::P ExprParser::factor() {
  Expr::Op op;
  if (accept_op("-")) op = Expr::Op::kNeg;
  else if (accept_op("+")) op = Expr::Op::kPos;
  else return power();
  DepthGuard g(depth_);
  if (depth_ > kMaxExprDepth) return error("expression nested too deeply");
  TRY_ASSIGN(a, factor());
  auto e = make(op);
  e->kids.push_back(std::move(a));
  return e;
}

ExprParser::P ExprParser::power() {
  TRY_ASSIGN(a, postfix());
  if (!accept_op("**")) return a;
  TRY_ASSIGN(b, factor());
  return make2(Expr::Op::kPow, std::move(a), std::move(b));
}

absl::Status ExprParser::call_args(Expr& call) {
  // After '('.
  while (!accept_op(")")) {
    if (peek().kind == Token::Kind::kName && peek(1).kind == Token::Kind::kOp &&
        peek(1).text == "=") {
      call.kwnames.push_back(peek().text);
      pos_ += 2;
      TRY_ASSIGN(v, ternary());
      call.kids.push_back(std::move(v));
    } else {
      if (!call.kwnames.empty()) return error("positional argument follows keyword argument");
      TRY_ASSIGN(v, ternary());
      call.kids.push_back(std::move(v));
    }
    if (accept_op(")")) break;
    if (!accept_op(",")) return error("expected ',' or ')'");
  }
  return absl::OkStatus();
}

ExprParser::P ExprParser::postfix() {
  TRY_ASSIGN(a, atom());
  while (true) {
    if (accept_op(".")) {
      if (peek().kind != Token::Kind::kName) return error("expected attribute name");
      std::string name = peek().text;
      ++pos_;
      if (accept_op("(")) {
        auto m = make(Expr::Op::kMethod);
        m->name = std::move(name);
        m->kids.push_back(std::move(a));
        if (auto s = call_args(*m); !s.ok()) return s;
        a = std::move(m);
      } else {
        auto e = make(Expr::Op::kAttr);
        e->name = std::move(name);
        e->kids.push_back(std::move(a));
        a = std::move(e);
      }
    } else if (accept_op("(")) {
      auto c = make(Expr::Op::kCall);
      c->kids.push_back(std::move(a));
      if (auto s = call_args(*c); !s.ok()) return s;
      a = std::move(c);
    } else if (accept_op("[")) {
      std::unique_ptr<Expr> parts[3];
      bool present[3] = {false, false, false};
      int colons = 0;
      for (int k = 0; k < 3; ++k) {
        const Token& t = peek();
        const bool stop = t.kind == Token::Kind::kOp && (t.text == ":" || t.text == "]");
        if (!stop) {
          TRY_ASSIGN(v, parse_expression(true));
          parts[k] = std::move(v);
          present[k] = true;
        }
        if (k < 2 && accept_op(":")) {
          ++colons;
          continue;
        }
        break;
      }
      if (!accept_op("]")) return error("expected ']'");
      if (colons == 0) {
        if (!present[0]) return error("empty subscript");
        a = make2(Expr::Op::kIndex, std::move(a), std::move(parts[0]));
      } else {
        auto s = make(Expr::Op::kSlice);
        s->kids.push_back(std::move(a));
        for (int k = 0; k < 3; ++k) {
          s->has_slice_part[k] = present[k];
          s->kids.push_back(present[k] ? std::move(parts[k]) : make(Expr::Op::kConst));
        }
        a = std::move(s);
      }
    } else {
      return a;
    }
  }
}

ExprParser::P ExprParser::atom() {
  const Token& t = peek();
  switch (t.kind) {
    case Token::Kind::kEnd:
      return error("unexpected end of expression");
    case Token::Kind::kNumber: {
      auto e = make(Expr::Op::kConst);
      e->constant = t.number;
      ++pos_;
      return e;
    }
    case Token::Kind::kString: {
      std::string s;
      while (peek().kind == Token::Kind::kString) {  // adjacent literals concatenate
        s += peek().text;
        ++pos_;
      }
      auto e = make(Expr::Op::kConst);
      e->constant = Value(std::move(s));
      return e;
    }
    case Token::Kind::kName: {
      auto e = make(Expr::Op::kConst);
      if (t.text == "True") e->constant = Value(true);
      else if (t.text == "False") e->constant = Value(false);
      else if (t.text == "None") e->constant = Value();
      else {
        static const char* kKeywords[] = {"and", "or", "not", "in", "is", "if", "else",
                                          "for", "lambda", "import", "from", "def", "class",
                                          "return", "yield", "while", "del", "pass"};
        for (const char* k : kKeywords)
          if (t.text == k) return error("unexpected keyword");
        e->op = Expr::Op::kName;
        e->slot = slots_.slot(t.text);
      }
      ++pos_;
      return e;
    }
    case Token::Kind::kOp:
      break;
  }
  if (accept_op("(")) {
    if (accept_op(")")) return make(Expr::Op::kList);  // () is an empty tuple
    TRY_ASSIGN(inner, ternary());
    if (accept_op(")")) return inner;
    if (!accept_op(",")) return error("expected ')'");
    auto list = make(Expr::Op::kList);
    list->kids.push_back(std::move(inner));
    while (!accept_op(")")) {
      TRY_ASSIGN(v, ternary());
      list->kids.push_back(std::move(v));
      if (accept_op(")")) break;
      if (!accept_op(",")) return error("expected ',' or ')'");
    }
    return list;
  }
  if (accept_op("[")) {
    auto list = make(Expr::Op::kList);
    while (!accept_op("]")) {
      TRY_ASSIGN(v, ternary());
      list->kids.push_back(std::move(v));
      if (accept_op("]")) break;
      if (!accept_op(",")) return error("expected ',' or ']'");
    }
    return list;
  }
  if (accept_op("{")) {
    auto dict = make(Expr::Op::kDict);
    while (!accept_op("}")) {
      TRY_ASSIGN(k, ternary());
      if (!accept_op(":")) return error("expected ':'");
      TRY_ASSIGN(v, ternary());
      dict->kids.push_back(std::move(k));
      dict->kids.push_back(std::move(v));
      if (accept_op("}")) break;
      if (!accept_op(",")) return error("expected ',' or '}'");
    }
    return dict;
  }
  return error("unexpected token");
}

absl::StatusOr<std::unique_ptr<Expr>> parse_expression(std::string_view src, SlotTable& slots) {
  TRY_ASSIGN(toks, tokenize(src));
  ExprParser p(std::move(toks), slots);
  TRY_ASSIGN(e, p.parse_expression(true));
  if (!p.at_end()) return p.error("unexpected token after expression");
  return e;
}

// ---------------------------------------------------------------- evaluation helpers

namespace {

// Size limits so a template can't ask for unbounded memory in one operation.
constexpr int64_t kMaxSequence = 10'000'000;

[[noreturn]] void raise(std::string kind, std::string msg) {
  throw TemplateError(std::move(kind), std::move(msg));
}

bool is_int(const json& j) { return j.is_number_integer() || j.is_boolean(); }
bool is_num(const json& j) { return j.is_number() || j.is_boolean(); }

int64_t as_int(const json& j) {
  if (j.is_boolean()) return j.get<bool>() ? 1 : 0;
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) raise("OverflowError", "integer too large");
    return static_cast<int64_t>(u);
  }
  return j.get<int64_t>();
}

double as_double(const json& j) {
  if (j.is_boolean()) return j.get<bool>() ? 1.0 : 0.0;
  return j.get<double>();
}

const json& J(const Value& v) {
  if (!v.is_json()) raise("TypeError", absl::StrCat("unsupported operand type: ", v.type_name()));
  return v.data();
}

int64_t need_int(const Value& v, std::string_view what) {
  const json& j = J(v);
  if (!is_int(j))
    raise("TypeError", absl::StrCat(std::string(what), " must be an integer, not ", v.type_name()));
  return as_int(j);
}

const std::string& need_str(const Value& v, std::string_view what) {
  if (!v.is_string())
    raise("TypeError", absl::StrCat(std::string(what), " must be str, not ", v.type_name()));
  return v.data().get_ref<const std::string&>();
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// Byte offsets of each code point of a UTF-8 string (plus the end).
std::vector<size_t> char_offsets(std::string_view s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  out.push_back(s.size());
  return out;
}

int64_t str_len(std::string_view s) {
  if (is_ascii(s)) return static_cast<int64_t>(s.size());
  return static_cast<int64_t>(char_offsets(s).size()) - 1;
}

Value int_result(__int128 r) {
  if (r > INT64_MAX || r < INT64_MIN) raise("OverflowError", "integer result too large");
  return Value(static_cast<int64_t>(r));
}

int compare3(const Value& a, const Value& b);

bool equal(const Value& a, const Value& b) {
  if (!a.is_json() || !b.is_json()) {
    if (a.is_function() && b.is_function()) return &a.func() == &b.func();
    if (a.is_object() && b.is_object()) return &a.object() == &b.object();
    return false;
  }
  const json& x = a.data();
  const json& y = b.data();
  if (is_num(x) && is_num(y)) {
    if (is_int(x) && is_int(y)) return as_int(x) == as_int(y);
    return as_double(x) == as_double(y);
  }
  return x == y;
}

int compare_json(const json& x, const json& y) {
  if (is_num(x) && is_num(y)) {
    if (is_int(x) && is_int(y)) {
      int64_t a = as_int(x), b = as_int(y);
      return a < b ? -1 : a > b ? 1 : 0;
    }
    double a = as_double(x), b = as_double(y);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (x.is_string() && y.is_string()) {
    int c = x.get_ref<const std::string&>().compare(y.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (x.is_array() && y.is_array()) {
    const size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; ++i) {
      int c = compare_json(x[i], y[i]);
      if (c != 0) return c;
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  raise("TypeError", "'<' not supported between these types");
}

int compare3(const Value& a, const Value& b) { return compare_json(J(a), J(b)); }

bool contains(const Value& container, const Value& item) {
  const json& c = J(container);
  if (c.is_string()) {
    return c.get_ref<const std::string&>().find(need_str(item, "'in <string>' left operand")) !=
           std::string::npos;
  }
  if (c.is_array()) {
    for (const json& e : c)
      if (equal(container.child(e), item)) return true;
    return false;
  }
  if (c.is_object()) {
    if (!item.is_string()) return false;
    return c.contains(item.data().get_ref<const std::string&>());
  }
  raise("TypeError", absl::StrCat("argument of type '", container.type_name(),
                                  "' is not iterable"));
}

int64_t norm_index(int64_t i, int64_t n) {
  if (i < 0) i += n;
  if (i < 0 || i >= n) raise("IndexError", "index out of range");
  return i;
}

Value index(const Value& base, const Value& key) {
  if (base.is_object()) {
    if (!key.is_string()) raise("TypeError", "object subscript must be a string");
    auto v = base.object().getattr(key.data().get_ref<const std::string&>());
    if (!v) raise("KeyError", key.repr());
    return *v;
  }
  const json& b = J(base);
  if (b.is_array()) {
    const int64_t i = norm_index(need_int(key, "list index"), static_cast<int64_t>(b.size()));
    return base.child(b[static_cast<size_t>(i)]);
  }
  if (b.is_object()) {
    if (!key.is_string()) raise("KeyError", key.repr());
    auto it = b.find(key.data().get_ref<const std::string&>());
    if (it == b.end()) raise("KeyError", key.repr());
    return base.child(*it);
  }
  if (b.is_string()) {
    const std::string& s = b.get_ref<const std::string&>();
    if (is_ascii(s)) {
      int64_t i = norm_index(need_int(key, "string index"), static_cast<int64_t>(s.size()));
      return Value(std::string(1, s[static_cast<size_t>(i)]));
    }
    auto offs = char_offsets(s);
    int64_t i = norm_index(need_int(key, "string index"), static_cast<int64_t>(offs.size()) - 1);
    return Value(s.substr(offs[i], offs[i + 1] - offs[i]));
  }
  raise("TypeError", absl::StrCat("'", base.type_name(), "' object is not subscriptable"));
}

void slice_bounds(int64_t n, const Value* lo, const Value* hi, const Value* st, int64_t& start,
                  int64_t& stop, int64_t& step) {
  step = st && !st->is_none() ? need_int(*st, "slice step") : 1;
  if (step == 0) raise("ValueError", "slice step cannot be zero");
  auto clamp = [&](const Value* v, int64_t dflt) -> int64_t {
    if (!v || v->is_none()) return dflt;
    int64_t i = need_int(*v, "slice index");
    if (i < 0) i += n;
    if (step > 0) return std::clamp<int64_t>(i, 0, n);
    return std::clamp<int64_t>(i, -1, n - 1);
  };
  start = clamp(lo, step > 0 ? 0 : n - 1);
  stop = clamp(hi, step > 0 ? n : -1);
}

Value slice(const Value& base, const Value* lo, const Value* hi, const Value* st) {
  const json& b = J(base);
  int64_t start, stop, step;
  if (b.is_array()) {
    slice_bounds(static_cast<int64_t>(b.size()), lo, hi, st, start, stop, step);
    json out = json::array();
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(b[i]);
    return Value(std::move(out));
  }
  if (b.is_string()) {
    const std::string& s = b.get_ref<const std::string&>();
    std::string out;
    if (is_ascii(s)) {
      slice_bounds(static_cast<int64_t>(s.size()), lo, hi, st, start, stop, step);
      if (step == 1) return Value(start < stop ? s.substr(start, stop - start) : std::string());
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(s[i]);
      return Value(std::move(out));
    }
    auto offs = char_offsets(s);
    slice_bounds(static_cast<int64_t>(offs.size()) - 1, lo, hi, st, start, stop, step);
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
      out.append(s, offs[i], offs[i + 1] - offs[i]);
    return Value(std::move(out));
  }
  raise("TypeError", absl::StrCat("'", base.type_name(), "' object is not subscriptable"));
}

Value repeat(const json& seq, int64_t times) {
  if (times <= 0) return seq.is_string() ? Value(std::string()) : Value(json::array());
  const int64_t unit = seq.is_string() ? static_cast<int64_t>(seq.get_ref<const std::string&>().size())
                                       : static_cast<int64_t>(seq.size());
  if (unit != 0 && times > kMaxSequence / unit)
    raise("MemoryError", "repetition result too large");
  if (seq.is_string()) {
    std::string out;
    const std::string& s = seq.get_ref<const std::string&>();
    out.reserve(s.size() * times);
    for (int64_t i = 0; i < times; ++i) out += s;
    return Value(std::move(out));
  }
  json out = json::array();
  for (int64_t i = 0; i < times; ++i)
    for (const json& e : seq) out.push_back(e);
  return Value(std::move(out));
}

void format_percent_to(std::string& out, const std::string& fmt, const Value& args);

Value format_percent(const std::string& fmt, const Value& args) {
  std::string out;
  format_percent_to(out, fmt, args);
  return Value(std::move(out));
}

// + - * // % on two ints, Python semantics (floor division and modulo, OverflowError).
Value int_arith(Expr::Op op, int64_t a, int64_t b) {
  const __int128 p = a, q = b;
  switch (op) {
    case Expr::Op::kAdd: return int_result(p + q);
    case Expr::Op::kSub: return int_result(p - q);
    case Expr::Op::kMul: return int_result(p * q);
    case Expr::Op::kFloorDiv: {
      if (q == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
      __int128 d = p / q;
      if ((p % q != 0) && ((p < 0) != (q < 0))) --d;
      return int_result(d);
    }
    case Expr::Op::kMod: {
      if (q == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
      __int128 m = p % q;
      if (m != 0 && ((m < 0) != (q < 0))) m += q;
      return int_result(m);
    }
    default:
      raise("TypeError", "unsupported int operation");
  }
}

Value arith(Expr::Op op, const Value& a, const Value& b) {
  const json& x = J(a);
  const json& y = J(b);
  if (is_num(x) && is_num(y)) {
    const bool ints = is_int(x) && is_int(y);
    if (ints && op != Expr::Op::kDiv && op != Expr::Op::kPow) return int_arith(op, as_int(x), as_int(y));
    if (ints) {
      const __int128 p = as_int(x), q = as_int(y);
      switch (op) {
        case Expr::Op::kDiv:
          if (q == 0) raise("ZeroDivisionError", "division by zero");
          return Value(static_cast<double>(p) / static_cast<double>(q));
        case Expr::Op::kPow: {
          if (q < 0) return Value(std::pow(static_cast<double>(p), static_cast<double>(q)));
          __int128 r = 1, base = p;
          int64_t e = static_cast<int64_t>(q);
          while (e > 0) {
            if (e & 1) {
              r *= base;
              if (r > INT64_MAX || r < INT64_MIN) raise("OverflowError", "integer result too large");
            }
            e >>= 1;
            if (e > 0) {
              base *= base;
              if (base > INT64_MAX || base < INT64_MIN)
                raise("OverflowError", "integer result too large");
            }
          }
          return int_result(r);
        }
        default: break;
      }
    }
    const double p = as_double(x), q = as_double(y);
    switch (op) {
      case Expr::Op::kAdd: return Value(p + q);
      case Expr::Op::kSub: return Value(p - q);
      case Expr::Op::kMul: return Value(p * q);
      case Expr::Op::kDiv:
        if (q == 0) raise("ZeroDivisionError", "float division by zero");
        return Value(p / q);
      case Expr::Op::kFloorDiv:
        if (q == 0) raise("ZeroDivisionError", "float floor division by zero");
        return Value(std::floor(p / q));
      case Expr::Op::kMod: {
        if (q == 0) raise("ZeroDivisionError", "float modulo");
        double m = std::fmod(p, q);
        if (m != 0 && ((m < 0) != (q < 0))) m += q;
        return Value(m);
      }
      case Expr::Op::kPow: return Value(std::pow(p, q));
      default: break;
    }
  }
  if (op == Expr::Op::kAdd) {
    if (x.is_string() && y.is_string())
      return Value(x.get_ref<const std::string&>() + y.get_ref<const std::string&>());
    if (x.is_array() && y.is_array()) {
      json out = x;
      for (const json& e : y) out.push_back(e);
      return Value(std::move(out));
    }
  }
  if (op == Expr::Op::kMul) {
    if ((x.is_string() || x.is_array()) && is_int(y)) return repeat(x, as_int(y));
    if ((y.is_string() || y.is_array()) && is_int(x)) return repeat(y, as_int(x));
  }
  if (op == Expr::Op::kMod && x.is_string()) return format_percent(x.get_ref<const std::string&>(), b);
  raise("TypeError", absl::StrCat("unsupported operand type(s): '", a.type_name(), "' and '",
                                  b.type_name(), "'"));
}

// Python's printf-style formatting: %s %r %d %i %f %e %g %x %o %c %%, flags -+0 space,
// width, precision, and %(name)s with a dict.
// Appends the result to `out`, so {{ '%.2f' % x }} formats without a temporary Value.
void format_percent_to(std::string& out, const std::string& fmt, const Value& args) {
  const json& a = J(args);
  const bool tuple = a.is_array();
  size_t next = 0;
  auto take = [&](std::optional<std::string> key) -> Value {
    if (key) {
      if (!a.is_object()) raise("TypeError", "format requires a mapping");
      auto it = a.find(*key);
      if (it == a.end()) raise("KeyError", absl::StrCat("'", *key, "'"));
      return args.child(*it);
    }
    if (!tuple) {
      if (next++ > 0) raise("TypeError", "not enough arguments for format string");
      return args;
    }
    if (next >= a.size()) raise("TypeError", "not enough arguments for format string");
    return args.child(a[next++]);
  };
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (++i >= fmt.size()) raise("ValueError", "incomplete format");
    if (fmt[i] == '%') {
      out.push_back('%');
      continue;
    }
    std::optional<std::string> key;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos) raise("ValueError", "incomplete format key");
      key = fmt.substr(i + 1, close - i - 1);
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::strchr("-+ 0#", fmt[i]) && fmt[i] != '\0') flags.push_back(fmt[i++]);
    int width = 0, prec = -1;
    while (i < fmt.size() && absl::ascii_isdigit(static_cast<unsigned char>(fmt[i])))
      width = std::min(width * 10 + (fmt[i++] - '0'), 10000);
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      prec = 0;
      while (i < fmt.size() && absl::ascii_isdigit(static_cast<unsigned char>(fmt[i])))
        prec = std::min(prec * 10 + (fmt[i++] - '0'), 1000);
    }
    if (i >= fmt.size()) raise("ValueError", "incomplete format");
    const char conv = fmt[i];
    Value v = take(key);
    std::string body;
    const bool left = flags.find('-') != std::string::npos;
    bool zero = flags.find('0') != std::string::npos && !left;
    switch (conv) {
      case 's':
        body = v.str();
        if (prec >= 0 && static_cast<size_t>(prec) < body.size()) body.resize(prec);
        zero = false;
        break;
      case 'r':
        body = v.repr();
        zero = false;
        break;
      case 'd':
      case 'i':
      case 'x':
      case 'X':
      case 'o':
      case 'c': {
        const json& j = J(v);
        if (!is_num(j)) raise("TypeError", absl::StrCat("%", std::string(1, conv), " format: a number is required, not ", v.type_name()));
        int64_t n = is_int(j) ? as_int(j) : static_cast<int64_t>(as_double(j));
        if (conv == 'c') {
          escape::append_utf8(body, static_cast<uint32_t>(std::clamp<int64_t>(n, 0, 0x10FFFF)));
          zero = false;
          break;
        }
        const bool neg = n < 0;
        uint64_t u = neg ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
        char buf[32];
        int base = conv == 'x' || conv == 'X' ? 16 : conv == 'o' ? 8 : 10;
        auto r = std::to_chars(buf, buf + sizeof buf, u, base);
        std::string digits(buf, r.ptr);
        if (conv == 'X') digits = absl::AsciiStrToUpper(digits);
        if (neg) body = "-";
        else if (flags.find('+') != std::string::npos) body = "+";
        else if (flags.find(' ') != std::string::npos) body = " ";
        if (zero && static_cast<int>(body.size() + digits.size()) < width)
          body.append(width - body.size() - digits.size(), '0');
        body += digits;
        zero = false;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        const json& j = J(v);
        if (!is_num(j)) raise("TypeError", absl::StrCat("must be real number, not ", v.type_name()));
        const double d = as_double(j);
        if ((conv == 'f' || conv == 'F') && flags.empty() && width == 0 && std::isfinite(d)) {
          char fb[400];
          auto r = std::to_chars(fb, fb + sizeof fb, d, std::chars_format::fixed, prec < 0 ? 6 : prec);
          if (r.ec == std::errc()) {
            out.append(fb, r.ptr);
            continue;
          }
        }
        std::string spec = "%";
        spec += flags;
        if (width > 0) spec += std::to_string(width);
        spec += "." + std::to_string(prec < 0 ? 6 : prec);
        spec.push_back(conv);
        char buf[1200];
        std::snprintf(buf, sizeof buf, spec.c_str(), as_double(j));
        body = buf;
        zero = false;
        width = 0;
        break;
      }
      default:
        raise("ValueError", absl::StrCat("unsupported format character '", std::string(1, conv), "'"));
    }
    if (static_cast<int>(body.size()) < width) {
      std::string pad(width - body.size(), ' ');
      body = left ? body + pad : pad + body;
    }
    out += body;
  }
  if (tuple && next < a.size()) raise("TypeError", "not all arguments converted during string formatting");
}

}  // namespace

void append_xhtml_escaped(std::string& out, std::string_view s) {
  // A table test per byte is cheaper than a switch; plain runs are appended whole.
  static constexpr auto kSpecial = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : std::string_view("&<>\"'")) t[c] = true;
    return t;
  }();
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* run = p;
  for (; p != end; ++p) {
    if (!kSpecial[static_cast<unsigned char>(*p)]) continue;
    out.append(run, static_cast<size_t>(p - run));
    switch (*p) {
      case '&': out.append("&amp;", 5); break;
      case '<': out.append("&lt;", 4); break;
      case '>': out.append("&gt;", 4); break;
      case '"': out.append("&quot;", 6); break;
      default: out.append("&#x27;", 6); break;
    }
    run = p + 1;
  }
  out.append(run, static_cast<size_t>(end - run));
}

void iterate(const Value& v, const std::function<bool(Value)>& fn) {
  if (v.is_object()) raise("TypeError", "'object' object is not iterable");
  const json& j = J(v);
  if (j.is_array()) {
    for (const json& e : j)
      if (!fn(v.child(e))) return;
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!fn(Value(it.key()))) return;
  } else if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    auto offs = char_offsets(s);
    for (size_t i = 0; i + 1 < offs.size(); ++i)
      if (!fn(Value(s.substr(offs[i], offs[i + 1] - offs[i])))) return;
  } else {
    raise("TypeError", absl::StrCat("'", v.type_name(), "' object is not iterable"));
  }
}

Value call_value(const Value& fn, const CallArgs& args) {
  if (!fn.is_function())
    raise("TypeError", absl::StrCat("'", fn.type_name(), "' object is not callable"));
  return fn.func()(args);
}

namespace {

json to_list(const Value& v) {
  json out = json::array();
  iterate(v, [&](Value e) {
    out.push_back(e.data());
    return true;
  });
  return out;
}

void want_args(const CallArgs& a, size_t lo, size_t hi, std::string_view name) {
  if (a.args.size() < lo || a.args.size() > hi)
    raise("TypeError", absl::StrCat(std::string(name), "() takes ", lo == hi ? absl::StrCat(lo) : absl::StrCat(lo, " to ", hi),
                                    " arguments (", a.args.size(), " given)"));
}

const Value* kwarg(const CallArgs& a, std::string_view name) {
  for (auto& [k, v] : a.kwargs)
    if (k == name) return &v;
  return nullptr;
}

std::string strip_chars(std::string_view s, const Value* chars, bool l, bool r) {
  auto is_strip = [&](char c) {
    if (chars && !chars->is_none()) return need_str(*chars, "strip arg").find(c) != std::string::npos;
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  size_t b = 0, e = s.size();
  if (l)
    while (b < e && is_strip(s[b])) ++b;
  if (r)
    while (e > b && is_strip(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

Value str_method(const Value& self, const std::string& s, std::string_view m, const CallArgs& a) {
  if (m == "upper") return Value(absl::AsciiStrToUpper(s));
  if (m == "lower") return Value(absl::AsciiStrToLower(s));
  if (m == "strip" || m == "lstrip" || m == "rstrip") {
    want_args(a, 0, 1, m);
    return Value(strip_chars(s, a.args.empty() ? nullptr : &a.args[0], m != "rstrip", m != "lstrip"));
  }
  if (m == "startswith" || m == "endswith") {
    want_args(a, 1, 1, m);
    auto test = [&](const std::string& p) {
      return m == "startswith" ? absl::StartsWith(s, p) : absl::EndsWith(s, p);
    };
    if (a.args[0].is_json() && a.args[0].data().is_array()) {
      for (const json& p : a.args[0].data())
        if (p.is_string() && test(p.get_ref<const std::string&>())) return Value(true);
      return Value(false);
    }
    return Value(test(need_str(a.args[0], m)));
  }
  if (m == "join") {
    want_args(a, 1, 1, m);
    std::string out;
    bool first = true;
    iterate(a.args[0], [&](Value e) {
      if (!first) out += s;
      first = false;
      out += need_str(e, "sequence item");
      return true;
    });
    return Value(std::move(out));
  }
  if (m == "split") {
    want_args(a, 0, 2, m);
    const Value* sep = a.args.size() > 0 ? &a.args[0] : kwarg(a, "sep");
    int64_t maxsplit = a.args.size() > 1 ? need_int(a.args[1], "maxsplit")
                       : kwarg(a, "maxsplit") ? need_int(*kwarg(a, "maxsplit"), "maxsplit") : -1;
    json out = json::array();
    if (!sep || sep->is_none()) {
      size_t i = 0;
      while (true) {
        while (i < s.size() && absl::ascii_isspace(static_cast<unsigned char>(s[i]))) ++i;
        if (i >= s.size()) break;
        if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
          std::string rest = s.substr(i);
          while (!rest.empty() && absl::ascii_isspace(static_cast<unsigned char>(rest.back()))) rest.pop_back();
          out.push_back(rest);
          break;
        }
        size_t j = i;
        while (j < s.size() && !absl::ascii_isspace(static_cast<unsigned char>(s[j]))) ++j;
        out.push_back(s.substr(i, j - i));
        i = j;
      }
      return Value(std::move(out));
    }
    const std::string& d = need_str(*sep, "separator");
    if (d.empty()) raise("ValueError", "empty separator");
    size_t i = 0;
    while (true) {
      size_t j = s.find(d, i);
      if (j == std::string::npos || (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit)) {
        out.push_back(s.substr(i));
        break;
      }
      out.push_back(s.substr(i, j - i));
      i = j + d.size();
    }
    return Value(std::move(out));
  }
  if (m == "replace") {
    want_args(a, 2, 2, m);
    const std::string& from = need_str(a.args[0], "replace arg");
    const std::string& to = need_str(a.args[1], "replace arg");
    if (from.empty()) raise("ValueError", "empty pattern (unsupported)");
    return Value(absl::StrReplaceAll(s, {{from, to}}));
  }
  if (m == "find" || m == "count" || m == "index") {
    want_args(a, 1, 1, m);
    const std::string& sub = need_str(a.args[0], m);
    if (m == "count") {
      if (sub.empty()) return Value(str_len(s) + 1);
      int64_t c = 0;
      for (size_t i = s.find(sub); i != std::string::npos; i = s.find(sub, i + sub.size())) ++c;
      return Value(c);
    }
    size_t i = s.find(sub);
    if (i == std::string::npos) {
      if (m == "index") raise("ValueError", "substring not found");
      return Value(int64_t{-1});
    }
    return Value(str_len(std::string_view(s).substr(0, i)));
  }
  if (m == "title" || m == "capitalize") {
    std::string out = s;
    bool start = true;
    for (char& c : out) {
      if (absl::ascii_isalpha(static_cast<unsigned char>(c))) {
        c = start ? absl::ascii_toupper(c) : absl::ascii_tolower(c);
        start = false;
      } else if (m == "title") {
        start = true;
      }
    }
    return Value(std::move(out));
  }
  if (m == "isdigit" || m == "isalpha" || m == "isspace") {
    if (s.empty()) return Value(false);
    for (unsigned char c : s) {
      bool ok = m == "isdigit" ? absl::ascii_isdigit(c) : m == "isalpha" ? absl::ascii_isalpha(c) : absl::ascii_isspace(c);
      if (!ok) return Value(false);
    }
    return Value(true);
  }
  if (m == "format") {
    // "{}", "{0}", "{name}" substitution (no format specs); "{{" and "}}" are literal.
    std::string out;
    size_t auto_idx = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '{' && i + 1 < s.size() && s[i + 1] == '{') { out.push_back('{'); ++i; continue; }
      if (s[i] == '}' && i + 1 < s.size() && s[i + 1] == '}') { out.push_back('}'); ++i; continue; }
      if (s[i] != '{') { out.push_back(s[i]); continue; }
      size_t close = s.find('}', i);
      if (close == std::string::npos) raise("ValueError", "Single '{' encountered in format string");
      std::string field = s.substr(i + 1, close - i - 1);
      i = close;
      const Value* v = nullptr;
      if (field.empty()) {
        if (auto_idx >= a.args.size()) raise("IndexError", "format index out of range");
        v = &a.args[auto_idx++];
      } else if (absl::ascii_isdigit(static_cast<unsigned char>(field[0]))) {
        size_t k = 0;
        std::from_chars(field.data(), field.data() + field.size(), k);
        if (k >= a.args.size()) raise("IndexError", "format index out of range");
        v = &a.args[k];
      } else {
        v = kwarg(a, field);
        if (!v) raise("KeyError", absl::StrCat("'", field, "'"));
      }
      v->append_str(out);
    }
    return Value(std::move(out));
  }
  raise("AttributeError", absl::StrCat("'str' object has no attribute '", std::string(m), "'"));
}

Value method(const Value& self, const std::string& m, const CallArgs& a) {
  if (self.is_object()) {
    auto attr = self.object().getattr(m);
    if (!attr) raise("AttributeError", absl::StrCat("object has no attribute '", m, "'"));
    return call_value(*attr, a);
  }
  const json& j = J(self);
  if (j.is_string()) return str_method(self, j.get_ref<const std::string&>(), m, a);
  if (j.is_object()) {
    if (m == "items") {
      json out = json::array();
      for (auto it = j.begin(); it != j.end(); ++it) out.push_back(json::array({it.key(), it.value()}));
      return Value(std::move(out));
    }
    if (m == "keys") {
      json out = json::array();
      for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
      return Value(std::move(out));
    }
    if (m == "values") {
      json out = json::array();
      for (const json& e : j) out.push_back(e);
      return Value(std::move(out));
    }
    if (m == "get") {
      want_args(a, 1, 2, m);
      if (a.args[0].is_string()) {
        auto it = j.find(a.args[0].data().get_ref<const std::string&>());
        if (it != j.end()) return self.child(*it);
      }
      return a.args.size() > 1 ? a.args[1] : Value();
    }
  }
  if (j.is_array()) {
    if (m == "index" || m == "count") {
      want_args(a, 1, 1, m);
      int64_t c = 0;
      for (size_t i = 0; i < j.size(); ++i) {
        if (equal(self.child(j[i]), a.args[0])) {
          if (m == "index") return Value(static_cast<int64_t>(i));
          ++c;
        }
      }
      if (m == "index") raise("ValueError", "value is not in list");
      return Value(c);
    }
  }
  // A callable stored under that key (dicts of functions are not JSON, so this is rare).
  raise("AttributeError", absl::StrCat("'", self.type_name(), "' object has no attribute '", m, "'"));
}

Value attr(const Value& base, const std::string& name) {
  if (base.is_object()) {
    auto v = base.object().getattr(name);
    if (!v) raise("AttributeError", absl::StrCat("object has no attribute '", name, "'"));
    return *v;
  }
  const json& b = J(base);
  if (b.is_object()) {
    // JSON objects expose their keys as attributes, like Tornado's ObjectDict.
    auto it = b.find(name);
    if (it != b.end()) return base.child(*it);
  }
  raise("AttributeError", absl::StrCat("'", base.type_name(), "' object has no attribute '", name, "'"));
}

// One comparison of a chain (`a < b`, `a in b`, `a is None`).
bool compare(Expr::Cmp cmp, const Value& left, const Value& right) {
  switch (cmp) {
    case Expr::Cmp::kEq: return equal(left, right);
    case Expr::Cmp::kNe: return !equal(left, right);
    case Expr::Cmp::kLt: return compare3(left, right) < 0;
    case Expr::Cmp::kLe: return compare3(left, right) <= 0;
    case Expr::Cmp::kGt: return compare3(left, right) > 0;
    case Expr::Cmp::kGe: return compare3(left, right) >= 0;
    case Expr::Cmp::kIn: return contains(right, left);
    case Expr::Cmp::kNotIn: return !contains(right, left);
    case Expr::Cmp::kIs:
    case Expr::Cmp::kIsNot: {
      // Identity is only meaningful for None, True and False here.
      bool same = left.is_json() && right.is_json() &&
                  ((left.data().is_null() && right.data().is_null()) ||
                   (left.data().is_boolean() && right.data().is_boolean() &&
                    left.data() == right.data()));
      if (!same && !left.is_json() && !right.is_json()) same = equal(left, right);
      return cmp == Expr::Cmp::kIs ? same : !same;
    }
  }
  return false;
}

// obj[key] or nullptr. Small objects (the usual rows) are scanned comparing lengths
// first, which skips most string compares a tree lookup would make.
const json* find_key(const json& obj, const std::string& key) {
  const auto& m = obj.get_ref<const json::object_t&>();
  if (m.size() > 8) {
    auto it = m.find(key);
    return it == m.end() ? nullptr : &it->second;
  }
  const size_t n = key.size();
  for (const auto& [k, v] : m) {
    if (k.size() != n) continue;
    // Keys are short: a byte loop beats calling memcmp.
    size_t i = 0;
    while (i < n && k[i] == key[i]) ++i;
    if (i == n) return &v;
  }
  return nullptr;
}

// The constant key of `x.name` / `x['name']`, or nullptr.
const std::string* const_key(const Expr& e) {
  if (e.op == Expr::Op::kAttr) return &e.name;
  const Expr& k = *e.kids[1];
  if (k.op == Expr::Op::kConst && k.constant.is_string())
    return &k.constant.data().get_ref<const std::string&>();
  return nullptr;
}

// `row['name']` with `row` a variable holding a JSON object that has the key: found
// without building a temporary Value (most lookups in a page). Otherwise nullptr, and
// eval_ref takes the general path, which also raises the errors.
const json* lookup_in_slot(const Expr& e, Frame& f) {
  if (e.kids[0]->op != Expr::Op::kName) return nullptr;
  const Value& base = f.slots[e.kids[0]->slot];
  if (!base.is_json() || !base.data().is_object()) return nullptr;
  const std::string* key = const_key(e);
  return key ? find_key(base.data(), *key) : nullptr;
}

// The data of a constant, a variable or `var['key']` without any temporary (most `{{ }}`
// in a page); nullptr for everything else, including errors (eval_ref raises them).
const json* peek_ref(const Expr& e, Frame& f) {
  switch (e.op) {
    case Expr::Op::kConst:
      return e.constant.is_json() ? &e.constant.data() : nullptr;
    case Expr::Op::kName: {
      const Value& v = f.slots[e.slot];
      return v.is_json() ? &v.data() : nullptr;
    }
    case Expr::Op::kAttr:
    case Expr::Op::kIndex:
      return lookup_in_slot(e, f);
    default:
      return nullptr;
  }
}

const json& json_bool(bool b) {
  static const json* const kTrue = new json(true);
  static const json* const kFalse = new json(false);
  return b ? *kTrue : *kFalse;
}

// eval_ref's result as a Value for the general operations: takes over `tmp` when the
// data lives there, else borrows (the frame and the constants outlive the statement).
Value to_value(const json* j, Value& tmp) {
  if (!j || j == &tmp.data()) return std::move(tmp);
  return Value::ref(*j);
}

// True when eval_ref borrowed `j` from the frame or a constant rather than storing it in
// `tmp`, so pointers into it stay valid after `tmp` goes away.
bool borrowed(const json* j, const Value& tmp) { return j && j != &tmp.data(); }

}  // namespace

Value binary_op(Expr::Op op, const Value& a, const Value& b) { return arith(op, a, b); }

Value eval(const Expr& e, Frame& f) {
  switch (e.op) {
    case Expr::Op::kConst:
      return e.constant.borrow();
    case Expr::Op::kName: {
      const Value& v = f.slots[e.slot];
      if (v.is_undefined())
        raise("NameError", absl::StrCat("name '", (*f.names)[e.slot], "' is not defined"));
      return v.borrow();
    }
    case Expr::Op::kAttr:
      return attr(eval(*e.kids[0], f), e.name);
    case Expr::Op::kIndex: {
      Value b = eval(*e.kids[0], f);
      return index(b, eval(*e.kids[1], f));
    }
    case Expr::Op::kSlice: {
      Value b = eval(*e.kids[0], f);
      Value parts[3];
      for (int k = 0; k < 3; ++k)
        if (e.has_slice_part[k]) parts[k] = eval(*e.kids[k + 1], f);
      return slice(b, e.has_slice_part[0] ? &parts[0] : nullptr,
                   e.has_slice_part[1] ? &parts[1] : nullptr,
                   e.has_slice_part[2] ? &parts[2] : nullptr);
    }
    case Expr::Op::kCall:
    case Expr::Op::kMethod: {
      Value target = eval(*e.kids[0], f);
      CallArgs args;
      const size_t nkw = e.kwnames.size();
      const size_t npos = e.kids.size() - 1 - nkw;
      args.args.reserve(npos);
      for (size_t i = 0; i < npos; ++i) args.args.push_back(eval(*e.kids[1 + i], f));
      for (size_t i = 0; i < nkw; ++i)
        args.kwargs.emplace_back(e.kwnames[i], eval(*e.kids[1 + npos + i], f));
      if (e.op == Expr::Op::kCall) return call_value(target, args);
      return method(target, e.name, args);
    }
    case Expr::Op::kList: {
      json out = json::array();
      for (auto& k : e.kids) {
        Value v = eval(*k, f);
        if (!v.is_json()) raise("TypeError", "lists hold JSON values only, not functions or objects");
        out.push_back(v.data());
      }
      return Value(std::move(out));
    }
    case Expr::Op::kDict: {
      json out = json::object();
      for (size_t i = 0; i + 1 < e.kids.size(); i += 2) {
        Value k = eval(*e.kids[i], f);
        Value v = eval(*e.kids[i + 1], f);
        if (!v.is_json()) raise("TypeError", "dicts hold JSON values only, not functions or objects");
        out[k.is_string() ? k.data().get<std::string>() : k.str()] = v.data();
      }
      return Value(std::move(out));
    }
    case Expr::Op::kNeg:
    case Expr::Op::kPos: {
      Value v = eval(*e.kids[0], f);
      const json& j = J(v);
      if (!is_num(j)) raise("TypeError", absl::StrCat("bad operand type for unary -: '", v.type_name(), "'"));
      if (e.op == Expr::Op::kPos) return is_int(j) ? Value(as_int(j)) : v;
      if (is_int(j)) return int_result(-static_cast<__int128>(as_int(j)));
      return Value(-as_double(j));
    }
    case Expr::Op::kNot:
      return Value(!eval(*e.kids[0], f).truthy());
    case Expr::Op::kAnd: {
      Value a = eval(*e.kids[0], f);
      if (!a.truthy()) return a;
      return eval(*e.kids[1], f);
    }
    case Expr::Op::kOr: {
      Value a = eval(*e.kids[0], f);
      if (a.truthy()) return a;
      return eval(*e.kids[1], f);
    }
    case Expr::Op::kIfElse:
      return eval(*e.kids[0], f).truthy() ? eval(*e.kids[1], f) : eval(*e.kids[2], f);
    case Expr::Op::kCompare: {
      Value left = eval(*e.kids[0], f);
      for (size_t i = 0; i < e.cmps.size(); ++i) {
        Value right = eval(*e.kids[i + 1], f);
        if (!compare(e.cmps[i], left, right)) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    default:
      return arith(e.op, eval(*e.kids[0], f), eval(*e.kids[1], f));
  }
}

const json* eval_ref(const Expr& e, Frame& f, Value& tmp) {
  switch (e.op) {
    case Expr::Op::kConst:
      if (e.constant.is_json()) return &e.constant.data();
      break;
    case Expr::Op::kName: {
      const Value& v = f.slots[e.slot];
      if (v.is_json()) return &v.data();
      break;  // undefined (eval raises NameError), a function or an object
    }
    case Expr::Op::kAttr:
    case Expr::Op::kIndex: {
      if (const json* v = lookup_in_slot(e, f)) return v;
      Value bt;
      const json* b = eval_ref(*e.kids[0], f, bt);
      const Expr* key = e.op == Expr::Op::kIndex ? e.kids[1].get() : nullptr;
      if (borrowed(b, bt) && b->is_object()) {
        // `a.b.name` / `x[0]['name']`: look the constant key up in place, no copies.
        if (const std::string* k = const_key(e)) {
          if (const json* v = find_key(*b, *k)) return v;
        }
      }
      Value base = to_value(b, bt);
      if (!key) {
        tmp = attr(base, e.name);
      } else {
        Value kt;
        const json* k = eval_ref(*key, f, kt);
        tmp = index(base, to_value(k, kt));
      }
      return tmp.is_json() ? &tmp.data() : nullptr;
    }
    case Expr::Op::kNot:
      return &json_bool(!eval_truth(*e.kids[0], f));
    case Expr::Op::kAnd:
    case Expr::Op::kOr: {
      const json* a = eval_ref(*e.kids[0], f, tmp);
      const bool t = a ? truthy(*a) : tmp.truthy();
      if (t == (e.op == Expr::Op::kOr)) return a;
      tmp = Value();
      return eval_ref(*e.kids[1], f, tmp);
    }
    case Expr::Op::kIfElse:
      return eval_ref(*e.kids[eval_truth(*e.kids[0], f) ? 1 : 2], f, tmp);
    case Expr::Op::kCompare: {
      if (e.cmps.size() != 1) break;
      Value lt, rt;
      const json* l = eval_ref(*e.kids[0], f, lt);
      const json* r = eval_ref(*e.kids[1], f, rt);
      const Expr::Cmp cmp = e.cmps[0];
      if (l && r && (cmp == Expr::Cmp::kEq || cmp == Expr::Cmp::kNe) &&
          !(is_num(*l) && is_num(*r)))  // numbers compare across int/float in equal()
        return &json_bool((*l == *r) == (cmp == Expr::Cmp::kEq));
      return &json_bool(compare(cmp, to_value(l, lt), to_value(r, rt)));
    }
    case Expr::Op::kAdd:
    case Expr::Op::kSub:
    case Expr::Op::kMul:
    case Expr::Op::kDiv:
    case Expr::Op::kFloorDiv:
    case Expr::Op::kMod:
    case Expr::Op::kPow: {
      // `i % 2`, `n + 1` on int variables/constants: no operand Values.
      const json* pa = peek_ref(*e.kids[0], f);
      const json* pb = pa && pa->is_number_integer() ? peek_ref(*e.kids[1], f) : nullptr;
      if (pb && pb->is_number_integer() && e.op != Expr::Op::kDiv && e.op != Expr::Op::kPow) {
        tmp = int_arith(e.op, as_int(*pa), as_int(*pb));
        return &tmp.data();
      }
      Value at, bt;
      const json* a = eval_ref(*e.kids[0], f, at);
      const json* b = eval_ref(*e.kids[1], f, bt);
      tmp = arith(e.op, to_value(a, at), to_value(b, bt));
      return &tmp.data();
    }
    default:
      break;
  }
  tmp = eval(e, f);
  return tmp.is_json() ? &tmp.data() : nullptr;
}

namespace {

// Appends str(j), escaped if `escape`.
void append_json(std::string& out, const json& j, bool escape) {
  if (!escape) {
    append_str(out, j);
  } else if (j.is_string()) {
    append_xhtml_escaped(out, j.get_ref<const std::string&>());
  } else if (j.is_number() || j.is_boolean() || j.is_null()) {
    append_str(out, j);  // digits and words need no escaping
  } else {
    std::string s;
    append_str(s, j);
    append_xhtml_escaped(out, s);
  }
}

}  // namespace

bool eval_truth(const Expr& e, Frame& f) {
  if (const json* j = peek_ref(e, f)) return truthy(*j);
  Value tmp;
  const json* j = eval_ref(e, f, tmp);
  return j ? truthy(*j) : tmp.truthy();
}

void append_value(std::string& out, const Expr& e, Frame& f, bool escape) {
  if (const json* j = peek_ref(e, f)) {
    append_json(out, *j, escape);
    return;
  }
  if (escape && e.op == Expr::Op::kMod && e.kids[0]->op == Expr::Op::kConst &&
      e.kids[0]->constant.is_string()) {
    // {{ '%.2f' % x }}: format into a local (short results stay in SSO), then escape.
    std::string scratch;
    Value at;
    const json* a = eval_ref(*e.kids[1], f, at);
    format_percent_to(scratch, e.kids[0]->constant.data().get_ref<const std::string&>(),
                      to_value(a, at));
    append_xhtml_escaped(out, scratch);
    return;
  }
  Value tmp;
  if (const json* j = eval_ref(e, f, tmp)) {
    append_json(out, *j, escape);
  } else if (escape) {
    append_xhtml_escaped(out, tmp.str());  // a function or an object
  } else {
    tmp.append_str(out);
  }
}

// ---------------------------------------------------------------- builtins

namespace {

Value make_range(const CallArgs& a) {
  want_args(a, 1, 3, "range");
  int64_t start = 0, stop, step = 1;
  if (a.args.size() == 1) {
    stop = need_int(a.args[0], "range arg");
  } else {
    start = need_int(a.args[0], "range arg");
    stop = need_int(a.args[1], "range arg");
    if (a.args.size() == 3) step = need_int(a.args[2], "range arg");
  }
  if (step == 0) raise("ValueError", "range() arg 3 must not be zero");
  __int128 count = step > 0 ? (static_cast<__int128>(stop) - start + step - 1) / step
                            : (static_cast<__int128>(start) - stop - step - 1) / -step;
  if (count < 0) count = 0;
  if (count > kMaxSequence) raise("MemoryError", "range too large");
  json out = json::array();
  out.get_ref<json::array_t&>().reserve(static_cast<size_t>(count));
  for (int64_t i = 0, v = start; i < count; ++i, v += step) out.push_back(v);
  return Value(std::move(out));
}

Value to_int(const CallArgs& a) {
  want_args(a, 0, 2, "int");
  if (a.args.empty()) return Value(int64_t{0});
  const json& j = J(a.args[0]);
  if (is_int(j)) return Value(as_int(j));
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (!std::isfinite(d) || d >= 9.2e18 || d <= -9.2e18) raise("OverflowError", "cannot convert float to int");
    return Value(static_cast<int64_t>(d));
  }
  if (j.is_string()) {
    std::string s = strip_chars(j.get_ref<const std::string&>(), nullptr, true, true);
    int base = a.args.size() > 1 ? static_cast<int>(need_int(a.args[1], "base")) : 10;
    if (base < 2 || base > 36) raise("ValueError", "int() base must be >= 2 and <= 36");
    std::string_view sv = s;
    bool neg = false;
    if (!sv.empty() && (sv[0] == '-' || sv[0] == '+')) {
      neg = sv[0] == '-';
      sv.remove_prefix(1);
    }
    int64_t v = 0;
    auto r = std::from_chars(sv.data(), sv.data() + sv.size(), v, base);
    if (sv.empty() || r.ec != std::errc() || r.ptr != sv.data() + sv.size())
      raise("ValueError", absl::StrCat("invalid literal for int(): ", a.args[0].repr()));
    return Value(neg ? -v : v);
  }
  raise("TypeError", absl::StrCat("int() argument must be a string or a number, not '", a.args[0].type_name(), "'"));
}

Value to_float(const CallArgs& a) {
  want_args(a, 0, 1, "float");
  if (a.args.empty()) return Value(0.0);
  const json& j = J(a.args[0]);
  if (is_num(j)) return Value(as_double(j));
  if (j.is_string()) {
    std::string s = absl::AsciiStrToLower(strip_chars(j.get_ref<const std::string&>(), nullptr, true, true));
    if (s == "inf" || s == "+inf" || s == "infinity") return Value(HUGE_VAL);
    if (s == "-inf" || s == "-infinity") return Value(-HUGE_VAL);
    if (s == "nan") return Value(std::nan(""));
    double d = 0;
    std::string_view sv = s;
    if (!sv.empty() && sv[0] == '+') sv.remove_prefix(1);
    auto r = std::from_chars(sv.data(), sv.data() + sv.size(), d);
    if (sv.empty() || r.ec != std::errc() || r.ptr != sv.data() + sv.size())
      raise("ValueError", absl::StrCat("could not convert string to float: ", a.args[0].repr()));
    return Value(d);
  }
  raise("TypeError", "float() argument must be a string or a number");
}

Value sorted_impl(const CallArgs& a, bool reverse_only) {
  want_args(a, 1, 1, reverse_only ? "reversed" : "sorted");
  json items = to_list(a.args[0]);
  if (reverse_only) {
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  const Value* key = kwarg(a, "key");
  const Value* rev = kwarg(a, "reverse");
  std::vector<std::pair<json, size_t>> keyed;
  keyed.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (key && !key->is_none()) {
      CallArgs ka;
      ka.args.push_back(Value::ref(items[i]));
      Value k = call_value(*key, ka);
      keyed.emplace_back(J(k), i);
    } else {
      keyed.emplace_back(json(), i);
    }
  }
  auto keyof = [&](const std::pair<json, size_t>& p) -> const json& {
    return key && !key->is_none() ? p.first : items[p.second];
  };
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return compare_json(keyof(x), keyof(y)) < 0;
  });
  if (rev && rev->truthy()) {
    // Python's reverse=True keeps equal elements in original order.
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
      return compare_json(keyof(x), keyof(y)) > 0;
    });
  }
  json out = json::array();
  for (auto& p : keyed) out.push_back(std::move(items[p.second]));
  return Value(std::move(out));
}

Value min_max(const CallArgs& a, bool want_max) {
  json items = a.args.size() == 1 ? to_list(a.args[0]) : json::array();
  if (a.args.size() > 1)
    for (auto& v : a.args) items.push_back(J(v));
  if (items.empty()) {
    if (const Value* d = kwarg(a, "default")) return *d;
    raise("ValueError", want_max ? "max() arg is an empty sequence" : "min() arg is an empty sequence");
  }
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    int c = compare_json(items[i], items[best]);
    if (want_max ? c > 0 : c < 0) best = i;
  }
  return Value(items[best]);
}

std::string format_time(absl::Time t, absl::TimeZone tz) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", t, tz);
}

Namespace make_builtins() {
  Namespace ns;
  auto def = [&](const char* name, Function fn) { ns.emplace(name, Value(std::move(fn))); };
  def("len", [](const CallArgs& a) -> Value {
    want_args(a, 1, 1, "len");
    const json& j = J(a.args[0]);
    if (j.is_string()) return Value(str_len(j.get_ref<const std::string&>()));
    if (j.is_array() || j.is_object()) return Value(static_cast<int64_t>(j.size()));
    raise("TypeError", absl::StrCat("object of type '", a.args[0].type_name(), "' has no len()"));
  });
  def("range", make_range);
  def("enumerate", [](const CallArgs& a) -> Value {
    want_args(a, 1, 2, "enumerate");
    int64_t i = a.args.size() > 1 ? need_int(a.args[1], "start")
                : kwarg(a, "start") ? need_int(*kwarg(a, "start"), "start") : 0;
    json out = json::array();
    iterate(a.args[0], [&](Value e) {
      out.push_back(json::array({i++, e.data()}));
      return true;
    });
    return Value(std::move(out));
  });
  def("zip", [](const CallArgs& a) -> Value {
    std::vector<json> lists;
    for (auto& v : a.args) lists.push_back(to_list(v));
    json out = json::array();
    if (lists.empty()) return Value(std::move(out));
    size_t n = SIZE_MAX;
    for (auto& l : lists) n = std::min(n, l.size());
    for (size_t i = 0; i < n; ++i) {
      json row = json::array();
      for (auto& l : lists) row.push_back(l[i]);
      out.push_back(std::move(row));
    }
    return Value(std::move(out));
  });
  def("sorted", [](const CallArgs& a) { return sorted_impl(a, false); });
  def("reversed", [](const CallArgs& a) { return sorted_impl(a, true); });
  def("list", [](const CallArgs& a) -> Value {
    want_args(a, 0, 1, "list");
    return a.args.empty() ? Value(json::array()) : Value(to_list(a.args[0]));
  });
  {
    Value list_fn = ns.at("list");  // copy first: emplace may rehash
    ns.emplace("tuple", list_fn);
  }
  def("dict", [](const CallArgs& a) -> Value {
    want_args(a, 0, 1, "dict");
    json out = json::object();
    if (!a.args.empty()) {
      const json& j = J(a.args[0]);
      if (j.is_object()) {
        out = j;
      } else {
        iterate(a.args[0], [&](Value e) {
          const json& p = e.data();
          if (!p.is_array() || p.size() != 2) raise("ValueError", "dict() needs (key, value) pairs");
          out[p[0].is_string() ? p[0].get<std::string>() : Value::ref(p[0]).str()] = p[1];
          return true;
        });
      }
    }
    for (auto& [k, v] : a.kwargs) out[k] = J(v);
    return Value(std::move(out));
  });
  def("str", [](const CallArgs& a) -> Value {
    want_args(a, 0, 1, "str");
    return a.args.empty() ? Value(std::string()) : Value(a.args[0].str());
  });
  def("repr", [](const CallArgs& a) -> Value {
    want_args(a, 1, 1, "repr");
    return Value(a.args[0].repr());
  });
  def("int", to_int);
  def("float", to_float);
  def("bool", [](const CallArgs& a) -> Value {
    want_args(a, 0, 1, "bool");
    return Value(!a.args.empty() && a.args[0].truthy());
  });
  def("abs", [](const CallArgs& a) -> Value {
    want_args(a, 1, 1, "abs");
    const json& j = J(a.args[0]);
    if (is_int(j)) { __int128 x = as_int(j); return int_result(x < 0 ? -x : x); }
    if (j.is_number()) return Value(std::fabs(j.get<double>()));
    raise("TypeError", "bad operand type for abs()");
  });
  def("round", [](const CallArgs& a) -> Value {
    want_args(a, 1, 2, "round");
    const json& j = J(a.args[0]);
    if (!is_num(j)) raise("TypeError", "round() needs a number");
    if (a.args.size() == 1) {
      if (is_int(j)) return Value(as_int(j));
      double d = std::nearbyint(as_double(j));  // banker's rounding, like Python
      if (!std::isfinite(d) || std::fabs(d) > 9.2e18) raise("OverflowError", "cannot convert float to int");
      return Value(static_cast<int64_t>(d));
    }
    int64_t nd = need_int(a.args[1], "ndigits");
    if (is_int(j) && nd >= 0) return Value(as_int(j));
    double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(nd, -300, 300)));
    return Value(std::nearbyint(as_double(j) * scale) / scale);
  });
  def("min", [](const CallArgs& a) { return min_max(a, false); });
  def("max", [](const CallArgs& a) { return min_max(a, true); });
  def("sum", [](const CallArgs& a) -> Value {
    want_args(a, 1, 2, "sum");
    Value total = a.args.size() > 1 ? a.args[1] : Value(int64_t{0});
    iterate(a.args[0], [&](Value e) {
      total = arith(Expr::Op::kAdd, total, e);
      return true;
    });
    return total;
  });
  def("any", [](const CallArgs& a) -> Value {
    want_args(a, 1, 1, "any");
    bool r = false;
    iterate(a.args[0], [&](Value e) { return !(r = e.truthy()); });
    return Value(r);
  });
  def("all", [](const CallArgs& a) -> Value {
    want_args(a, 1, 1, "all");
    bool r = true;
    iterate(a.args[0], [&](Value e) { return (r = e.truthy()); });
    return Value(r);
  });
  def("callable", [](const CallArgs& a) -> Value {
    want_args(a, 1, 1, "callable");
    return Value(a.args[0].is_function());
  });
  // Tornado's default namespace (tornado.escape functions and datetime).
  auto str_fn = [&](const char* name, std::string (*fn)(std::string_view)) {
    def(name, [fn, name](const CallArgs& a) -> Value {
      want_args(a, 1, 1, name);
      if (a.args[0].is_string()) return Value(fn(a.args[0].data().get_ref<const std::string&>()));
      return Value(fn(a.args[0].str()));
    });
  };
  str_fn("xhtml_escape", [](std::string_view s) { return escape::xhtml_escape(s); });
  {
    Value esc = ns.at("xhtml_escape");
    ns.emplace("escape", esc);
  }
  str_fn("squeeze", [](std::string_view s) { return escape::squeeze(s); });
  def("url_escape", [](const CallArgs& a) -> Value {
    want_args(a, 1, 2, "url_escape");
    const Value* plus = a.args.size() > 1 ? &a.args[1] : kwarg(a, "plus");
    std::string s = a.args[0].is_string() ? a.args[0].data().get<std::string>() : a.args[0].str();
    return Value(escape::url_escape(s, plus ? plus->truthy() : true));
  });
  def("json_encode", [](const CallArgs& a) -> Value {
    want_args(a, 1, 1, "json_encode");
    auto r = escape::json_encode(J(a.args[0]));
    if (!r.ok()) raise("ValueError", std::string(r.status().message()));
    return Value(std::move(*r));
  });
  def("linkify", [](const CallArgs& a) -> Value {
    want_args(a, 1, 1, "linkify");
    escape::LinkifyOptions opts;
    for (auto& [k, v] : a.kwargs) {
      if (k == "shorten") opts.shorten = v.truthy();
      else if (k == "require_protocol") opts.require_protocol = v.truthy();
      else if (k == "extra_params") opts.extra_params = need_str(v, "extra_params");
      else if (k == "permitted_protocols") {
        opts.permitted_protocols.clear();
        iterate(v, [&](Value p) {
          opts.permitted_protocols.push_back(need_str(p, "protocol"));
          return true;
        });
      } else raise("TypeError", absl::StrCat("linkify() got an unexpected keyword argument '", k, "'"));
    }
    return Value(escape::linkify(a.args[0].is_string() ? a.args[0].data().get<std::string>() : a.args[0].str(), opts));
  });
  // datetime: now()/utcnow() and fromtimestamp()/utcfromtimestamp() give str(datetime)
  // ("2024-01-02 03:04:05.000000"); strftime(fmt, timestamp[, utc]) formats a Unix time.
  auto dt = std::make_shared<ObjectDict>();
  dt->attrs().emplace("now", Value(Function([](const CallArgs&) -> Value {
    return Value(format_time(absl::Now(), absl::LocalTimeZone()));
  })));
  dt->attrs().emplace("utcnow", Value(Function([](const CallArgs&) -> Value {
    return Value(format_time(absl::Now(), absl::UTCTimeZone()));
  })));
  auto from_ts = [](bool utc) {
    return Value(Function([utc](const CallArgs& a) -> Value {
      want_args(a, 1, 1, "fromtimestamp");
      const json& j = J(a.args[0]);
      if (!is_num(j)) raise("TypeError", "a number is required");
      return Value(format_time(absl::FromUnixMicros(static_cast<int64_t>(as_double(j) * 1e6)),
                               utc ? absl::UTCTimeZone() : absl::LocalTimeZone()));
    }));
  };
  dt->attrs().emplace("fromtimestamp", from_ts(false));
  dt->attrs().emplace("utcfromtimestamp", from_ts(true));
  dt->attrs().emplace("strftime", Value(Function([](const CallArgs& a) -> Value {
    want_args(a, 2, 3, "strftime");
    const json& j = J(a.args[1]);
    if (!is_num(j)) raise("TypeError", "a number is required");
    const bool utc = a.args.size() > 2 ? a.args[2].truthy() : true;
    return Value(absl::FormatTime(need_str(a.args[0], "format"),
                                  absl::FromUnixMicros(static_cast<int64_t>(as_double(j) * 1e6)),
                                  utc ? absl::UTCTimeZone() : absl::LocalTimeZone()));
  })));
  dt->attrs().emplace("time", Value(Function([](const CallArgs&) -> Value {
    return Value(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  })));
  ns.emplace("datetime", Value(std::shared_ptr<const Object>(dt)));
  return ns;
}

}  // namespace

const Namespace& builtins() {
  static const Namespace* ns = new Namespace(make_builtins());
  return *ns;
}

}  // namespace tornado::template_
