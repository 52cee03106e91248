// .mo reading and Plural-Forms evaluation.
#include "locale/gettext.h"

#include <fstream>
#include <sstream>

#include <absl/status/status.h>
#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>

namespace tornado::locale {

struct PluralExpression::Node {
  enum Kind { kNum, kVar, kNot, kNeg, kBinary, kTernary } kind;
  int64_t value = 0;
  std::string op;
  std::shared_ptr<const Node> a, b, c;
};

namespace {

using NodeP = std::shared_ptr<const PluralExpression::Node>;
using Node = PluralExpression::Node;
constexpr int kMaxDepth = 64;

class ExprParser {
 public:
  explicit ExprParser(std::string_view s) : s_(s) {}

  absl::StatusOr<NodeP> run() {
    NodeP n = ternary(0);
    skip();
    if (!n || failed_) return absl::InvalidArgumentError(absl::StrCat("bad plural expression: ", error_));
    if (pos_ != s_.size()) return absl::InvalidArgumentError("bad plural expression: trailing text");
    return n;
  }

 private:
  void skip() {
    while (pos_ < s_.size() && absl::ascii_isspace(s_[pos_])) ++pos_;
  }
  bool eat(std::string_view tok) {
    skip();
    if (s_.substr(pos_, tok.size()) == tok) {
      // Do not read "<" from "<=", "=" alone, or "|" from "||".
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  NodeP fail(std::string_view why) {
    failed_ = true;
    if (error_.empty()) error_ = std::string(why);
    return nullptr;
  }
  NodeP binary(std::string op, NodeP a, NodeP b) {
    auto n = std::make_shared<Node>();
    n->kind = Node::kBinary;
    n->op = std::move(op);
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }

  NodeP ternary(int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    NodeP cond = logical_or(depth);
    if (!cond) return nullptr;
    if (!eat("?")) return cond;
    NodeP yes = ternary(depth + 1);
    if (!yes) return nullptr;
    if (!eat(":")) return fail("expected ':'");
    NodeP no = ternary(depth + 1);
    if (!no) return nullptr;
    auto n = std::make_shared<Node>();
    n->kind = Node::kTernary;
    n->a = cond;
    n->b = yes;
    n->c = no;
    return n;
  }

  // Left-associative levels, lowest precedence first.
  NodeP logical_or(int d) { return level(d, 0); }

  NodeP level(int depth, int lvl) {
    static const std::vector<std::vector<std::string>> kLevels = {
        {"||"}, {"&&"}, {"==", "!="}, {"<=", ">=", "<", ">"}, {"+", "-"}, {"*", "/", "%"}};
    if (lvl == static_cast<int>(kLevels.size())) return unary(depth);
    NodeP left = level(depth, lvl + 1);
    if (!left) return nullptr;
    while (true) {
      skip();
      std::string found;
      for (const std::string& op : kLevels[lvl]) {
        if (s_.substr(pos_, op.size()) == op) {
          // "|" or "&" alone, and "=" alone, are not operators we accept.
          found = op;
          break;
        }
      }
      if (found.empty()) return left;
      pos_ += found.size();
      NodeP right = level(depth, lvl + 1);
      if (!right) return nullptr;
      left = binary(found, left, right);
    }
  }

  NodeP unary(int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    skip();
    if (pos_ < s_.size() && s_[pos_] == '!' && s_.substr(pos_, 2) != "!=") {
      ++pos_;
      NodeP x = unary(depth + 1);
      if (!x) return nullptr;
      auto n = std::make_shared<Node>();
      n->kind = Node::kNot;
      n->a = x;
      return n;
    }
    if (pos_ < s_.size() && s_[pos_] == '-') {
      ++pos_;
      NodeP x = unary(depth + 1);
      if (!x) return nullptr;
      auto n = std::make_shared<Node>();
      n->kind = Node::kNeg;
      n->a = x;
      return n;
    }
    if (eat("(")) {
      NodeP x = ternary(depth + 1);
      if (!x) return nullptr;
      if (!eat(")")) return fail("expected ')'");
      return x;
    }
    skip();
    if (pos_ < s_.size() && s_[pos_] == 'n' &&
        (pos_ + 1 == s_.size() || !absl::ascii_isalnum(s_[pos_ + 1]))) {
      ++pos_;
      auto n = std::make_shared<Node>();
      n->kind = Node::kVar;
      return n;
    }
    if (pos_ < s_.size() && absl::ascii_isdigit(s_[pos_])) {
      int64_t v = 0;
      while (pos_ < s_.size() && absl::ascii_isdigit(s_[pos_])) {
        if (v > (INT64_MAX - 9) / 10) return fail("number too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      auto n = std::make_shared<Node>();
      n->kind = Node::kNum;
      n->value = v;
      return n;
    }
    return fail("expected n, a number or '('");
  }

  std::string_view s_;
  size_t pos_ = 0;
  bool failed_ = false;
  std::string error_;
};

int64_t eval(const Node& node, int64_t n) {
  switch (node.kind) {
    case Node::kNum: return node.value;
    case Node::kVar: return n;
    case Node::kNot: return eval(*node.a, n) == 0;
    case Node::kNeg: return static_cast<int64_t>(0ULL - static_cast<uint64_t>(eval(*node.a, n)));
    case Node::kTernary: return eval(*node.a, n) != 0 ? eval(*node.b, n) : eval(*node.c, n);
    case Node::kBinary: {
      const std::string& op = node.op;
      if (op == "||") return eval(*node.a, n) != 0 || eval(*node.b, n) != 0;
      if (op == "&&") return eval(*node.a, n) != 0 && eval(*node.b, n) != 0;
      int64_t a = eval(*node.a, n), b = eval(*node.b, n);
      // Wrapping arithmetic: the expression is untrusted, overflow must not be UB.
      auto ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
      if (op == "==") return a == b;
      if (op == "!=") return a != b;
      if (op == "<") return a < b;
      if (op == "<=") return a <= b;
      if (op == ">") return a > b;
      if (op == ">=") return a >= b;
      if (op == "+") return static_cast<int64_t>(ua + ub);
      if (op == "-") return static_cast<int64_t>(ua - ub);
      if (op == "*") return static_cast<int64_t>(ua * ub);
      if (b == 0 || (a == INT64_MIN && b == -1)) return 0;
      if (op == "/") return a / b;
      return a % b;
    }
  }
  return 0;
}

}  // namespace

absl::StatusOr<PluralExpression> PluralExpression::parse(std::string_view text) {
  if (text.size() > 4096) return absl::InvalidArgumentError("plural expression too long");
  absl::StatusOr<NodeP> root = ExprParser(text).run();
  if (!root.ok()) return root.status();
  PluralExpression e;
  e.root_ = *root;
  return e;
}

int64_t PluralExpression::evaluate(int64_t n) const { return root_ ? eval(*root_, n) : 0; }

// ---- MoCatalog ----

absl::StatusOr<MoCatalog> MoCatalog::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  absl::StatusOr<MoCatalog> c = parse(buf.str());
  if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", c.status().message()));
  return c;
}

absl::StatusOr<MoCatalog> MoCatalog::parse(std::string_view data) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("not a valid .mo file: ", absl::string_view(why.data(), why.size())));
  };
  if (data.size() < 20) return bad("too short");
  auto u32 = [&](size_t off, bool big) -> uint32_t {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + off);
    return big ? (uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3])
               : (uint32_t{p[3]} << 24 | uint32_t{p[2]} << 16 | uint32_t{p[1]} << 8 | p[0]);
  };
  bool big;
  if (u32(0, false) == 0x950412de) {
    big = false;
  } else if (u32(0, true) == 0x950412de) {
    big = true;
  } else {
    return bad("bad magic number");
  }
  uint32_t revision = u32(4, big);
  if ((revision >> 16) > 1) return bad("unsupported revision");
  uint64_t count = u32(8, big), orig = u32(12, big), trans = u32(16, big);
  if (orig + count * 8 > data.size() || trans + count * 8 > data.size()) return bad("table out of range");
  auto str_at = [&](uint64_t table, uint64_t i, std::string_view& out) {
    uint64_t len = u32(table + i * 8, big), off = u32(table + i * 8 + 4, big);
    if (off + len > data.size()) return false;
    out = data.substr(off, len);
    return true;
  };
  MoCatalog cat;
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view msg, tmsg;
    if (!str_at(orig, i, msg) || !str_at(trans, i, tmsg)) return bad("string out of range");
    if (msg.empty()) {
      // The header: look for Plural-Forms.
      size_t start = 0;
      while (start < tmsg.size()) {
        size_t end = tmsg.find('\n', start);
        if (end == std::string_view::npos) end = tmsg.size();
        std::string_view line = tmsg.substr(start, end - start);
        start = end + 1;
        std::string lower = absl::AsciiStrToLower(absl::string_view(line.data(), line.size()));
        if (!lower.starts_with("plural-forms:")) continue;
        size_t p = line.find("plural=");
        if (p == std::string_view::npos) continue;
        std::string_view expr = line.substr(p + 7);
        if (size_t semi = expr.find(';'); semi != std::string_view::npos) expr = expr.substr(0, semi);
        absl::StatusOr<PluralExpression> e = PluralExpression::parse(expr);
        if (!e.ok()) return bad(std::string(e.status().message()));
        cat.plural_ = std::make_shared<PluralExpression>(std::move(*e));
      }
    }
    Entry entry;
    size_t nul = msg.find('\0');
    if (nul != std::string_view::npos) {
      entry.plural = true;
      msg = msg.substr(0, nul);
      size_t s = 0;
      while (true) {
        size_t e = tmsg.find('\0', s);
        entry.forms.emplace_back(tmsg.substr(s, e == std::string_view::npos ? std::string_view::npos : e - s));
        if (e == std::string_view::npos) break;
        s = e + 1;
      }
    } else {
      entry.forms.emplace_back(tmsg);
    }
    cat.entries_.insert_or_assign(std::string(msg), std::move(entry));
  }
  if (!cat.plural_) {
    cat.plural_ = std::make_shared<PluralExpression>(*PluralExpression::parse("n != 1"));
  }
  return cat;
}

std::string MoCatalog::gettext(std::string_view message) const {
  auto it = entries_.find(absl::string_view(message.data(), message.size()));
  if (it == entries_.end() || it->second.plural) return std::string(message);
  return it->second.forms[0];
}

std::string MoCatalog::ngettext(std::string_view singular, std::string_view plural, int64_t n) const {
  auto it = entries_.find(absl::string_view(singular.data(), singular.size()));
  if (it != entries_.end() && it->second.plural) {
    int64_t idx = plural_->evaluate(n);
    if (idx >= 0 && idx < static_cast<int64_t>(it->second.forms.size())) return it->second.forms[idx];
  }
  return std::string(n == 1 ? singular : plural);
}

bool MoCatalog::has(std::string_view message) const {
  return entries_.contains(absl::string_view(message.data(), message.size()));
}

}  // namespace tornado::locale
