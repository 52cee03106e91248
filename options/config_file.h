// Reader for Tornado's config files: the Python-literal subset of `name = value` lines
// that tornado.options.parse_config_file runs through exec(). Input is untrusted:
// linear time, bounded nesting, errors name the file and line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <absl/status/statusor.h>

namespace tornado::options {

// One Python literal value read from a config file: None, bool, int, float, str, a list
// (lists and tuples) or a dict (key/value pairs in file order).
struct PyValue {
  struct None {
    bool operator==(const None&) const = default;
  };
  using List = std::vector<PyValue>;
  using Dict = std::vector<std::pair<PyValue, PyValue>>;
  std::variant<None, bool, int64_t, double, std::string, List, Dict> v;

  bool operator==(const PyValue&) const = default;
};

// One `name = value` assignment and the line it starts on.
struct ConfigAssignment {
  std::string name;
  PyValue value;
  int line = 0;
};

// Parses `text` as a config file: assignments of Python literals (strings with
// prefixes r/u/b and escapes, adjacent-string concatenation, triple quotes, ints in any
// base, floats, True/False/None, lists, tuples, dicts, unary +/-), comments, blank
// lines, values over several lines inside brackets or after a backslash, and the name
// `__file__` (replaced by `filename`). Anything else is an InvalidArgument error
// "<filename>:<line>: <what>". No counterpart in Tornado, which exec()s the file.
absl::StatusOr<std::vector<ConfigAssignment>> parse_config_text(std::string_view text,
                                                                std::string_view filename);

}  // namespace tornado::options
