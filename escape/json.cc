// json_encode (an iterative writer in Python's json.dumps format), json_decode and
// recursive_unicode.
#include "escape/json.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "escape/unicode.h"

namespace tornado::escape {
namespace {

using nlohmann::json;

// A JSON string literal, non-ASCII escaped as \uXXXX (Python's ensure_ascii).
absl::Status append_string(std::string& out, const std::string& s) {
  try {
    out += json(s).dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::strict);
  } catch (const json::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat("json_encode: string is not UTF-8: ", validate_utf8(s).message()));
  }
  return absl::OkStatus();
}

class Writer {
 public:
  absl::StatusOr<std::string> write(const json& root) {
    if (absl::Status s = open(root); !s.ok()) return s;
    while (!stack_.empty()) {
      Frame& f = stack_.back();
      if (f.it == f.node->end()) {
        out_.push_back(f.node->is_object() ? '}' : ']');
        stack_.pop_back();
        continue;
      }
      if (f.it != f.node->begin()) out_.append(", ");
      if (f.node->is_object()) {
        if (absl::Status s = append_string(out_, f.it.key()); !s.ok()) return s;
        out_.append(": ");
      }
      const json& child = *f.it;
      ++f.it;  // before open(), which may grow the stack and move `f`
      if (absl::Status s = open(child); !s.ok()) return s;
    }
    return std::move(out_);
  }

 private:
  struct Frame {
    const json* node;
    json::const_iterator it;
  };

  // Writes a scalar, or an empty container, or opens a container's frame.
  absl::Status open(const json& v) {
    switch (v.type()) {
      case json::value_t::object:
      case json::value_t::array:
        if (v.empty()) {
          out_.append(v.is_object() ? "{}" : "[]");
        } else {
          out_.push_back(v.is_object() ? '{' : '[');
          stack_.push_back(Frame{&v, v.begin()});
        }
        return absl::OkStatus();
      case json::value_t::string:
        return append_string(out_, v.get_ref<const std::string&>());
      case json::value_t::binary:
        return absl::InvalidArgumentError("json_encode: binary values (bytes) are not JSON");
      case json::value_t::discarded:
        return absl::InvalidArgumentError("json_encode: discarded value");
      case json::value_t::number_float:
        if (!std::isfinite(v.get<double>())) {
          return absl::InvalidArgumentError("json_encode: NaN and infinity are not JSON");
        }
        [[fallthrough]];
      default:  // null, booleans, numbers: nlohmann writes them as Python does
        out_.append(v.dump());
        return absl::OkStatus();
    }
  }

  std::string out_;
  std::vector<Frame> stack_;
};

}  // namespace

absl::StatusOr<std::string> json_encode(const nlohmann::json& value) {
  absl::StatusOr<std::string> out = Writer().write(value);
  if (!out.ok()) return out;
  // "</" can only occur inside string literals, where "\/" means "/".
  return absl::StrReplaceAll(*out, {{"</", "<\\/"}});
}

// The deepest nesting of arrays and objects, ignoring brackets inside strings.
int nesting_depth(std::string_view value) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

absl::StatusOr<nlohmann::json> json_decode(std::string_view value) {
  if (nesting_depth(value) > kJsonMaxDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("json_decode: nesting deeper than ", kJsonMaxDepth, " levels"));
  }
  try {
    return nlohmann::json::parse(value.begin(), value.end());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("json_decode: ", e.what()));
  }
}

absl::StatusOr<nlohmann::json> recursive_unicode(nlohmann::json value) {
  std::vector<json*> pending = {&value};
  while (!pending.empty()) {
    json* v = pending.back();
    pending.pop_back();
    if (v->is_binary()) {
      const auto& bytes = v->get_binary();
      std::string text(bytes.begin(), bytes.end());
      if (absl::Status s = validate_utf8(text); !s.ok()) return s;
      *v = std::move(text);
    } else if (v->is_string()) {
      if (absl::Status s = validate_utf8(v->get_ref<const std::string&>()); !s.ok()) return s;
    } else if (v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (absl::Status s = validate_utf8(it.key()); !s.ok()) return s;
        pending.push_back(&it.value());
      }
    } else if (v->is_array()) {
      for (json& child : *v) pending.push_back(&child);
    }
  }
  return value;
}

}  // namespace tornado::escape
