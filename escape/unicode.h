// Conversions between text and bytes (tornado.escape's utf8 / to_unicode). In C++ both
// are std::string; "text" here means valid UTF-8, which these functions guarantee.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tornado::escape {

// Encodes code points as UTF-8 (Tornado's utf8 on a str). InvalidArgument for a
// surrogate or a value above U+10FFFF, which cannot be encoded (Python's
// UnicodeEncodeError).
absl::StatusOr<std::string> utf8(std::u32string_view value);

// Encodes UTF-16 as UTF-8. InvalidArgument for an unpaired surrogate.
absl::StatusOr<std::string> utf8(std::u16string_view value);

// Checks that `value` is well-formed UTF-8 (no overlong forms, surrogates or values
// above U+10FFFF). The error reads like Python's UnicodeDecodeError:
// "'utf-8' codec can't decode byte 0xe9 in position 3: invalid continuation byte".
absl::Status validate_utf8(std::string_view value);

// Returns `value` after checking it is UTF-8 (Tornado's to_unicode on bytes; also its
// to_basestring and native_str). InvalidArgument as validate_utf8.
absl::StatusOr<std::string> to_unicode(std::string_view value);

// Decodes UTF-8 replacing each invalid sequence (each maximal ill-formed subpart) with
// U+FFFD, as Python's bytes.decode("utf-8", "replace"). Never fails.
std::string to_unicode_replace(std::string_view value);

// Appends the UTF-8 encoding of a code point to `out`. The caller passes a valid code
// point (<= U+10FFFF, not a surrogate); there is no check, so it suits inner loops.
void append_utf8(std::string& out, char32_t cp);

namespace internal {

// One step of UTF-8 decoding at value[pos]: the code point and the bytes it used, or
// on error (ok == false) the length of the maximal ill-formed subpart (>= 1).
struct Utf8Step {
  char32_t code_point;
  size_t length;
  bool ok;
  const char* error;  // Python's reason when !ok
};
Utf8Step decode_utf8_step(std::string_view value, size_t pos);

// Python's str.isspace() for one code point.
bool is_python_space(char32_t cp);

// Python's str.strip(): drops leading and trailing whitespace code points.
std::string_view strip_python_space(std::string_view value);

}  // namespace internal
}  // namespace tornado::escape
