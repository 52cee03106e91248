// Internal: the HTML5 named character reference table used by xhtml_unescape.
#pragma once

#include <cstddef>
#include <string_view>

namespace tornado::escape::internal {

struct HtmlEntity {
  std::string_view name;   // e.g. "amp;" or "amp" (legacy names without ';' too)
  std::string_view value;  // UTF-8, one or two code points
};

// Sorted by name (bytewise), for binary search.
extern const HtmlEntity kHtmlEntities[];
extern const size_t kHtmlEntityCount;

}  // namespace tornado::escape::internal
