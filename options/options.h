// tornado::options: Tornado's tornado.options. Define typed options anywhere, then fill
// them from the command line (`--port=80`) and/or a Python-literal config file, read
// them typed (`options().get<int>("port")`), and let define_logging_options wire the
// log package's enable_pretty_logging to the parse.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

namespace tornado::options {

// An option's error: unknown or redefined option, wrong type, unparsable value, bad
// config file. Tornado's tornado.options.Error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An option's type; Tornado's `type=` argument (str, int, float, bool,
// datetime.timedelta, datetime.datetime).
enum class Type { kString, kInt, kFloat, kBool, kDuration, kDatetime };

// Tornado's None.
using None = std::monostate;

// An option's value: None, one value of the option's type, or (for `multiple` options)
// a list of them. Durations are absl::Duration, datetimes naive absl::CivilSecond.
using Value = std::variant<None, std::string, int64_t, double, bool, absl::Duration,
                           absl::CivilSecond, std::vector<std::string>, std::vector<int64_t>,
                           std::vector<double>, std::vector<bool>, std::vector<absl::Duration>,
                           std::vector<absl::CivilSecond>>;

// The Python-style name of a type ("str", "int", "float", "bool", "timedelta",
// "datetime") and of a value's type ("None", "list of int", ...), for messages.
std::string_view type_name(Type type);
std::string value_type_name(const Value& value);

// Renders a value as Tornado's help text would (True/False, [1, 2], 0:00:45, ...).
std::string format_value(const Value& value);

// Everything `define` takes besides the name, in Tornado's argument order, for
// designated initializers: define("port", {.default_value = 80, .help = "..."}).
struct OptionSpec {
  Value default_value{};
  // Unset: the default's type if it has one (and the option is not multiple), else str.
  std::optional<Type> type{};
  std::string help{};
  std::string metavar{};
  bool multiple = false;
  // Unset: the file that calls define (Tornado: the defining module's file).
  std::optional<std::string> group{};
  // Called with the new value whenever the option is set or parsed.
  std::function<void(const Value&)> callback{};
};

// One defined option. Tornado's tornado.options._Option.
class Option {
 public:
  Option(std::string name, OptionSpec spec, std::string file_name);

  // Parses command-line text (comma lists and lo:hi integer ranges when multiple) and
  // sets it. Throws Error on text that is not of the option's type. Tornado's parse.
  const Value& parse(std::string_view text);
  // Sets an already typed value (None allowed); throws Error on a wrong type and runs
  // the callback. Tornado's set. Ints are accepted for float options.
  void set(Value value);
  // The value, or the default while unset. Tornado's value().
  const Value& value() const { return value_.has_value() ? *value_ : default_; }

  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  bool multiple() const { return multiple_; }
  const std::string& help() const { return help_; }
  const std::string& metavar() const { return metavar_; }
  const std::string& group_name() const { return group_; }
  const std::string& file_name() const { return file_name_; }
  const Value& default_value() const { return default_; }

 private:
  friend class OptionParser;
  std::string name_;
  Type type_;
  std::string help_, metavar_;
  bool multiple_;
  std::string file_name_, group_;
  std::function<void(const Value&)> callback_;
  Value default_;
  std::optional<Value> value_;
};

class OptionParser;

// Sets an option for a scope and restores the previous value when destroyed; Tornado's
// `mock.patch.object(options.mockable(), name, value)`. Overrides may nest and mix
// with plain sets, as Tornado's do. The parser must outlive it.
class ScopedOverride {
 public:
  ScopedOverride(OptionParser& parser, std::string_view name, Value value);
  ~ScopedOverride();
  ScopedOverride(const ScopedOverride&) = delete;
  ScopedOverride& operator=(const ScopedOverride&) = delete;

 private:
  OptionParser& parser_;
  std::string name_;
  Value saved_;
};

// A collection of options; Tornado's OptionParser. Names are normalized: dashes and
// underscores are interchangeable everywhere, and introspection returns the name as
// defined. Not thread-safe; define and parse at start-up.
class OptionParser {
 public:
  // Defines `help` (print help and exit), as Tornado's constructor does.
  OptionParser();

  // Defines a new option; throws Error "Option 'x' already defined in <file>" if the
  // (normalized) name exists. Tornado's define.
  void define(std::string_view name, OptionSpec spec = {},
              std::source_location where = std::source_location::current());

  // Parses `--name=value` / `--name value`-free flags from args (args[0] is the
  // program name), stops at the first non-flag or after `--`, and returns the rest.
  // A bool flag without `=value` means true. `--help` prints help to stderr and exits
  // the process with 0. An unknown flag prints help and throws Error naming it and the
  // closest defined name. With `final`, runs the parse callbacks. Tornado's
  // parse_command_line.
  std::vector<std::string> parse_command_line(const std::vector<std::string>& args,
                                              bool final = true);
  std::vector<std::string> parse_command_line(int argc, const char* const* argv,
                                              bool final = true);

  // Reads a config file of `name = <Python literal>` lines (see config_file.h) and sets
  // the options it names (names it does not define are ignored, as Tornado does). A
  // string value is parsed as on the command line for non-string and multiple options.
  // Throws Error naming file and line on anything outside the subset, or on a value of
  // the wrong type. With `final`, runs the parse callbacks. Tornado's parse_config_file.
  void parse_config_file(const std::string& path, bool final = true);
  // The same over text already in memory; `path` names it in errors and is __file__.
  void parse_config_text(std::string_view text, const std::string& path, bool final = true);

  // Writes the usage, options grouped by file/group, to `out` (stderr by default).
  // Tornado's print_help.
  void print_help(std::ostream& out) const;
  void print_help() const;

  // Adds a callback run after every final parse. Tornado's add_parse_callback.
  void add_parse_callback(std::function<void()> callback);
  // Runs the parse callbacks. Tornado's run_parse_callbacks.
  void run_parse_callbacks();

  // Whether `name` (dashes or underscores) is defined. Tornado's `name in options`.
  bool contains(std::string_view name) const;
  // The option's value; throws Error for an unknown name. Tornado's options[name].
  const Value& value(std::string_view name) const;
  // The option's value as T: std::string, int64_t, int, double, bool, absl::Duration,
  // absl::CivilSecond, a std::vector of those, or std::optional<T> to accept None.
  // Throws Error for an unknown name or a value of another type. Tornado's options.name.
  template <class T>
  T get(std::string_view name) const;
  // Sets an option (type-checked, runs its callback); throws Error for an unknown name
  // or wrong type. Tornado's `options.name = value`.
  void set(std::string_view name, Value value);
  void set(std::string_view name, const char* value) { set(name, Value(std::string(value))); }
  void set(std::string_view name, int value) { set(name, Value(int64_t{value})); }
  // Overrides `name` until the returned object dies. Tornado's mockable().
  [[nodiscard]] ScopedOverride mockable(std::string_view name, Value value) {
    return ScopedOverride(*this, name, std::move(value));
  }

  // The option object; throws Error for an unknown name.
  const Option& option(std::string_view name) const;
  // Names as defined, sorted by normalized name. Tornado's iter(options).
  std::vector<std::string> names() const;
  // (name, value) pairs, sorted. Tornado's items().
  std::vector<std::pair<std::string, Value>> items() const;
  // Every group name (files and explicit groups). Tornado's groups().
  std::vector<std::string> groups() const;
  // name -> value of the options in `group` (empty if none). Tornado's group_dict.
  std::map<std::string, Value> group_dict(std::string_view group) const;
  // name -> value of every option. Tornado's as_dict.
  std::map<std::string, Value> as_dict() const;

  // The program name remembered from the last parse_command_line, for print_help.
  const std::string& program_name() const { return program_; }

 private:
  Option& find(std::string_view name);
  const Option* find_or_null(std::string_view name) const;
  std::string closest_name(std::string_view name) const;

  // Keyed by normalized name (underscores become dashes).
  std::map<std::string, std::unique_ptr<Option>> options_;
  std::vector<std::function<void()>> parse_callbacks_;
  std::string program_ = "main";
};

// The process-wide parser, with the logging options already defined (Tornado defines
// them when tornado.options is imported). Tornado's tornado.options.options.
OptionParser& options();

// Shorthands on options(); Tornado's module-level define, parse_command_line,
// parse_config_file, print_help, add_parse_callback.
void define(std::string_view name, OptionSpec spec = {},
            std::source_location where = std::source_location::current());
std::vector<std::string> parse_command_line(int argc, const char* const* argv, bool final = true);
std::vector<std::string> parse_command_line(const std::vector<std::string>& args, bool final = true);
void parse_config_file(const std::string& path, bool final = true);
void print_help(std::ostream& out);
void add_parse_callback(std::function<void()> callback);

// Defines logging, log_to_stderr, log_file_prefix, log_file_max_size,
// log_file_num_backups, log_rotate_when, log_rotate_interval and log_rotate_mode on
// `parser` and adds a parse callback running log::enable_pretty_logging with them
// (which does nothing when logging is "none" in any case, or None). Tornado's
// tornado.log.define_logging_options.
void define_logging_options(OptionParser& parser);

// ---- implementation of get<T> ----
namespace internal {
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {
  using Inner = T;
};
[[noreturn]] void throw_wrong_type(std::string_view name, std::string_view wanted, const Value& v);
}  // namespace internal

template <class T>
T OptionParser::get(std::string_view name) const {
  const Value& v = value(name);
  if constexpr (internal::IsOptional<T>::value) {
    if (std::holds_alternative<None>(v)) return std::nullopt;
    return get<typename internal::IsOptional<T>::Inner>(name);
  } else if constexpr (std::is_same_v<T, int>) {
    if (const int64_t* i = std::get_if<int64_t>(&v)) {
      if (*i >= INT32_MIN && *i <= INT32_MAX) return static_cast<int>(*i);
      internal::throw_wrong_type(name, "int (32-bit range)", v);
    }
    internal::throw_wrong_type(name, "int", v);
  } else {
    if (const T* t = std::get_if<T>(&v)) return *t;
    internal::throw_wrong_type(name, value_type_name(Value(T{})), v);
  }
}

}  // namespace tornado::options
