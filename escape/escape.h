// tornado.escape: HTML, URL and JSON escaping, UTF-8 conversions, linkify and squeeze.
// This header includes the module's other headers (html.h, url.h, json.h, unicode.h,
// linkify.h) and declares squeeze.
#pragma once

#include <string>
#include <string_view>

#include "escape/html.h"
#include "escape/json.h"
#include "escape/linkify.h"
#include "escape/unicode.h"
#include "escape/url.h"

namespace tornado::escape {

// Replaces each run of characters U+0000-U+0020 with one space and strips whitespace
// (Python's str.strip, so also e.g. U+00A0) from both ends. Tornado's squeeze.
std::string squeeze(std::string_view value);

}  // namespace tornado::escape
