// Template parsing (source -> chunks), compilation (chunks -> node tree with includes and
// inheritance resolved) and rendering (walking the tree into one buffer); the loaders.
#include "template/template.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace tornado::template_ {

// ---------------------------------------------------------------- parsed source

struct Chunk {
  enum class Kind : uint8_t {
    kText, kExpr, kRaw, kModule, kSet, kBreak, kContinue, kControl, kIntermediate, kBlock,
    kApply, kExtends, kInclude,
  };
  Kind kind = Kind::kText;
  std::string op;    // control keyword: if/for/while/try; intermediate: else/elif/except/finally
  std::string text;  // text, expression, suffix or name
  std::string whitespace;  // kText: the mode in force
  int line = 0;
  std::vector<Chunk> body;
};

// ---------------------------------------------------------------- compiled tree

struct Loc {
  std::string filename;
  int line = 0;
  std::string via;
};

struct Handler {
  std::vector<std::string> kinds;  // empty: bare except
  int as_slot = -1;
  std::vector<Node> body;
};

struct Node {
  enum class Kind : uint8_t {
    kText, kExpr, kIf, kFor, kWhile, kTry, kSet, kStmt, kBreak, kContinue, kApply,
  };
  Kind kind = Kind::kText;
  std::string text;
  std::shared_ptr<const Loc> loc;
  // kExpr
  bool raw = false;
  bool fast_escape = false;
  int escape_slot = -1;
  // expressions: kExpr/kStmt/kSet/kApply: [0]; kIf: one per condition; kFor/kWhile: [0]
  std::vector<std::unique_ptr<Expr>> exprs;
  // kIf: one body per condition, plus else; kFor/kWhile: body, else; kTry: body, else, finally
  std::vector<std::vector<Node>> bodies;
  bool has_else = false;
  bool has_finally = false;
  std::vector<int> targets;           // kFor / kSet
  int enumerate_slot = -1;            // kFor over enumerate(xs[, start]): iterate lazily
  Expr::Op aug = Expr::Op::kConst;    // kSet: kConst for plain '='
  std::vector<Handler> handlers;      // kTry
};

ParseError::ParseError(std::string message, std::string filename, int lineno)
    : std::runtime_error(absl::StrCat(message, " at ", filename, ":", lineno)),
      message_(std::move(message)),
      filename_(std::move(filename)),
      lineno_(lineno) {}

// ---------------------------------------------------------------- whitespace

std::string filter_whitespace(std::string_view mode, std::string_view text) {
  if (mode == "all") return std::string(text);
  const bool single = mode == "single";
  if (!single && mode != "oneline")
    throw ParseError(absl::StrCat("invalid whitespace mode ", std::string(mode)));
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  auto is_ws = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (i < text.size()) {
    if (!is_ws(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    size_t j = i;
    bool newline = false;
    while (j < text.size() && is_ws(text[j])) newline |= text[j++] == '\n';
    if (single) {
      // A run with a newline becomes "\n"; spaces and tabs become " "; other whitespace
      // (\r, \f, \v without newline) is kept, as Tornado's two regexes do.
      if (newline) {
        out.push_back('\n');
      } else {
        for (size_t k = i; k < j;) {
          if (text[k] == ' ' || text[k] == '\t') {
            while (k < j && (text[k] == ' ' || text[k] == '\t')) ++k;
            out.push_back(' ');
          } else {
            out.push_back(text[k++]);
          }
        }
      }
    } else {
      out.push_back(' ');
    }
    i = j;
  }
  return out;
}

// ---------------------------------------------------------------- parser

namespace {

struct Reader {
  std::string_view text;
  const std::string& name;
  size_t pos = 0;
  int line = 1;
  std::string whitespace;

  size_t remaining() const { return text.size() - pos; }
  size_t find(std::string_view needle, size_t start = 0) const {
    size_t i = text.find(needle, pos + start);
    return i == std::string_view::npos ? i : i - pos;
  }
  std::string_view consume(size_t count) {
    std::string_view s = text.substr(pos, count);
    line += static_cast<int>(std::count(s.begin(), s.end(), '\n'));
    pos += s.size();
    return s;
  }
  char at(size_t i) const { return text[pos + i]; }
  [[noreturn]] void fail(std::string msg, int at_line) const { throw ParseError(std::move(msg), name, at_line); }
};

std::string_view strip(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string strip_quotes(std::string_view s) {
  s = strip(s);
  while (!s.empty() && s.front() == '"') s.remove_prefix(1);
  while (!s.empty() && s.back() == '"') s.remove_suffix(1);
  while (!s.empty() && s.front() == '\'') s.remove_prefix(1);
  while (!s.empty() && s.back() == '\'') s.remove_suffix(1);
  return std::string(s);
}

// Tornado's _parse: returns at {% end %} when `in_block` is set, else at EOF.
void parse_body(Reader& r, std::string& autoescape, std::vector<Chunk>& body,
                std::string_view in_block, std::string_view in_loop, int depth, int block_line) {
  if (depth > kMaxNesting) r.fail("blocks nested too deeply", block_line);
  while (true) {
    size_t curly = 0;
    while (true) {
      curly = r.find("{", curly);
      if (curly == std::string_view::npos || curly + 1 == r.remaining()) {
        if (!in_block.empty())
          r.fail(absl::StrCat("Missing {% end %} block for ", std::string(in_block)), block_line);
        Chunk t;
        t.text = std::string(r.consume(r.remaining()));
        t.line = r.line;
        t.whitespace = r.whitespace;
        body.push_back(std::move(t));
        return;
      }
      const char next = r.at(curly + 1);
      if (next != '{' && next != '%' && next != '#') {
        ++curly;
        continue;
      }
      if (curly + 2 < r.remaining() && next == '{' && r.at(curly + 2) == '{') {
        ++curly;
        continue;
      }
      break;
    }
    if (curly > 0) {
      Chunk t;
      t.text = std::string(r.consume(curly));
      t.line = r.line;
      t.whitespace = r.whitespace;
      body.push_back(std::move(t));
    }
    const std::string start_brace(r.consume(2));
    const int line = r.line;
    if (r.remaining() && r.at(0) == '!') {
      r.consume(1);
      Chunk t;
      t.text = start_brace;
      t.line = line;
      t.whitespace = r.whitespace;
      body.push_back(std::move(t));
      continue;
    }
    if (start_brace == "{#") {
      size_t end = r.find("#}");
      if (end == std::string_view::npos) r.fail("Missing end comment #}", line);
      r.consume(end + 2);
      continue;
    }
    if (start_brace == "{{") {
      size_t end = r.find("}}");
      if (end == std::string_view::npos) r.fail("Missing end expression }}", line);
      std::string contents(strip(r.consume(end)));
      r.consume(2);
      if (contents.empty()) r.fail("Empty expression", line);
      Chunk c;
      c.kind = Chunk::Kind::kExpr;
      c.text = std::move(contents);
      c.line = line;
      body.push_back(std::move(c));
      continue;
    }
    size_t end = r.find("%}");
    if (end == std::string_view::npos) r.fail("Missing end block %}", line);
    std::string contents(strip(r.consume(end)));
    r.consume(2);
    if (contents.empty()) r.fail("Empty block tag ({% %})", line);
    size_t sp = 0;
    while (sp < contents.size() && !absl::ascii_isspace(static_cast<unsigned char>(contents[sp]))) ++sp;
    const std::string op = contents.substr(0, sp);
    const std::string suffix(strip(std::string_view(contents).substr(sp)));

    if (op == "else" || op == "elif" || op == "except" || op == "finally") {
      static const std::map<std::string, std::vector<std::string>> kParents = {
          {"else", {"if", "for", "while", "try"}},
          {"elif", {"if"}},
          {"except", {"try"}},
          {"finally", {"try"}},
      };
      const auto& allowed = kParents.at(op);
      if (in_block.empty())
        r.fail(absl::StrCat(op, " outside ", absl::StrJoin(allowed, "/"), " block"), line);
      if (std::find(allowed.begin(), allowed.end(), in_block) == allowed.end())
        r.fail(absl::StrCat(op, " block cannot be attached to ", std::string(in_block), " block"), line);
      Chunk c;
      c.kind = Chunk::Kind::kIntermediate;
      c.op = op;
      c.text = suffix;
      c.line = line;
      body.push_back(std::move(c));
      continue;
    }
    if (op == "end") {
      if (in_block.empty()) r.fail("Extra {% end %} block", line);
      return;
    }
    if (op == "comment") continue;
    if (op == "import" || op == "from")
      r.fail(absl::StrCat("{% ", op,
                          " %} is not supported: register functions and values on the "
                          "Loader's namespace instead"),
             line);
    if (op == "autoescape") {
      autoescape = suffix == "None" ? "" : suffix;
      continue;
    }
    if (op == "whitespace") {
      if (suffix != "all" && suffix != "single" && suffix != "oneline")
        r.fail(absl::StrCat("invalid whitespace mode ", suffix), line);
      r.whitespace = suffix;
      continue;
    }
    Chunk c;
    c.line = line;
    c.text = suffix;
    c.op = op;
    if (op == "extends" || op == "include") {
      c.text = strip_quotes(suffix);
      if (c.text.empty()) r.fail(absl::StrCat(op, " missing file path"), line);
      c.kind = op == "extends" ? Chunk::Kind::kExtends : Chunk::Kind::kInclude;
    } else if (op == "set") {
      if (suffix.empty()) r.fail("set missing statement", line);
      c.kind = Chunk::Kind::kSet;
    } else if (op == "raw") {
      if (suffix.empty()) r.fail("raw missing expression", line);
      c.kind = Chunk::Kind::kRaw;
    } else if (op == "module") {
      if (suffix.empty()) r.fail("module missing expression", line);
      c.kind = Chunk::Kind::kModule;
    } else if (op == "apply" || op == "block" || op == "try" || op == "if" || op == "for" ||
               op == "while") {
      std::string_view loop = op == "for" || op == "while" ? std::string_view(op)
                              : op == "apply"             ? std::string_view()
                                                          : in_loop;
      parse_body(r, autoescape, c.body, op, loop, depth + 1, line);
      if (op == "apply") {
        if (suffix.empty()) r.fail("apply missing method name", line);
        c.kind = Chunk::Kind::kApply;
      } else if (op == "block") {
        c.text = strip_quotes(suffix);
        if (c.text.empty()) r.fail("block missing name", line);
        c.kind = Chunk::Kind::kBlock;
      } else {
        if ((op == "if" || op == "for" || op == "while") && suffix.empty())
          r.fail(absl::StrCat(op, " missing expression"), line);
        c.kind = Chunk::Kind::kControl;
      }
    } else if (op == "break" || op == "continue") {
      if (in_loop.empty()) r.fail(absl::StrCat(op, " outside for/while block"), line);
      c.kind = op == "break" ? Chunk::Kind::kBreak : Chunk::Kind::kContinue;
    } else {
      r.fail(absl::StrCat("unknown operator: '", op, "'"), line);
    }
    body.push_back(std::move(c));
  }
}

}  // namespace

void Template::parse(std::string_view source) {
  Reader r{source, name_, 0, 1, whitespace_};
  parse_body(r, autoescape_, file_, "", "", 0, 1);
}

// ---------------------------------------------------------------- compiler

struct Compiler {
  Compiler(BaseLoader* l, Template& t) : loader(l), self(t), current(&t) {}
  BaseLoader* loader;
  Template& self;
  std::map<std::string, std::pair<const Chunk*, const Template*>> named_blocks;
  std::vector<std::pair<const Template*, int>> include_stack;
  const Template* current = nullptr;
  int depth = 0;
  size_t nodes = 0;
  std::vector<std::shared_ptr<const Template>> keep;  // templates whose chunks we read

  [[noreturn]] void fail(const std::string& msg, int line) const {
    throw ParseError(msg, current->name_, line);
  }

  std::shared_ptr<const Template> load(const std::string& name, int line) {
    if (!loader) fail(absl::StrCat("{% include %} or {% extends %} of '", name, "' without a template loader"), line);
    try {
      auto t = loader->load(name, current->name_);
      keep.push_back(t);
      return t;
    } catch (const ParseError& e) {
      if (e.lineno() == 0 && e.filename() == current->name_) fail(e.message(), line);
      throw;
    }
  }

  std::shared_ptr<const Loc> loc(int line) {
    if (!last_loc || last_loc->line != line || last_loc->filename != current->name_ ||
        last_stack != include_stack) {
      auto l = std::make_shared<Loc>();
      l->filename = current->name_;
      l->line = line;
      std::vector<std::string> via;
      for (auto it = include_stack.rbegin(); it != include_stack.rend(); ++it)
        via.push_back(absl::StrCat(it->first->name_, ":", it->second));
      l->via = absl::StrJoin(via, ", ");
      last_loc = l;
      last_stack = include_stack;
    }
    return last_loc;
  }
  std::shared_ptr<const Loc> last_loc;
  std::vector<std::pair<const Template*, int>> last_stack;

  std::unique_ptr<Expr> expr(const std::string& src, int line) {
    auto e = parse_expression(src, self.slots_);
    if (!e.ok()) fail(absl::StrCat("invalid expression '", src, "': ", e.status().message()), line);
    return std::move(*e);
  }

  std::set<const Chunk*> scanned_includes;  // each include is scanned once (no blow-up)

  void find_named_blocks(const Template* t, const std::vector<Chunk>& body, int d) {
    if (d > kMaxNesting) throw ParseError("includes nested too deeply", t->name_, 0);
    for (const Chunk& c : body) {
      if (c.kind == Chunk::Kind::kBlock) named_blocks[c.text] = {&c, t};
      if (c.kind == Chunk::Kind::kInclude && scanned_includes.insert(&c).second) {
        const Template* saved = current;
        current = t;
        auto inc = load(c.text, c.line);
        current = saved;
        find_named_blocks(inc.get(), inc->file_, d + 1);
      }
      find_named_blocks(t, c.body, d + 1);
    }
  }

  Node& add(std::vector<Node>& out, Node::Kind kind, int line) {
    if (++nodes > kMaxNodes) fail("template too large (after includes)", line);
    out.emplace_back();
    Node& n = out.back();
    n.kind = kind;
    n.loc = loc(line);
    return n;
  }

  void output_expr(std::vector<Node>& out, const std::string& src, int line, bool raw) {
    Node& n = add(out, Node::Kind::kExpr, line);
    n.exprs.push_back(expr(src, line));
    n.raw = raw || current->autoescape_.empty();
    if (!n.raw) {
      n.escape_slot = self.slots_.slot(current->autoescape_);
      n.fast_escape = current->autoescape_ == "xhtml_escape";
    }
  }

  void gen(const std::vector<Chunk>& body, std::vector<Node>& out) {
    if (++depth > kMaxNesting) fail("blocks and includes nested too deeply", body.empty() ? 0 : body[0].line);
    for (const Chunk& c : body) gen_chunk(c, out);
    --depth;
  }

  // Splits a control block's body at its intermediate chunks ({% else %}, ...).
  static std::vector<std::pair<const Chunk*, std::vector<const Chunk*>>> segments(const Chunk& c) {
    std::vector<std::pair<const Chunk*, std::vector<const Chunk*>>> segs;
    segs.push_back({&c, {}});
    for (const Chunk& k : c.body) {
      if (k.kind == Chunk::Kind::kIntermediate) segs.push_back({&k, {}});
      else segs.back().second.push_back(&k);
    }
    return segs;
  }

  std::vector<Node> gen_list(const std::vector<const Chunk*>& chunks) {
    std::vector<Node> out;
    if (++depth > kMaxNesting) fail("blocks and includes nested too deeply", chunks.empty() ? 0 : chunks[0]->line);
    for (const Chunk* k : chunks) gen_chunk(*k, out);
    --depth;
    return out;
  }

  void gen_control(const Chunk& c, std::vector<Node>& out) {
    auto segs = segments(c);
    auto bad = [&](const Chunk* k) {
      fail(absl::StrCat("{% ", k->op, " %} not allowed here in {% ", c.op, " %} block"), k->line);
    };
    if (c.op == "if") {
      Node& n = add(out, Node::Kind::kIf, c.line);
      for (size_t i = 0; i < segs.size(); ++i) {
        const Chunk* k = segs[i].first;
        if (i == 0 || k->op == "elif") {
          if (n.has_else) bad(k);
          if (k->text.empty()) fail("elif missing expression", k->line);
          n.exprs.push_back(expr(k->text, k->line));
        } else if (k->op == "else") {
          if (n.has_else) bad(k);
          n.has_else = true;
        }
        n.bodies.push_back(gen_list(segs[i].second));
      }
      return;
    }
    if (c.op == "for" || c.op == "while") {
      Node& n = add(out, c.op == "for" ? Node::Kind::kFor : Node::Kind::kWhile, c.line);
      if (c.op == "for") {
        auto toks = tokenize(c.text);
        if (!toks.ok()) fail(absl::StrCat("invalid for loop: ", toks.status().message()), c.line);
        ExprParser p(std::move(*toks), self.slots_);
        auto targets = p.parse_targets();
        if (!targets.ok()) fail(absl::StrCat("invalid for loop: ", targets.status().message()), c.line);
        if (!p.accept_name("in")) fail("invalid for loop: expected 'in'", c.line);
        auto it = p.parse_expression(true);
        if (!it.ok()) fail(absl::StrCat("invalid for loop: ", it.status().message()), c.line);
        if (!p.at_end()) fail("invalid for loop: unexpected text after the iterable", c.line);
        n.targets = std::move(*targets);
        const Expr& ie = **it;
        if (n.targets.size() == 2 && ie.op == Expr::Op::kCall && ie.kwnames.empty() &&
            (ie.kids.size() == 2 || ie.kids.size() == 3) && ie.kids[0]->op == Expr::Op::kName &&
            self.slots_.names()[ie.kids[0]->slot] == "enumerate")
          n.enumerate_slot = ie.kids[0]->slot;
        n.exprs.push_back(std::move(*it));
      } else {
        n.exprs.push_back(expr(c.text, c.line));
      }
      if (segs.size() > 2) bad(segs[2].first);
      n.bodies.push_back(gen_list(segs[0].second));
      if (segs.size() == 2) {
        n.has_else = true;
        n.bodies.push_back(gen_list(segs[1].second));
      }
      return;
    }
    if (c.op == "try") {
      if (!c.text.empty()) fail("try takes no arguments", c.line);
      Node& n = add(out, Node::Kind::kTry, c.line);
      n.bodies.push_back(gen_list(segs[0].second));
      std::vector<Node> else_body, finally_body;
      for (size_t i = 1; i < segs.size(); ++i) {
        const Chunk* k = segs[i].first;
        if (k->op == "except") {
          if (n.has_else || n.has_finally) bad(k);
          Handler h;
          auto toks = tokenize(k->text);
          if (!toks.ok()) fail(absl::StrCat("invalid except: ", toks.status().message()), k->line);
          ExprParser p(std::move(*toks), self.slots_);
          if (!p.at_end()) {
            auto kinds = p.parse_targets();  // names, optionally parenthesized
            if (!kinds.ok()) fail("invalid except: expected exception names", k->line);
            for (int s : *kinds) h.kinds.push_back(self.slots_.names()[s]);
            if (p.accept_name("as")) {
              auto as = p.parse_targets();
              if (!as.ok() || as->size() != 1) fail("invalid except: expected a name after 'as'", k->line);
              h.as_slot = (*as)[0];
            }
            if (!p.at_end()) fail("invalid except clause", k->line);
          }
          h.body = gen_list(segs[i].second);
          n.handlers.push_back(std::move(h));
        } else if (k->op == "else") {
          if (n.handlers.empty() || n.has_else || n.has_finally) bad(k);
          n.has_else = true;
          else_body = gen_list(segs[i].second);
        } else if (k->op == "finally") {
          if (n.has_finally) bad(k);
          n.has_finally = true;
          finally_body = gen_list(segs[i].second);
        }
      }
      if (n.handlers.empty() && !n.has_finally) fail("try without except or finally", c.line);
      n.bodies.push_back(std::move(else_body));
      n.bodies.push_back(std::move(finally_body));
      return;
    }
    fail(absl::StrCat("unknown operator: '", c.op, "'"), c.line);
  }

  void gen_set(const Chunk& c, std::vector<Node>& out) {
    auto toks = tokenize(c.text);
    if (!toks.ok()) fail(absl::StrCat("invalid set statement: ", toks.status().message()), c.line);
    // An assignment has '=' (or an augmented operator) outside brackets.
    int level = 0;
    std::string assign;
    for (const Token& t : *toks) {
      if (t.kind != Token::Kind::kOp) continue;
      if (t.text == "(" || t.text == "[" || t.text == "{") ++level;
      else if (t.text == ")" || t.text == "]" || t.text == "}") --level;
      else if (level == 0 && (t.text == "=" || (t.text.size() >= 2 && t.text.back() == '=' &&
                                               t.text != "==" && t.text != "!=" &&
                                               t.text != "<=" && t.text != ">="))) {
        assign = t.text;
        break;
      }
    }
    ExprParser p(std::move(*toks), self.slots_);
    if (assign.empty()) {
      Node& n = add(out, Node::Kind::kStmt, c.line);
      auto e = p.parse_expression(true);
      if (!e.ok() || !p.at_end()) fail(absl::StrCat("invalid set statement '", c.text, "'"), c.line);
      n.exprs.push_back(std::move(*e));
      return;
    }
    Node& n = add(out, Node::Kind::kSet, c.line);
    auto targets = p.parse_targets();
    if (!targets.ok() || !p.accept_op(assign))
      fail(absl::StrCat("invalid set statement '", c.text, "': bad assignment target"), c.line);
    if (assign != "=") {
      if (targets->size() != 1) fail("augmented assignment needs one target", c.line);
      static const std::map<std::string, Expr::Op> kAug = {
          {"+=", Expr::Op::kAdd}, {"-=", Expr::Op::kSub}, {"*=", Expr::Op::kMul},
          {"/=", Expr::Op::kDiv}, {"//=", Expr::Op::kFloorDiv}, {"%=", Expr::Op::kMod},
          {"**=", Expr::Op::kPow}};
      n.aug = kAug.at(assign);
    }
    auto e = p.parse_expression(true);
    if (!e.ok() || !p.at_end()) fail(absl::StrCat("invalid set statement '", c.text, "'"), c.line);
    n.targets = std::move(*targets);
    n.exprs.push_back(std::move(*e));
  }

  void gen_chunk(const Chunk& c, std::vector<Node>& out) {
    switch (c.kind) {
      case Chunk::Kind::kText: {
        std::string v = c.text.find("<pre>") == std::string::npos
                            ? filter_whitespace(c.whitespace, c.text)
                            : c.text;
        if (v.empty()) return;
        if (!out.empty() && out.back().kind == Node::Kind::kText) {
          out.back().text += v;  // adjacent text (e.g. around an include) merges
          return;
        }
        add(out, Node::Kind::kText, c.line).text = std::move(v);
        return;
      }
      case Chunk::Kind::kExpr:
        output_expr(out, c.text, c.line, false);
        return;
      case Chunk::Kind::kRaw:
        output_expr(out, c.text, c.line, true);
        return;
      case Chunk::Kind::kModule:
        output_expr(out, "_tt_modules." + c.text, c.line, true);
        return;
      case Chunk::Kind::kSet:
        gen_set(c, out);
        return;
      case Chunk::Kind::kBreak:
        add(out, Node::Kind::kBreak, c.line);
        return;
      case Chunk::Kind::kContinue:
        add(out, Node::Kind::kContinue, c.line);
        return;
      case Chunk::Kind::kControl:
        gen_control(c, out);
        return;
      case Chunk::Kind::kIntermediate:
        fail(absl::StrCat("{% ", c.op, " %} outside its block"), c.line);
      case Chunk::Kind::kApply: {
        Node& n = add(out, Node::Kind::kApply, c.line);
        n.exprs.push_back(expr(c.text, c.line));
        std::vector<Node> body;
        gen(c.body, body);
        n.bodies.push_back(std::move(body));
        return;
      }
      case Chunk::Kind::kBlock: {
        auto it = named_blocks.find(c.text);
        const Chunk* block = it == named_blocks.end() ? &c : it->second.first;
        const Template* owner = it == named_blocks.end() ? current : it->second.second;
        include_stack.emplace_back(current, c.line);
        const Template* saved = current;
        current = owner;
        gen(block->body, out);
        current = saved;
        include_stack.pop_back();
        return;
      }
      case Chunk::Kind::kExtends:
        return;
      case Chunk::Kind::kInclude: {
        auto inc = load(c.text, c.line);
        if (nodes + inc->node_count_ > kMaxNodes) fail("template too large (after includes)", c.line);
        include_stack.emplace_back(current, c.line);
        const Template* saved = current;
        current = inc.get();
        gen(inc->file_, out);
        current = saved;
        include_stack.pop_back();
        return;
      }
    }
  }
};

void Template::compile(BaseLoader* loader) {
  Compiler comp(loader, *this);
  comp.current = this;
  // Ancestors: the templates named by top-level {% extends %}, then theirs.
  for (const Chunk& c : file_) {
    if (c.kind != Chunk::Kind::kExtends) continue;
    if (!loader) throw ParseError("{% extends %} block found, but no template loader", name_, c.line);
    auto parent = comp.load(c.text, c.line);
    ancestors_.push_back(parent);
    for (auto& a : parent->ancestors_) ancestors_.push_back(a);
  }
  std::vector<const Template*> chain = {this};
  for (auto& a : ancestors_) chain.push_back(a.get());
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    comp.current = *it;
    comp.find_named_blocks(*it, (*it)->file_, 0);
  }
  comp.current = chain.back();
  comp.gen(chain.back()->file_, root_);
  node_count_ = comp.nodes;

  // Slots start as the loader namespace, then the builtins; names in neither are
  // undefined until generate() or {% set %} gives them a value.
  const Namespace* lns = loader ? &loader->options().namespace_ : nullptr;
  const Namespace& bns = builtins();
  base_slots_.reserve(slots_.names().size());
  for (const std::string& n : slots_.names()) {
    if (lns) {
      auto it = lns->find(n);
      if (it != lns->end()) {
        base_slots_.push_back(it->second.borrow());
        continue;
      }
    }
    auto it = bns.find(n);
    base_slots_.push_back(it != bns.end() ? it->second : Value::undefined());
  }
  escape_overridden_ = lns && lns->contains("xhtml_escape");
}

Template::Template(std::string_view source, std::string name, BaseLoader* loader,
                   TemplateOptions options)
    : name_(std::move(name)) {
  if (options.autoescape) autoescape_ = *options.autoescape;
  else if (loader) autoescape_ = loader->options().autoescape;
  else autoescape_ = "xhtml_escape";
  if (options.whitespace) whitespace_ = *options.whitespace;
  else if (loader && loader->options().whitespace) whitespace_ = *loader->options().whitespace;
  else whitespace_ = absl::EndsWith(name_, ".html") || absl::EndsWith(name_, ".js") ? "single" : "all";
  if (whitespace_ != "all" && whitespace_ != "single" && whitespace_ != "oneline")
    throw ParseError(absl::StrCat("invalid whitespace mode ", whitespace_), name_, 0);
  parse(source);
  compile(loader);
}

Template::~Template() = default;

absl::StatusOr<std::shared_ptr<const Template>> Template::create(std::string_view source,
                                                                 std::string name,
                                                                 BaseLoader* loader,
                                                                 TemplateOptions options) {
  try {
    return std::shared_ptr<const Template>(
        std::make_shared<Template>(source, std::move(name), loader, std::move(options)));
  } catch (const ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
}

// ---------------------------------------------------------------- rendering

namespace {

enum class Flow { kNormal, kBreak, kContinue };

struct Ctx {
  Frame frame;
  std::string* out;
  bool escape_overridden;
};

Flow exec_body(const std::vector<Node>& body, Ctx& ctx);

void assign(Ctx& ctx, const std::vector<int>& targets, Value v) {
  if (targets.size() == 1) {
    v.share();
    ctx.frame.slots[targets[0]] = std::move(v);
    return;
  }
  v.share();
  if (!v.is_json() || !v.data().is_array())
    throw TemplateError("TypeError", absl::StrCat("cannot unpack non-sequence ", v.type_name()));
  const json& arr = v.data();
  if (arr.size() != targets.size())
    throw TemplateError("ValueError", absl::StrCat("expected ", targets.size(),
                                                   " values to unpack, got ", arr.size()));
  for (size_t i = 0; i < targets.size(); ++i) ctx.frame.slots[targets[i]] = v.child(arr[i]);
}

// Condition of if/while: evaluated in place, no Value copies.
bool test(const Expr& e, Ctx& ctx) { return eval_truth(e, ctx.frame); }

void output(const Node& n, Ctx& ctx) {
  std::string& out = *ctx.out;
  if (n.raw || (n.fast_escape && !ctx.escape_overridden)) {
    // The common case: the value is borrowed data, escaped straight into the output.
    append_value(out, *n.exprs[0], ctx.frame, !n.raw);
    return;
  }
  Value v = eval(*n.exprs[0], ctx.frame);
  const Value& fn = ctx.frame.slots[n.escape_slot];
  if (fn.is_undefined())
    throw TemplateError("NameError", absl::StrCat("name '", (*ctx.frame.names)[n.escape_slot],
                                                  "' is not defined"));
  CallArgs a;
  a.args.push_back(v.is_string() ? v : Value(v.str()));
  call_value(fn, a).append_str(out);
}

bool handler_matches(const Handler& h, const std::string& kind) {
  if (h.kinds.empty()) return true;
  for (const std::string& k : h.kinds) {
    if (k == kind || k == "Exception" || k == "BaseException") return true;
    if (k == "ArithmeticError" && (kind == "ZeroDivisionError" || kind == "OverflowError")) return true;
    if (k == "LookupError" && (kind == "KeyError" || kind == "IndexError")) return true;
  }
  return false;
}

Flow exec_try(const Node& n, Ctx& ctx) {
  Flow r = Flow::kNormal;
  std::exception_ptr pending;
  std::exception_ptr raised;
  try {
    r = exec_body(n.bodies[0], ctx);
  } catch (...) {
    raised = std::current_exception();
  }
  if (raised) {
    std::string kind = "Exception", msg;
    try {
      std::rethrow_exception(raised);
    } catch (const TemplateError& e) {
      kind = e.kind();
      msg = e.message();
    } catch (const std::exception& e) {
      msg = e.what();
    } catch (...) {
      msg = "unknown exception";
    }
    const Handler* h = nullptr;
    for (const Handler& c : n.handlers)
      if (handler_matches(c, kind)) {
        h = &c;
        break;
      }
    if (h) {
      try {
        if (h->as_slot >= 0) ctx.frame.slots[h->as_slot] = Value(msg);
        r = exec_body(h->body, ctx);
      } catch (...) {
        pending = std::current_exception();
      }
    } else {
      pending = raised;
    }
  } else if (n.has_else) {
    try {
      r = exec_body(n.bodies[1], ctx);
    } catch (...) {
      pending = std::current_exception();
    }
  }
  if (n.has_finally) {
    Flow f = exec_body(n.bodies[2], ctx);
    if (f != Flow::kNormal) return f;
  }
  if (pending) std::rethrow_exception(pending);
  return r;
}

Flow exec_node(const Node& n, Ctx& ctx) {
  switch (n.kind) {
    case Node::Kind::kText:
      ctx.out->append(n.text);
      return Flow::kNormal;
    case Node::Kind::kExpr:
      output(n, ctx);
      return Flow::kNormal;
    case Node::Kind::kIf:
      for (size_t i = 0; i < n.exprs.size(); ++i)
        if (test(*n.exprs[i], ctx)) return exec_body(n.bodies[i], ctx);
      if (n.has_else) return exec_body(n.bodies.back(), ctx);
      return Flow::kNormal;
    case Node::Kind::kFor: {
      if (n.enumerate_slot >= 0) {
        // `for i, x in enumerate(xs)` without building the list of pairs, as long as
        // `enumerate` is still the builtin.
        static const Function* builtin = &builtins().at("enumerate").func();
        const Value& fn = ctx.frame.slots[n.enumerate_slot];
        const Expr& call = *n.exprs[0];
        if (fn.is_function() && &fn.func() == builtin) {
          Value seq = eval(*call.kids[1], ctx.frame);
          seq.share();
          if (seq.is_json() && seq.data().is_array()) {
            int64_t i = 0;
            if (call.kids.size() == 3) {
              Value start = eval(*call.kids[2], ctx.frame);
              if (!start.is_json() || !start.data().is_number_integer())
                throw TemplateError("TypeError", "enumerate() start must be an integer");
              i = start.data().get<int64_t>();
            }
            bool broke = false;
            for (const json& e : seq.data()) {
              ctx.frame.slots[n.targets[0]] = Value(i++);
              ctx.frame.slots[n.targets[1]] = seq.child(e);
              if (exec_body(n.bodies[0], ctx) == Flow::kBreak) {
                broke = true;
                break;
              }
            }
            if (!broke && n.has_else) return exec_body(n.bodies[1], ctx);
            return Flow::kNormal;
          }
        }
      }
      Value seq = eval(*n.exprs[0], ctx.frame);
      seq.share();
      bool broke = false;
      auto step = [&](Value e) {
        assign(ctx, n.targets, std::move(e));
        if (exec_body(n.bodies[0], ctx) == Flow::kBreak) {
          broke = true;
          return false;
        }
        return true;
      };
      if (seq.is_json() && seq.data().is_array()) {
        for (const json& e : seq.data())
          if (!step(seq.child(e))) break;
      } else {
        iterate(seq, step);
      }
      if (!broke && n.has_else) return exec_body(n.bodies[1], ctx);
      return Flow::kNormal;
    }
    case Node::Kind::kWhile: {
      while (test(*n.exprs[0], ctx)) {
        if (exec_body(n.bodies[0], ctx) == Flow::kBreak) return Flow::kNormal;
      }
      if (n.has_else) return exec_body(n.bodies[1], ctx);
      return Flow::kNormal;
    }
    case Node::Kind::kTry:
      return exec_try(n, ctx);
    case Node::Kind::kSet: {
      Value v = eval(*n.exprs[0], ctx.frame);
      if (n.aug != Expr::Op::kConst) {
        const Value& cur = ctx.frame.slots[n.targets[0]];
        if (cur.is_undefined())
          throw TemplateError("NameError", absl::StrCat("name '", (*ctx.frame.names)[n.targets[0]],
                                                        "' is not defined"));
        v = binary_op(n.aug, cur, v);
      }
      assign(ctx, n.targets, std::move(v));
      return Flow::kNormal;
    }
    case Node::Kind::kStmt:
      eval(*n.exprs[0], ctx.frame);
      return Flow::kNormal;
    case Node::Kind::kBreak:
      return Flow::kBreak;
    case Node::Kind::kContinue:
      return Flow::kContinue;
    case Node::Kind::kApply: {
      Value fn = eval(*n.exprs[0], ctx.frame);
      std::string inner;
      std::string* saved = ctx.out;
      ctx.out = &inner;
      try {
        exec_body(n.bodies[0], ctx);
      } catch (...) {
        ctx.out = saved;
        throw;
      }
      ctx.out = saved;
      CallArgs a;
      a.args.emplace_back(std::move(inner));
      call_value(fn, a).append_str(*ctx.out);
      return Flow::kNormal;
    }
  }
  return Flow::kNormal;
}

Flow exec_body(const std::vector<Node>& body, Ctx& ctx) {
  for (const Node& n : body) {
    Flow f;
    try {
      f = exec_node(n, ctx);
    } catch (const TemplateError& e) {
      if (!e.filename().empty()) throw;
      throw TemplateError(e.kind(), e.message(), n.loc->filename, n.loc->line, n.loc->via);
    }
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

}  // namespace

void Template::generate_to(std::string& out, const Namespace& ns) const {
  Ctx ctx{Frame{base_slots_, &slots_.names()}, &out, escape_overridden_};
  for (const auto& [k, v] : ns) {
    const int s = slots_.find(k);
    if (s >= 0) ctx.frame.slots[s] = v.borrow();
    if (k == "xhtml_escape") ctx.escape_overridden = true;
  }
  exec_body(root_, ctx);
}

std::string Template::generate(const Namespace& ns) const {
  std::string out;
  out.reserve(size_hint_.load(std::memory_order_relaxed));
  generate_to(out, ns);
  size_hint_.store(out.size(), std::memory_order_relaxed);
  return out;
}

// ---------------------------------------------------------------- loaders

BaseLoader::BaseLoader(Options options) : options_(std::move(options)) {}
BaseLoader::~BaseLoader() = default;

std::shared_ptr<const Template> BaseLoader::load(std::string_view name,
                                                 std::string_view parent_path) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string resolved = resolve_path(name, parent_path);
  if (auto it = templates_.find(resolved); it != templates_.end()) return it->second;
  const std::string parent(parent_path.empty() ? resolved : std::string(parent_path));
  if (std::find(loading_.begin(), loading_.end(), resolved) != loading_.end()) {
    std::vector<std::string> cycle(
        std::find(loading_.begin(), loading_.end(), resolved), loading_.end());
    cycle.push_back(resolved);
    throw ParseError(absl::StrCat("include/extends cycle: ", absl::StrJoin(cycle, " -> ")), parent, 0);
  }
  if (loading_.size() >= static_cast<size_t>(kMaxNesting))
    throw ParseError("templates nested too deeply", parent, 0);
  std::optional<std::string> source = read_source(resolved);
  if (!source)
    throw ParseError(absl::StrCat("template not found: ", resolved), parent, 0);
  loading_.push_back(resolved);
  try {
    auto t = std::make_shared<const Template>(*source, resolved, this);
    loading_.pop_back();
    templates_[resolved] = t;
    return t;
  } catch (...) {
    loading_.pop_back();
    throw;
  }
}

void BaseLoader::reset() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  templates_.clear();
}

namespace {

// posixpath.normpath for relative names: drops ".", resolves "..".
std::string normpath(std::string_view p) {
  std::vector<std::string> parts;
  const bool abs = p.starts_with("/");
  for (absl::string_view s : absl::StrSplit(absl::string_view(p.data(), p.size()), '/')) {
    if (s.empty() || s == ".") continue;
    if (s == "..") {
      if (!parts.empty() && parts.back() != "..") parts.pop_back();
      else if (!abs) parts.emplace_back("..");
      continue;
    }
    parts.emplace_back(std::string(s));
  }
  std::string out = (abs ? "/" : "") + absl::StrJoin(parts, "/");
  return out.empty() ? "." : out;
}

std::string dir_of(std::string_view p) {
  size_t i = p.rfind('/');
  return i == std::string_view::npos ? std::string() : std::string(p.substr(0, i));
}

bool relative_to_parent(std::string_view name, std::string_view parent) {
  return !parent.empty() && !parent.starts_with("<") && !parent.starts_with("/") &&
         !name.starts_with("/");
}

}  // namespace

Loader::Loader(std::string root_directory, Options options)
    : BaseLoader(std::move(options)),
      root_(std::filesystem::absolute(root_directory).lexically_normal().string()) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string Loader::resolve_path(std::string_view name, std::string_view parent_path) const {
  if (relative_to_parent(name, parent_path)) {
    std::string joined = normpath(absl::StrCat(root_, "/", dir_of(parent_path), "/", std::string(name)));
    if (absl::StartsWith(joined, root_ + "/")) return joined.substr(root_.size() + 1);
  }
  return std::string(name);
}

std::optional<std::string> Loader::read_source(const std::string& name) {
  // Like Tornado, names are paths under the root; "../" escapes are refused.
  std::string path = normpath(absl::StrCat(root_, "/", name));
  if (!absl::StartsWith(path, root_ + "/")) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

DictLoader::DictLoader(std::map<std::string, std::string> templates, Options options)
    : BaseLoader(std::move(options)), dict_(std::move(templates)) {}

std::string DictLoader::resolve_path(std::string_view name, std::string_view parent_path) const {
  if (relative_to_parent(name, parent_path)) {
    std::string dir = dir_of(parent_path);
    return normpath(dir.empty() ? std::string(name) : absl::StrCat(dir, "/", std::string(name)));
  }
  return std::string(name);
}

std::optional<std::string> DictLoader::read_source(const std::string& name) {
  auto it = dict_.find(name);
  if (it == dict_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tornado::template_
