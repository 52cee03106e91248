// Value: the dynamic type template expressions compute with. A Value is JSON data
// (nlohmann::json: None, bool, int, float, str, list, dict), a callable, or an Object with
// attributes. Python semantics (truthiness, str(), repr(), comparisons) live here too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"

namespace tornado::template_ {

using json = nlohmann::json;

class Value;

// The arguments of a call from a template: positional, then keyword (in source order).
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};

// A C++ function callable from templates (a Python callable in the namespace).
using Function = std::function<Value(const CallArgs&)>;

// A C++ object whose attributes templates can read (`obj.name`, `obj.method(...)`), like a
// Python object or Tornado's ObjectDict in the namespace (e.g. `_tt_modules`).
class Object {
 public:
  virtual ~Object() = default;
  // The attribute's value, or nullopt (the template raises AttributeError).
  virtual std::optional<Value> getattr(std::string_view name) const = 0;
  // What str() and {{ obj }} print.
  virtual std::string str() const { return "<object>"; }
};

// Raised by template code at render time: a Python-style error kind ("NameError",
// "ZeroDivisionError", "TypeError", ...) and a message. Errors leaving Template::generate
// also name the template file and line (Tornado reports them in the traceback).
class TemplateError : public std::runtime_error {
 public:
  TemplateError(std::string kind, std::string message);
  TemplateError(std::string kind, std::string message, std::string filename, int lineno,
                std::string via);
  const std::string& kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // Template name and line of the failing statement ("" and 0 until located).
  const std::string& filename() const { return filename_; }
  int lineno() const { return lineno_; }
  // "b.html:1, a.html:1" when the statement was reached through includes or blocks.
  const std::string& via() const { return via_; }

 private:
  std::string kind_, message_, filename_;
  int lineno_ = 0;
  std::string via_;
};

// A dynamic template value. Copies are cheap: JSON data is shared, never deep-copied, when
// a Value is copied out of a variable, an attribute or an element.
class Value {
 public:
  Value() = default;  // None
  Value(std::nullptr_t) {}
  Value(bool b) : inline_(b) {}
  Value(int i) : inline_(static_cast<int64_t>(i)) {}
  Value(int64_t i) : inline_(i) {}
  Value(double d) : inline_(d) {}
  Value(const char* s) : inline_(s) {}
  Value(std::string s) : inline_(std::move(s)) {}
  Value(std::string_view s) : inline_(std::string(s)) {}
  Value(json j) : inline_(std::move(j)) {}
  Value(Function f);
  Value(std::shared_ptr<const Object> o);

  // A Value that borrows `j` without copying; `j` must outlive every render using it.
  static Value ref(const json& j);
  // Wraps a C++ callable (any `Value(const CallArgs&)` invocable).
  static Value function(Function f) { return Value(std::move(f)); }

  bool is_json() const { return kind_ == Kind::kInline || kind_ == Kind::kRef; }
  bool is_function() const { return kind_ == Kind::kFunction; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_string() const { return is_json() && data().is_string(); }
  bool is_none() const { return is_json() && data().is_null(); }

  // The JSON data (null for functions and objects).
  const json& data() const {
    return kind_ == Kind::kRef ? *static_cast<const json*>(ptr_) : inline_;
  }
  const Function& func() const { return *static_cast<const Function*>(ptr_); }
  const Object& object() const { return *static_cast<const Object*>(ptr_); }

  // A Value referring to `sub`, a part of this value's data, sharing its ownership.
  Value child(const json& sub) const;
  // Moves inline data to shared storage so children and copies don't deep-copy.
  void share();
  // A Value borrowing this one's data (shares ownership when this one is shared).
  Value borrow() const;

  // Python truthiness.
  bool truthy() const;
  // Python str() / repr().
  std::string str() const;
  std::string repr() const;
  // Appends str() to `out`.
  void append_str(std::string& out) const;
  // Python's type name, for error messages.
  std::string type_name() const;

  static Value undefined() {
    Value v;
    v.kind_ = Kind::kUndefined;
    return v;
  }

 private:
  enum class Kind : uint8_t { kInline, kRef, kFunction, kObject, kUndefined };
  Kind kind_ = Kind::kInline;
  json inline_;
  // One pointer and one owner for every kind keeps Value at 48 bytes, cheap to create and
  // destroy on the render path. kRef: the json; kFunction: a Function; kObject: an Object.
  const void* ptr_ = nullptr;
  std::shared_ptr<const void> holder_;  // owns *ptr_; null when borrowed (Value::ref)
};

// Names visible to a template: the keyword arguments of generate(), a Loader's namespace.
using Namespace = absl::flat_hash_map<std::string, Value>;

// An Object over a map of attributes (Tornado's ObjectDict).
class ObjectDict : public Object {
 public:
  ObjectDict() = default;
  explicit ObjectDict(Namespace attrs) : attrs_(std::move(attrs)) {}
  std::optional<Value> getattr(std::string_view name) const override;
  Namespace& attrs() { return attrs_; }

 private:
  Namespace attrs_;
};

// Python truthiness of JSON data.
bool truthy(const json& j);
// Python's repr() of JSON data ('str' quoting, True/False/None, [..], {..}).
void append_repr(std::string& out, const json& j);
// Python's str() of JSON data (strings unquoted, everything else as repr).
void append_str(std::string& out, const json& j);
// Python's repr() of a float: shortest round-trip digits, always with '.' or exponent.
void append_float(std::string& out, double d);

}  // namespace tornado::template_
