// OptionParser, Option and the global options() instance.
#include "options/options.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <absl/strings/str_replace.h>
#include <absl/strings/str_split.h>
#include <absl/strings/strip.h>

#include "log/pretty_logging.h"
#include "options/config_file.h"

namespace tornado::options {
namespace {

// Integer ranges in multiple options expand to at most this many values in total, so a
// hostile `--ports=0:9000000000000` fails instead of exhausting memory.
constexpr int64_t kMaxListItems = 1'000'000;

absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

std::string normalize(std::string_view name) {
  return absl::StrReplaceAll(A(name), {{"_", "-"}});
}

std::string quote(std::string_view s) {
  // Python's %r of a str, close enough for messages; long input is cut.
  std::string out = "'";
  size_t n = std::min<size_t>(s.size(), 200);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = s[i];
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += absl::StrFormat("\\x%02x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > n) out += "...";
  return out + "'";
}

template <class T>
constexpr Type type_of() {
  if constexpr (std::is_same_v<T, std::string>) return Type::kString;
  if constexpr (std::is_same_v<T, int64_t>) return Type::kInt;
  if constexpr (std::is_same_v<T, double>) return Type::kFloat;
  if constexpr (std::is_same_v<T, bool>) return Type::kBool;
  if constexpr (std::is_same_v<T, absl::Duration>) return Type::kDuration;
  if constexpr (std::is_same_v<T, absl::CivilSecond>) return Type::kDatetime;
}

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {
  using Elem = T;
};

// The type and multiplicity a value holds; nullopt for None.
std::optional<std::pair<Type, bool>> shape(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::optional<std::pair<Type, bool>> {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, None>) {
          return std::nullopt;
        } else if constexpr (IsVector<X>::value) {
          return std::make_pair(type_of<typename IsVector<X>::Elem>(), true);
        } else {
          return std::make_pair(type_of<X>(), false);
        }
      },
      v);
}

bool parse_bool(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(A(text));
  return lower != "false" && lower != "0" && lower != "f";
}

std::optional<int64_t> parse_int(std::string_view text) {
  // Python's int(): surrounding whitespace, a sign, and underscores between digits.
  absl::string_view ta = absl::StripAsciiWhitespace(A(text));
  std::string_view t(ta.data(), ta.size());
  std::string digits;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '_') {
      if (i == 0 || i + 1 == t.size() || !absl::ascii_isdigit(t[i - 1]) ||
          !absl::ascii_isdigit(t[i + 1])) {
        return std::nullopt;
      }
      continue;
    }
    digits += c;
  }
  int64_t v;
  if (digits.empty() || !absl::SimpleAtoi(digits, &v)) return std::nullopt;
  return v;
}

std::optional<double> parse_float(std::string_view text) {
  double v;
  absl::string_view ta = absl::StripAsciiWhitespace(A(text));
  std::string_view t(ta.data(), ta.size());
  if (t.empty() || !absl::SimpleAtod(A(t), &v)) return std::nullopt;
  return v;
}

// Tornado's _parse_timedelta: a sequence of `<number><unit>` with optional spaces;
// a missing unit means seconds.
std::optional<absl::Duration> parse_duration(std::string_view text) {
  absl::Duration total = absl::ZeroDuration();
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < text.size() && absl::ascii_isspace(text[i])) ++i;
  };
  while (i < text.size()) {
    skip_ws();
    size_t num_start = i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    size_t int_digits = 0, frac_digits = 0;
    while (i < text.size() && absl::ascii_isdigit(text[i])) ++i, ++int_digits;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && absl::ascii_isdigit(text[i])) ++i, ++frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0) return std::nullopt;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
      size_t save = i;
      ++i;
      if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
      size_t exp_digits = 0;
      while (i < text.size() && absl::ascii_isdigit(text[i])) ++i, ++exp_digits;
      if (exp_digits == 0) i = save;
    }
    double num;
    if (!absl::SimpleAtod(A(text.substr(num_start, i - num_start)), &num)) return std::nullopt;
    skip_ws();
    size_t unit_start = i;
    // Letters only (Tornado's \w* would swallow the digits of "1h30s").
    while (i < text.size() && absl::ascii_isalpha(text[i])) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    skip_ws();
    double seconds;
    if (unit.empty() || unit == "s" || unit == "sec" || unit == "seconds") {
      seconds = 1;
    } else if (unit == "m" || unit == "min" || unit == "minutes") {
      seconds = 60;
    } else if (unit == "h" || unit == "hours") {
      seconds = 3600;
    } else if (unit == "d" || unit == "days") {
      seconds = 86400;
    } else if (unit == "w" || unit == "weeks") {
      seconds = 7 * 86400;
    } else if (unit == "ms" || unit == "milliseconds") {
      seconds = 1e-3;
    } else if (unit == "us" || unit == "microseconds") {
      seconds = 1e-6;
    } else {
      return std::nullopt;
    }
    double value = num * seconds;
    // Python's timedelta is limited to 999999999 days.
    if (!(value > -86400.0 * 1e9 && value < 86400.0 * 1e9)) return std::nullopt;
    total += absl::Seconds(value);
  }
  return total;
}

// Tornado's _parse_datetime formats, tried in order.
std::optional<absl::CivilSecond> parse_datetime(std::string_view text) {
  static constexpr const char* kFormats[] = {
      "%a %b %d %H:%M:%S %Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
      "%Y%m%d %H:%M:%S",      "%Y%m%d %H:%M",      "%Y-%m-%d",       "%Y%m%d",
      "%H:%M:%S",             "%H:%M",
  };
  if (text.size() > 200) return std::nullopt;
  // absl's %Y reads every digit, so "20130428" is rewritten as "2013-04-28" for the
  // %Y%m%d formats (Python's %Y reads four).
  std::string dashed;
  if (text.size() >= 8 && std::all_of(text.begin(), text.begin() + 8, absl::ascii_isdigit) &&
      (text.size() == 8 || text[8] == ' ')) {
    dashed = absl::StrCat(A(text.substr(0, 4)), "-", A(text.substr(4, 2)), "-", A(text.substr(6)));
  }
  for (std::string_view format : kFormats) {
    absl::Time t;
    std::string err;
    std::string fmt(format);
    std::string_view input = text;
    if (format.starts_with("%Y%m%d")) {
      if (dashed.empty()) continue;
      fmt = absl::StrCat("%Y-%m-%d", A(format.substr(6)));
      input = dashed;
    }
    if (absl::ParseTime(fmt, A(input), absl::UTCTimeZone(), &t, &err)) {
      absl::CivilSecond cs = absl::ToCivilSecond(t, absl::UTCTimeZone());
      // Python's strptime fills a missing date with 1900-01-01.
      if (format.starts_with("%H")) {
        cs = absl::CivilSecond(1900, 1, 1, cs.hour(), cs.minute(), cs.second());
      }
      return cs;
    }
  }
  return std::nullopt;
}

std::string wrap_error(const Option& o, std::string_view text) {
  return absl::StrCat("Option ", quote(o.name()), ": cannot parse ", quote(text), " as ",
                      A(type_name(o.type())));
}

// Greedy word wrap, as Python's textwrap.wrap (long words are split).
std::vector<std::string> wrap(std::string_view text, size_t width) {
  std::vector<std::string> lines;
  std::string cur;
  for (absl::string_view w : absl::StrSplit(A(text), absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
    std::string_view word(w.data(), w.size());
    while (word.size() > width) {
      if (!cur.empty()) {
        lines.push_back(cur);
        cur.clear();
      }
      lines.emplace_back(word.substr(0, width));
      word.remove_prefix(width);
    }
    if (word.empty()) continue;
    if (cur.empty()) {
      cur = std::string(word);
    } else if (cur.size() + 1 + word.size() <= width) {
      absl::StrAppend(&cur, " ", A(word));
    } else {
      lines.push_back(cur);
      cur = std::string(word);
    }
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string scalar_text(const auto& x) {
  using X = std::decay_t<decltype(x)>;
  if constexpr (std::is_same_v<X, std::string>) {
    return x;
  } else if constexpr (std::is_same_v<X, bool>) {
    return x ? "True" : "False";
  } else if constexpr (std::is_same_v<X, int64_t>) {
    return absl::StrCat(x);
  } else if constexpr (std::is_same_v<X, double>) {
    std::string s = absl::StrFormat("%.17g", x);
    // Shortest text that reads back the same, like Python's repr.
    for (int p = 1; p <= 17; ++p) {
      std::string t = absl::StrFormat("%.*g", p, x);
      double back;
      if (absl::SimpleAtod(t, &back) && back == x) {
        s = t;
        break;
      }
    }
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
    return s;
  } else if constexpr (std::is_same_v<X, absl::Duration>) {
    // Python's str(timedelta): [D day[s], ]H:MM:SS[.ffffff]
    int64_t us = absl::ToInt64Microseconds(x);
    int64_t days = us >= 0 ? us / 86400000000 : -((-us + 86400000000 - 1) / 86400000000);
    int64_t rest = us - days * 86400000000;
    std::string out;
    if (days != 0) out = absl::StrCat(days, std::abs(days) == 1 ? " day, " : " days, ");
    int64_t secs = rest / 1000000, micros = rest % 1000000;
    absl::StrAppendFormat(&out, "%d:%02d:%02d", secs / 3600, secs / 60 % 60, secs % 60);
    if (micros) absl::StrAppendFormat(&out, ".%06d", micros);
    return out;
  } else {
    return absl::FormatCivilTime(x);
  }
}

}  // namespace

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kString: return "str";
    case Type::kInt: return "int";
    case Type::kFloat: return "float";
    case Type::kBool: return "bool";
    case Type::kDuration: return "timedelta";
    case Type::kDatetime: return "datetime";
  }
  return "?";
}

std::string value_type_name(const Value& value) {
  auto s = shape(value);
  if (!s) return "None";
  return s->second ? absl::StrCat("list of ", A(type_name(s->first)))
                   : std::string(type_name(s->first));
}

std::string format_value(const Value& value) {
  return std::visit(
      [](const auto& x) -> std::string {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, None>) {
          return "None";
        } else if constexpr (IsVector<X>::value) {
          std::vector<std::string> parts;
          for (const auto& item : x) {
            if constexpr (std::is_same_v<typename IsVector<X>::Elem, std::string>) {
              parts.push_back(quote(item));
            } else {
              parts.push_back(scalar_text(static_cast<typename IsVector<X>::Elem>(item)));
            }
          }
          return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
        } else {
          return scalar_text(x);
        }
      },
      value);
}

namespace internal {
void throw_wrong_type(std::string_view name, std::string_view wanted, const Value& v) {
  throw Error(absl::StrCat("Option ", quote(name), " is a ", value_type_name(v),
                           ", not a ", A(wanted)));
}
}  // namespace internal

// ---- Option ----

Option::Option(std::string name, OptionSpec spec, std::string file_name)
    : name_(std::move(name)),
      help_(std::move(spec.help)),
      metavar_(std::move(spec.metavar)),
      multiple_(spec.multiple),
      file_name_(std::move(file_name)),
      callback_(std::move(spec.callback)),
      default_(std::move(spec.default_value)) {
  if (spec.type) {
    type_ = *spec.type;
  } else if (auto s = shape(default_); s && !multiple_) {
    type_ = s->first;
  } else if (auto s2 = shape(default_); s2 && multiple_ && s2->second) {
    type_ = s2->first;  // a typed list default says the element type
  } else {
    type_ = Type::kString;
  }
  group_ = spec.group ? *spec.group : file_name_;
  if (!std::holds_alternative<None>(default_)) {
    auto s = shape(default_);
    if (s->first != type_ || s->second != multiple_) {
      throw Error(absl::StrCat("Option ", quote(name_), ": default ", format_value(default_),
                               " is not a ", multiple_ ? "list of " : "", A(type_name(type_))));
    }
  }
}

const Value& Option::parse(std::string_view text) {
  auto one = [&](std::string_view part) -> Value {
    switch (type_) {
      case Type::kString:
        return std::string(part);
      case Type::kBool:
        return parse_bool(part);
      case Type::kInt:
        if (auto v = parse_int(part)) return *v;
        break;
      case Type::kFloat:
        if (auto v = parse_float(part)) return *v;
        break;
      case Type::kDuration:
        if (auto v = parse_duration(part)) return *v;
        break;
      case Type::kDatetime:
        if (auto v = parse_datetime(part)) return *v;
        break;
    }
    throw Error(wrap_error(*this, part));
  };
  Value result;
  if (!multiple_) {
    result = one(text);
  } else {
    std::vector<Value> items;
    std::vector<int64_t> ints;
    for (absl::string_view part_a : absl::StrSplit(A(text), ',')) {
      std::string_view part(part_a.data(), part_a.size());
      if (type_ == Type::kInt) {
        std::pair<absl::string_view, absl::string_view> lohi_a =
            absl::StrSplit(part_a, absl::MaxSplits(':', 1));
        std::pair<std::string_view, std::string_view> lohi(
            std::string_view(lohi_a.first.data(), lohi_a.first.size()),
            std::string_view(lohi_a.second.data(), lohi_a.second.size()));
        int64_t lo = std::get<int64_t>(one(lohi.first));
        int64_t hi = lohi.second.empty() ? lo : std::get<int64_t>(one(lohi.second));
        uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
        if (hi >= lo && (span >= static_cast<uint64_t>(kMaxListItems) ||
                         ints.size() + span >= static_cast<uint64_t>(kMaxListItems))) {
          throw Error(absl::StrCat("Option ", quote(name_), ": range ", quote(part),
                                   " has too many values"));
        }
        for (int64_t i = lo; i <= hi; ++i) {
          ints.push_back(i);
          if (i == hi) break;  // hi may be INT64_MAX
        }
      } else {
        items.push_back(one(part));
        if (static_cast<int64_t>(items.size()) > kMaxListItems) {
          throw Error(absl::StrCat("Option ", quote(name_), ": too many values"));
        }
      }
    }
    auto collect = [&]<class T>(std::vector<T> out) -> Value {
      for (Value& v : items) out.push_back(std::get<T>(v));
      return out;
    };
    switch (type_) {
      case Type::kInt: result = std::move(ints); break;
      case Type::kString: result = collect(std::vector<std::string>{}); break;
      case Type::kFloat: result = collect(std::vector<double>{}); break;
      case Type::kBool: result = collect(std::vector<bool>{}); break;
      case Type::kDuration: result = collect(std::vector<absl::Duration>{}); break;
      case Type::kDatetime: result = collect(std::vector<absl::CivilSecond>{}); break;
    }
  }
  value_ = std::move(result);
  if (callback_) callback_(*value_);
  return value();
}

void Option::set(Value v) {
  // An int where a float is wanted is widened (C++ literals make this common).
  if (type_ == Type::kFloat) {
    if (auto* i = std::get_if<int64_t>(&v)) {
      if (!multiple_) v = static_cast<double>(*i);
    } else if (auto* is = std::get_if<std::vector<int64_t>>(&v)) {
      if (multiple_) v = std::vector<double>(is->begin(), is->end());
    }
  }
  auto s = shape(v);
  if (multiple_) {
    if (!s || !s->second || s->first != type_) {
      throw Error(absl::StrCat("Option ", quote(name_), " is required to be a list of ",
                               A(type_name(type_)), " (", value_type_name(v), " given)"));
    }
  } else if (s && (s->second || s->first != type_)) {
    throw Error(absl::StrCat("Option ", quote(name_), " is required to be a ", A(type_name(type_)),
                             " (", value_type_name(v), " given)"));
  }
  value_ = std::move(v);
  if (callback_) callback_(*value_);
}

// ---- ScopedOverride ----

ScopedOverride::ScopedOverride(OptionParser& parser, std::string_view name, Value value)
    : parser_(parser), name_(name), saved_(parser.value(name)) {
  parser_.set(name_, std::move(value));
}

ScopedOverride::~ScopedOverride() {
  try {
    parser_.set(name_, std::move(saved_));
  } catch (...) {
    // The saved value had the option's type when saved; a throwing callback is ignored.
  }
}

// ---- OptionParser ----

OptionParser::OptionParser() {
  define("help", {.type = Type::kBool,
                  .help = "show this help information",
                  .group = "",
                  .callback =
                      [this](const Value& v) {
                        if (const bool* b = std::get_if<bool>(&v); b && *b) {
                          print_help();
                          std::exit(0);
                        }
                      }});
}

void OptionParser::define(std::string_view name, OptionSpec spec, std::source_location where) {
  std::string key = normalize(name);
  if (auto it = options_.find(key); it != options_.end()) {
    throw Error(absl::StrCat("Option ", quote(name), " already defined in ",
                             it->second->file_name()));
  }
  if (name.empty()) throw Error("Option name must not be empty");
  options_.emplace(key, std::make_unique<Option>(std::string(name), std::move(spec),
                                                 std::string(where.file_name())));
}

const Option* OptionParser::find_or_null(std::string_view name) const {
  auto it = options_.find(normalize(name));
  return it == options_.end() ? nullptr : it->second.get();
}

Option& OptionParser::find(std::string_view name) {
  const Option* o = find_or_null(name);
  if (!o) throw Error(absl::StrCat("Unrecognized option ", quote(name)));
  return const_cast<Option&>(*o);
}

const Option& OptionParser::option(std::string_view name) const {
  return const_cast<OptionParser*>(this)->find(name);
}

bool OptionParser::contains(std::string_view name) const { return find_or_null(name); }

const Value& OptionParser::value(std::string_view name) const { return option(name).value(); }

void OptionParser::set(std::string_view name, Value value) { find(name).set(std::move(value)); }

std::string OptionParser::closest_name(std::string_view name) const {
  // Names are compared normalized; an over-long input is cut so this stays cheap.
  std::string n = normalize(name.substr(0, 128));
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& [key, opt] : options_) {
    size_t d = edit_distance(n, key);
    if (d < best_d) {
      best_d = d;
      best = key;
    }
  }
  return best;
}

std::vector<std::string> OptionParser::parse_command_line(int argc, const char* const* argv,
                                                          bool final) {
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_command_line(args, final);
}

std::vector<std::string> OptionParser::parse_command_line(const std::vector<std::string>& args,
                                                          bool final) {
  std::vector<std::string> remaining;
  if (!args.empty()) program_ = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("-")) {
      remaining.assign(args.begin() + i, args.end());
      break;
    }
    if (arg == "--") {
      remaining.assign(args.begin() + i + 1, args.end());
      break;
    }
    std::string_view body(arg);
    while (body.starts_with("-")) body.remove_prefix(1);
    size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    Option* opt = const_cast<Option*>(find_or_null(name));
    if (!opt) {
      print_help();
      std::string msg = absl::StrCat("Unrecognized command line option: ", quote(normalize(name)));
      if (std::string close = closest_name(name); !close.empty()) {
        absl::StrAppend(&msg, " (did you mean '--", close, "'?)");
      }
      throw Error(msg);
    }
    std::string_view value;
    if (eq == std::string_view::npos) {
      if (opt->type() != Type::kBool) {
        throw Error(absl::StrCat("Option ", quote(normalize(name)), " requires a value"));
      }
      value = "true";
    } else {
      value = body.substr(eq + 1);
    }
    opt->parse(value);
  }
  if (final) run_parse_callbacks();
  return remaining;
}

void OptionParser::parse_config_file(const std::string& path, bool final) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(absl::StrCat("Cannot read config file ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  parse_config_text(buf.str(), path, final);
}

namespace {

// Converts a config-file literal to a Value of `opt`'s type, or nullopt if it has none.
std::optional<Value> to_value(const PyValue& pv, const Option& opt) {
  auto scalar = [&](const PyValue& p) -> std::optional<Value> {
    return std::visit(
        [&](const auto& x) -> std::optional<Value> {
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<X, PyValue::None>) {
            return Value(None{});
          } else if constexpr (std::is_same_v<X, bool> || std::is_same_v<X, int64_t> ||
                               std::is_same_v<X, double> || std::is_same_v<X, std::string>) {
            return Value(x);
          } else {
            return std::nullopt;
          }
        },
        p.v);
  };
  if (const auto* list = std::get_if<PyValue::List>(&pv.v)) {
    if (!opt.multiple()) return std::nullopt;
    std::vector<Value> items;
    for (const PyValue& item : *list) {
      auto v = scalar(item);
      if (!v) return std::nullopt;
      items.push_back(std::move(*v));
    }
    auto collect = [&]<class T>(std::vector<T> out) -> std::optional<Value> {
      for (Value& v : items) {
        if (T* t = std::get_if<T>(&v)) {
          out.push_back(*t);
        } else if constexpr (std::is_same_v<T, double>) {
          if (int64_t* i = std::get_if<int64_t>(&v)) {
            out.push_back(static_cast<double>(*i));
            continue;
          }
          return std::nullopt;
        } else {
          return std::nullopt;
        }
      }
      return Value(std::move(out));
    };
    switch (opt.type()) {
      case Type::kString: return collect(std::vector<std::string>{});
      case Type::kInt: return collect(std::vector<int64_t>{});
      case Type::kFloat: return collect(std::vector<double>{});
      case Type::kBool: return collect(std::vector<bool>{});
      default: return std::nullopt;
    }
  }
  return scalar(pv);
}

}  // namespace

void OptionParser::parse_config_text(std::string_view text, const std::string& path, bool final) {
  absl::StatusOr<std::vector<ConfigAssignment>> parsed =
      ::tornado::options::parse_config_text(text, path);
  if (!parsed.ok()) throw Error(std::string(parsed.status().message()));
  for (const ConfigAssignment& a : *parsed) {
    Option* opt = const_cast<Option*>(find_or_null(a.name));
    if (!opt) continue;  // Tornado ignores names it does not define.
    const std::string* str = std::get_if<std::string>(&a.value.v);
    try {
      if (str && (opt->type() != Type::kString || opt->multiple())) {
        opt->parse(*str);
        continue;
      }
      std::optional<Value> v = to_value(a.value, *opt);
      if (!v) {
        throw Error(absl::StrCat("Option ", quote(opt->name()), " is required to be a ",
                                 opt->multiple() ? "list of " : "", A(type_name(opt->type()))));
      }
      opt->set(std::move(*v));
    } catch (const Error& e) {
      throw Error(absl::StrCat(path, ":", a.line, ": ", e.what()));
    }
  }
  if (final) run_parse_callbacks();
}

void OptionParser::print_help() const { print_help(std::cerr); }

void OptionParser::print_help(std::ostream& out) const {
  out << "Usage: " << program_ << " [OPTIONS]\n\nOptions:\n\n";
  std::map<std::string, std::vector<const Option*>> by_group;
  for (const auto& [key, opt] : options_) by_group[opt->group_name()].push_back(opt.get());
  for (auto& [group, opts] : by_group) {
    if (!group.empty()) out << "\n" << group << " options:\n\n";
    std::sort(opts.begin(), opts.end(),
              [](const Option* a, const Option* b) { return a->name() < b->name(); });
    for (const Option* o : opts) {
      std::string prefix = normalize(o->name());
      if (!o->metavar().empty()) absl::StrAppend(&prefix, "=", o->metavar());
      std::string description = o->help();
      const Value& d = o->default_value();
      const std::string* ds = std::get_if<std::string>(&d);
      if (!std::holds_alternative<None>(d) && !(ds && ds->empty())) {
        absl::StrAppend(&description, " (default ", format_value(d), ")");
      }
      std::vector<std::string> lines = wrap(description, 79 - 35);
      if (prefix.size() > 30 || lines.empty()) lines.insert(lines.begin(), "");
      out << absl::StrFormat("  --%-30s %s", prefix, lines[0]) << "\n";
      for (size_t i = 1; i < lines.size(); ++i) {
        out << absl::StrFormat("%-34s %s", " ", lines[i]) << "\n";
      }
    }
  }
  out << "\n";
}

void OptionParser::add_parse_callback(std::function<void()> callback) {
  parse_callbacks_.push_back(std::move(callback));
}

void OptionParser::run_parse_callbacks() {
  // Copy: a callback may add another.
  std::vector<std::function<void()>> callbacks = parse_callbacks_;
  for (auto& cb : callbacks) cb();
}

std::vector<std::string> OptionParser::names() const {
  std::vector<std::string> out;
  for (const auto& [key, opt] : options_) out.push_back(opt->name());
  return out;
}

std::vector<std::pair<std::string, Value>> OptionParser::items() const {
  std::vector<std::pair<std::string, Value>> out;
  for (const auto& [key, opt] : options_) out.emplace_back(opt->name(), opt->value());
  return out;
}

std::vector<std::string> OptionParser::groups() const {
  std::set<std::string> g;
  for (const auto& [key, opt] : options_) g.insert(opt->group_name());
  return {g.begin(), g.end()};
}

std::map<std::string, Value> OptionParser::group_dict(std::string_view group) const {
  std::map<std::string, Value> out;
  for (const auto& [key, opt] : options_) {
    if (group.empty() || opt->group_name() == group) out.emplace(opt->name(), opt->value());
  }
  return out;
}

std::map<std::string, Value> OptionParser::as_dict() const {
  std::map<std::string, Value> out;
  for (const auto& [key, opt] : options_) out.emplace(opt->name(), opt->value());
  return out;
}

// ---- the global parser ----

OptionParser& options() {
  static OptionParser* parser = [] {
    auto* p = new OptionParser();  // never destroyed: usable during static destruction
    define_logging_options(*p);
    return p;
  }();
  return *parser;
}

void define(std::string_view name, OptionSpec spec, std::source_location where) {
  options().define(name, std::move(spec), where);
}
std::vector<std::string> parse_command_line(int argc, const char* const* argv, bool final) {
  return options().parse_command_line(argc, argv, final);
}
std::vector<std::string> parse_command_line(const std::vector<std::string>& args, bool final) {
  return options().parse_command_line(args, final);
}
void parse_config_file(const std::string& path, bool final) {
  options().parse_config_file(path, final);
}
void print_help(std::ostream& out) { options().print_help(out); }
void add_parse_callback(std::function<void()> callback) {
  options().add_parse_callback(std::move(callback));
}

void define_logging_options(OptionParser& parser) {
  const std::source_location here = std::source_location::current();
  parser.define("logging",
                {.default_value = "info",
                 .help = "Set the log level. If 'none', tornado won't touch the logging "
                         "configuration.",
                 .metavar = "debug|info|warning|error|none"},
                here);
  parser.define("log_to_stderr",
                {.type = Type::kBool,
                 .help = "Send log output to stderr (colorized if possible). By default use "
                         "stderr if --log_file_prefix is not set and no other logging is "
                         "configured."},
                here);
  parser.define("log_file_prefix",
                {.type = Type::kString,
                 .help = "Path prefix for log files. Note that if you are running multiple "
                         "tornado processes, log_file_prefix must be different for each of "
                         "them (e.g. include the port number)",
                 .metavar = "PATH"},
                here);
  parser.define("log_file_max_size",
                {.default_value = int64_t{100 * 1000 * 1000},
                 .type = Type::kInt,
                 .help = "max size of log files before rollover"},
                here);
  parser.define("log_file_num_backups",
                {.default_value = int64_t{10}, .type = Type::kInt,
                 .help = "number of log files to keep"},
                here);
  parser.define("log_rotate_when",
                {.default_value = "midnight",
                 .type = Type::kString,
                 .help = "specify the type of TimedRotatingFileHandler interval other options:"
                         "('S', 'M', 'H', 'D', 'W0'-'W6')"},
                here);
  parser.define("log_rotate_interval",
                {.default_value = int64_t{1}, .type = Type::kInt,
                 .help = "The interval value of timed rotating"},
                here);
  parser.define("log_rotate_mode",
                {.default_value = "size", .type = Type::kString,
                 .help = "The mode of rotating files(time or size)"},
                here);
  parser.add_parse_callback([&parser] {
    log::LoggingOptions lo;
    auto logging = parser.get<std::optional<std::string>>("logging");
    lo.logging = logging ? *logging : "none";
    lo.log_to_stderr = parser.get<std::optional<bool>>("log_to_stderr");
    lo.log_file_prefix = parser.get<std::optional<std::string>>("log_file_prefix").value_or("");
    lo.log_file_max_size = parser.get<std::optional<int64_t>>("log_file_max_size").value_or(0);
    lo.log_file_num_backups = parser.get<std::optional<int>>("log_file_num_backups").value_or(0);
    lo.log_rotate_when = parser.get<std::optional<std::string>>("log_rotate_when").value_or("");
    lo.log_rotate_interval = parser.get<std::optional<int>>("log_rotate_interval").value_or(1);
    lo.log_rotate_mode = parser.get<std::optional<std::string>>("log_rotate_mode").value_or("");
    log::enable_pretty_logging(lo);
  });
}

}  // namespace tornado::options
