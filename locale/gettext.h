// Our own reader of GNU gettext `.mo` catalogs and evaluator of their Plural-Forms
// expression (the parts of Python's gettext.GNUTranslations that tornado.locale uses).
// Input is untrusted: every offset is bounds-checked, the expression parser is bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/status/statusor.h>

namespace tornado::locale {

// A parsed Plural-Forms `plural=` expression: C syntax over `n` with integer literals,
// ?:, ||, &&, ==, !=, <, <=, >, >=, +, -, *, /, %, ! and parentheses. Python's
// gettext.c2py, evaluated without generating code. Division by zero gives 0.
class PluralExpression {
 public:
  // Parses `text`; InvalidArgument on anything else or nesting deeper than 64.
  static absl::StatusOr<PluralExpression> parse(std::string_view text);
  // The plural index for count n.
  int64_t evaluate(int64_t n) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

// A loaded `.mo` catalog. Python's gettext.GNUTranslations.
class MoCatalog {
 public:
  // Reads a catalog from the bytes of a .mo file (either byte order). Reads the
  // Plural-Forms header; without one, Germanic plurals (n != 1). InvalidArgument on a
  // malformed file.
  static absl::StatusOr<MoCatalog> parse(std::string_view data);
  static absl::StatusOr<MoCatalog> load(const std::string& path);

  // The translation of `message`, or `message` itself. Python's gettext().
  std::string gettext(std::string_view message) const;
  // The plural form for `n`, or singular/plural by n == 1 when missing. ngettext().
  std::string ngettext(std::string_view singular, std::string_view plural, int64_t n) const;
  // Whether the catalog has an entry (singular or plural) for this msgid.
  bool has(std::string_view message) const;

 private:
  // msgid (context\x04msgid for contexts) -> the translated forms; `plural` marks
  // entries that had a msgid_plural.
  struct Entry {
    std::vector<std::string> forms;
    bool plural = false;
  };
  absl::flat_hash_map<std::string, Entry> entries_;
  std::shared_ptr<PluralExpression> plural_;
};

}  // namespace tornado::locale
