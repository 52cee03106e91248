// UTF-8 helpers for LogFormatter (private to the log package): validation with escapes,
// and widths counted in code points as Python counts str length.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tornado::log::utf8 {

// Appends `text` to `out`, writing each byte that is not part of a well-formed UTF-8
// sequence (RFC 3629: no overlongs, surrogates or values past U+10FFFF) as "\xNN".
void append_escaping_invalid(std::string_view text, std::string& out);

// The number of code points in `text`, counting each byte that starts none as one.
size_t count_code_points(std::string_view text);

// The longest prefix of `text` with at most `limit` code points.
std::string_view truncate_code_points(std::string_view text, size_t limit);

}  // namespace tornado::log::utf8
