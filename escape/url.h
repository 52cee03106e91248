// URL percent-encoding (tornado.escape.url_escape / url_unescape).
#pragma once

#include <string>
#include <string_view>

namespace tornado::escape {

// How url_unescape turns decoded bytes into its result (Tornado's `encoding` argument).
enum class Encoding {
  kUtf8,    // decode as UTF-8, invalid sequences become U+FFFD (Tornado's default)
  kLatin1,  // each decoded byte is one character U+0000-U+00FF, returned as UTF-8
  kBytes,   // return the raw bytes (Tornado's encoding=None)
};

// Percent-encodes every byte except ASCII letters, digits and "_.-~" (Tornado's
// url_escape, i.e. urllib's quote_plus / quote). With `plus` (the default, for query
// strings) a space becomes '+' and '/' is encoded; without it (for paths) a space
// becomes %20 and '/' is kept. Hex digits are upper case.
std::string url_escape(std::string_view value, bool plus = true);

// Decodes %XX escapes (either case); a '%' not followed by two hex digits stays as it
// is. With `plus` (the default) '+' means a space; literal '+' must be "%2B". Bytes of
// `value` that are not escapes are kept, and with kUtf8 / kLatin1 are taken to be UTF-8
// text (as Tornado, which decodes its input first). Linear time; never fails.
std::string url_unescape(std::string_view value, Encoding encoding = Encoding::kUtf8,
                         bool plus = true);

}  // namespace tornado::escape
