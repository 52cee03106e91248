// Helpers shared by httputil's .cc files; not part of the package's API.
#pragma once

#include <string>
#include <string_view>

namespace tornado::httputil::internal {

// Python's str.strip() on ASCII: drops SP, \t \n \v \f \r and \x1c-\x1f at both ends.
std::string_view py_strip(std::string_view s);

}  // namespace tornado::httputil::internal

namespace tornado::httputil::internal {

// Concatenates std::string / std::string_view / const char* pieces (Debian's
// absl::StrCat takes absl::string_view, which std::string_view does not convert to).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  out.reserve((std::string_view(parts).size() + ... + 0));
  (out.append(std::string_view(parts)), ...);
  return out;
}

}  // namespace tornado::httputil::internal
