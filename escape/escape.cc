// squeeze, over RE2 like Tornado's regular expression.
#include "escape/escape.h"

#include "re2/re2.h"

namespace tornado::escape {

std::string squeeze(std::string_view value) {
  static const RE2* runs = new RE2(R"([\x00-\x20]+)");
  std::string out(value);
  RE2::GlobalReplace(&out, *runs, " ");
  return std::string(internal::strip_python_space(out));
}

}  // namespace tornado::escape
