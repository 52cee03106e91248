// The template expression language: a Python subset parsed once into a tree whose names
// are resolved to slots, evaluated against a frame of slot values. Internal to the package
// (Template compiles `{{ ... }}` and directive arguments with it); tests use it directly.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "template/value.h"

namespace tornado::template_ {

// Maximum nesting of parentheses, brackets and operators in one expression.
inline constexpr int kMaxExprDepth = 100;

// Names used by a compiled template, each given a slot index in the render frame.
class SlotTable {
 public:
  int slot(std::string_view name);
  int find(std::string_view name) const;
  const std::vector<std::string>& names() const { return names_; }

 private:
  absl::flat_hash_map<std::string, int> index_;
  std::vector<std::string> names_;
};

// The per-render variables: one Value per slot.
struct Frame {
  std::vector<Value> slots;
  const std::vector<std::string>* names = nullptr;  // for NameError messages
};

struct Expr {
  enum class Op : uint8_t {
    kConst, kName, kAttr, kIndex, kSlice, kCall, kMethod, kList, kDict,
    kNeg, kPos, kNot, kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow,
    kCompare, kAnd, kOr, kIfElse,
  };
  enum class Cmp : uint8_t { kLt, kLe, kGt, kGe, kEq, kNe, kIn, kNotIn, kIs, kIsNot };
  Op op = Op::kConst;
  int slot = -1;
  std::string name;     // attribute / method name
  Value constant;       // kConst
  std::vector<std::unique_ptr<Expr>> kids;
  std::vector<std::string> kwnames;  // kCall/kMethod: names of the trailing keyword args
  std::vector<Cmp> cmps;             // kCompare: one per pair
  bool has_slice_part[3] = {false, false, false};
};

// Evaluates `e` in `frame`; throws TemplateError on Python-level errors.
Value eval(const Expr& e, Frame& frame);

// Evaluates `e` without copying where it can: returns the JSON result borrowed from the
// frame or the expression's constants, or stored in `tmp`; nullptr when the result is a
// function or an object (then it is in `tmp`). Valid until the frame changes or `tmp`
// is reassigned; for output, conditions and other immediate uses (rendering's hot path).
const json* eval_ref(const Expr& e, Frame& frame, Value& tmp);

// Python truthiness of `e`, for if/while/ternary conditions (eval_ref without copies).
bool eval_truth(const Expr& e, Frame& frame);

// Evaluates `e` and appends its str() to `out`, xhtml-escaped if `escape`: `{{ }}`
// without intermediate Values or strings in the common cases.
void append_value(std::string& out, const Expr& e, Frame& frame, bool escape);

// Tokens and parsing, shared by `{{ }}` and the directives (`for a, b in xs`, `set x = 1`).
struct Token {
  enum class Kind : uint8_t { kName, kNumber, kString, kOp, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // name / operator / decoded string
  Value number;
  size_t pos = 0;
};

absl::StatusOr<std::vector<Token>> tokenize(std::string_view src);

class ExprParser {
 public:
  ExprParser(std::vector<Token> tokens, SlotTable& slots)
      : toks_(std::move(tokens)), slots_(slots) {}
  // A full expression (Python's test, with a trailing `a, b` tuple when allowed).
  absl::StatusOr<std::unique_ptr<Expr>> parse_expression(bool allow_tuple = true);
  // `a`, `a, b`, `(a, b)`: assignment targets, returned as slots.
  absl::StatusOr<std::vector<int>> parse_targets();
  bool at_end() const { return toks_[pos_].kind == Token::Kind::kEnd; }
  bool accept_op(std::string_view op);
  bool accept_name(std::string_view name);
  const Token& peek(size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  absl::Status error(std::string_view what) const;

 private:
  using P = absl::StatusOr<std::unique_ptr<Expr>>;
  P ternary();
  P or_expr();
  P and_expr();
  P not_expr();
  P comparison();
  P arith();
  P term();
  P factor();
  P power();
  P postfix();
  P atom();
  absl::Status call_args(Expr& call);

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  SlotTable& slots_;
};

// Parses a whole string as one expression.
absl::StatusOr<std::unique_ptr<Expr>> parse_expression(std::string_view src, SlotTable& slots);

// The builtins every template sees (len, range, str, ...) and Tornado's default namespace
// (escape, xhtml_escape, url_escape, json_encode, squeeze, linkify, datetime).
const Namespace& builtins();

// Python-style helpers used by the renderer.
// Arithmetic operators (kAdd .. kPow) with Python semantics, for `{% set x += 1 %}`.
Value binary_op(Expr::Op op, const Value& a, const Value& b);
Value call_value(const Value& fn, const CallArgs& args);
// Appends `s` with &, <, >, ", ' escaped (escape::xhtml_escape, without the temporary).
void append_xhtml_escaped(std::string& out, std::string_view s);
// Iterates a value as Python's `for` does: list elements, dict keys, string characters.
// The callback returns false to stop.
void iterate(const Value& v, const std::function<bool(Value)>& fn);

}  // namespace tornado::template_
