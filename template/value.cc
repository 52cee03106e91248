// Value: Python semantics over nlohmann::json, callables and objects.
#include "template/value.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tornado::template_ {

TemplateError::TemplateError(std::string kind, std::string message)
    : std::runtime_error(absl::StrCat(kind, ": ", message)),
      kind_(std::move(kind)),
      message_(std::move(message)) {}

TemplateError::TemplateError(std::string kind, std::string message, std::string filename,
                             int lineno, std::string via)
    : std::runtime_error(absl::StrCat(kind, ": ", message, " (", filename, ":", lineno,
                                      via.empty() ? "" : absl::StrCat(" via ", via), ")")),
      kind_(std::move(kind)),
      message_(std::move(message)),
      filename_(std::move(filename)),
      lineno_(lineno),
      via_(std::move(via)) {}

Value::Value(Function f) : kind_(Kind::kFunction) {
  auto fn = std::make_shared<const Function>(std::move(f));
  ptr_ = fn.get();
  holder_ = std::move(fn);
}

Value::Value(std::shared_ptr<const Object> o) : kind_(Kind::kObject), ptr_(o.get()), holder_(std::move(o)) {}

Value Value::ref(const json& j) {
  Value v;
  v.kind_ = Kind::kRef;
  v.ptr_ = &j;
  return v;
}

Value Value::child(const json& sub) const {
  if (kind_ == Kind::kRef) {
    Value v;
    v.kind_ = Kind::kRef;
    v.ptr_ = &sub;
    v.holder_ = holder_;
    return v;
  }
  return Value(json(sub));
}

void Value::share() {
  if (kind_ != Kind::kInline) return;
  auto shared = std::make_shared<const json>(std::move(inline_));
  ptr_ = shared.get();
  holder_ = std::move(shared);
  inline_ = json();
  kind_ = Kind::kRef;
}

Value Value::borrow() const {
  if (kind_ == Kind::kInline) {
    // Scalars are cheap to copy; containers are borrowed.
    if (!inline_.is_structured() && !inline_.is_string()) return *this;
    return ref(inline_);
  }
  return *this;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kFunction:
    case Kind::kObject:
      return true;
    case Kind::kUndefined:
      return false;
    default:
      return template_::truthy(data());
  }
}

bool truthy(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return false;
    case json::value_t::boolean:
      return j.get<bool>();
    case json::value_t::number_integer:
      return j.get<int64_t>() != 0;
    case json::value_t::number_unsigned:
      return j.get<uint64_t>() != 0;
    case json::value_t::number_float:
      return j.get<double>() != 0.0;
    case json::value_t::string:
      return !j.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object:
      return !j.empty();
    default:
      return true;
  }
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::kFunction:
      return "function";
    case Kind::kObject:
      return "object";
    case Kind::kUndefined:
      return "undefined";
    default:
      break;
  }
  switch (data().type()) {
    case json::value_t::null:
      return "NoneType";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "int";
    case json::value_t::number_float:
      return "float";
    case json::value_t::string:
      return "str";
    case json::value_t::array:
      return "list";
    case json::value_t::object:
      return "dict";
    default:
      return "bytes";
  }
}

void Value::append_str(std::string& out) const {
  switch (kind_) {
    case Kind::kFunction:
      out.append("<function>");
      return;
    case Kind::kObject:
      out.append(object().str());
      return;
    case Kind::kUndefined:
      out.append("<undefined>");
      return;
    default:
      template_::append_str(out, data());
  }
}

std::string Value::str() const {
  std::string out;
  append_str(out);
  return out;
}

std::string Value::repr() const {
  if (!is_json()) return str();
  std::string out;
  append_repr(out, data());
  return out;
}

void append_float(std::string& out, double d) {
  if (std::isnan(d)) {
    out.append("nan");
    return;
  }
  if (std::isinf(d)) {
    out.append(d < 0 ? "-inf" : "inf");
    return;
  }
  char buf[64];
  const double a = std::fabs(d);
  std::to_chars_result r;
  const bool fixed = a == 0.0 || (a >= 1e-4 && a < 1e16);
  r = fixed ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
            : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, r.ptr - buf);
  if (fixed) {
    out.append(s);
    if (s.find('.') == std::string_view::npos) out.append(".0");
    return;
  }
  // Python writes 1e+16 and 1.5e-05: two exponent digits at least.
  const size_t e = s.find('e');
  out.append(s.substr(0, e + 1));
  std::string_view exp = s.substr(e + 1);
  char sign = '+';
  if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) {
    sign = exp[0];
    exp.remove_prefix(1);
  }
  out.push_back(sign);
  if (exp.size() < 2) out.push_back('0');
  out.append(exp);
}

namespace {

void append_quoted(std::string& out, const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char q = has_single && !has_double ? '"' : '\'';
  out.push_back(q);
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c == static_cast<unsigned char>(q)) {
          out.push_back('\\');
          out.push_back(q);
        } else if (c < 0x20 || c == 0x7f) {
          static const char kHex[] = "0123456789abcdef";
          out.append("\\x");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back(q);
}

void append_scalar(std::string& out, const json& j) {
  char buf[32];
  switch (j.type()) {
    case json::value_t::null:
      out.append("None");
      break;
    case json::value_t::boolean:
      out.append(j.get<bool>() ? "True" : "False");
      break;
    case json::value_t::number_integer: {
      auto r = std::to_chars(buf, buf + sizeof buf, j.get<int64_t>());
      out.append(buf, r.ptr);
      break;
    }
    case json::value_t::number_unsigned: {
      auto r = std::to_chars(buf, buf + sizeof buf, j.get<uint64_t>());
      out.append(buf, r.ptr);
      break;
    }
    case json::value_t::number_float:
      append_float(out, j.get<double>());
      break;
    default:
      out.append("b''");
  }
}

}  // namespace

void append_repr(std::string& out, const json& j) {
  switch (j.type()) {
    case json::value_t::string:
      append_quoted(out, j.get_ref<const std::string&>());
      return;
    case json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const json& e : j) {
        if (!first) out.append(", ");
        first = false;
        append_repr(out, e);
      }
      out.push_back(']');
      return;
    }
    case json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out.append(", ");
        first = false;
        append_quoted(out, it.key());
        out.append(": ");
        append_repr(out, it.value());
      }
      out.push_back('}');
      return;
    }
    default:
      append_scalar(out, j);
  }
}

void append_str(std::string& out, const json& j) {
  if (j.is_string()) {
    out.append(j.get_ref<const std::string&>());
  } else {
    append_repr(out, j);
  }
}

std::optional<Value> ObjectDict::getattr(std::string_view name) const {
  auto it = attrs_.find(std::string(name));
  if (it == attrs_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tornado::template_
