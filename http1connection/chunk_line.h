// RFC 9112 7.1 chunk-size line parser (the line without its CRLF). Pure function.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace tornado::http1connection {

// chunk-size [ chunk-ext ], where
//   chunk-size = 1*HEXDIG: at most 15 significant digits (leading zeros do not count),
//                at most 64 digits in all; else "chunk size too long"
//   chunk-ext  = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
//   ext-name   = token; ext-val = token / quoted-string; BWS = *( SP / HTAB )
// Whitespace not followed by ";" (e.g. "5 ", "5;a=b ") is an error, as are an empty
// name or value, an unterminated quoted string, CTLs (HTAB only as BWS or inside
// quotes), DEL, bytes >= 0x80 outside quoted strings, CR, LF and NUL. Extensions are
// checked, then ignored. One pass, no allocation on success.
absl::StatusOr<std::uint64_t> parse_chunk_size_line(std::string_view line);

}  // namespace tornado::http1connection
