// JSON (tornado.escape.json_encode / json_decode / recursive_unicode) over nlohmann-json.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace tornado::escape {

// Serializes `value` as Python's json.dumps does by default (", " and ": " separators,
// non-ASCII as \uXXXX), with every "</" written "<\/" so the result can sit inside a
// <script> element. Objects come out with sorted keys (nlohmann::json keeps them
// sorted; Python keeps insertion order). InvalidArgument for strings that are not
// UTF-8, binary values (Python: bytes are not JSON serializable) and NaN / infinity
// (Python would write the non-JSON tokens NaN / Infinity). Nesting depth is limited
// only by memory: the writer does not recurse.
absl::StatusOr<std::string> json_encode(const nlohmann::json& value);

// json_decode refuses deeper nesting than this (Python's json.loads stops near its
// recursion limit of 1000 too): nlohmann::json's copy and comparison recurse, so a
// deeper value could overflow the stack of code that copies it.
inline constexpr int kJsonMaxDepth = 1000;

// Parses JSON text (Tornado's json_decode). InvalidArgument, with nlohmann's message
// giving line and column, for malformed input, invalid UTF-8, lone surrogate escapes,
// NaN / Infinity, or nesting deeper than kJsonMaxDepth. Linear time.
absl::StatusOr<nlohmann::json> json_decode(std::string_view value);

// Walks a JSON value turning binary values (nlohmann's bytes) into UTF-8 strings and
// checking every string and key is UTF-8 (Tornado's recursive_unicode, which decodes
// bytes found in dicts, lists and tuples). InvalidArgument on the first invalid one.
// Does not recurse; pass deep values by std::move (copying one recurses).
absl::StatusOr<nlohmann::json> recursive_unicode(nlohmann::json value);

}  // namespace tornado::escape
