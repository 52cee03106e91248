// tornado::locale: Tornado's tornado.locale. Translations from CSV files or gettext
// .mo catalogs, the choice of the closest supported locale, and locale-aware dates
// ("2 minutes ago", "yesterday at 6:35 pm"), day names, lists and numbers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/time/time.h>

#include "locale/gettext.h"

namespace tornado::locale {

// A locale's English and native names. Tornado's LOCALE_NAMES values.
struct LocaleName {
  std::string name_en;
  std::string name;
};

// The known locale codes and their names ("es_LA" -> {"Spanish", "Español"}).
// Tornado's LOCALE_NAMES.
const std::map<std::string, LocaleName>& locale_names();

// Python's %-interpolation with named fields, as Tornado's translated strings use it:
// "%(name)s" and "%(n)d" take args[name]; "%%" is "%". Unknown or malformed fields are
// kept as written.
std::string format_named(std::string_view format, const std::map<std::string, std::string>& args);

// A language: its code, name, text direction, translations and formatting rules.
// Tornado's Locale. Instances are shared and immutable; get them from get().
class Locale {
 public:
  virtual ~Locale() = default;

  // Returns the closest supported locale for the codes, in order ("en-us", "fr_FR",
  // "pt"), or the default locale. Tornado's Locale.get_closest.
  static std::shared_ptr<const Locale> get_closest(const std::vector<std::string>& codes);
  // The locale for a supported code; nullptr if the code is not supported (Tornado
  // asserts). Tornado's Locale.get.
  static std::shared_ptr<const Locale> get(const std::string& code);

  const std::string& code() const { return code_; }
  // The native name ("Français"), "Unknown" if not in locale_names().
  const std::string& name() const { return name_; }
  // Right-to-left script (fa, ar, he).
  bool rtl() const { return rtl_; }

  // The translation of `message`; with `plural_message` and `count`, the form for
  // count (plural_message untranslated when count != 1). Tornado's translate.
  virtual std::string translate(std::string_view message) const = 0;
  virtual std::string translate(std::string_view message, std::string_view plural_message,
                                int64_t count) const = 0;
  // translate with a disambiguating context. Tornado's pgettext (CSV locales ignore
  // the context, as Tornado's do).
  virtual std::string pgettext(std::string_view context, std::string_view message) const = 0;
  virtual std::string pgettext(std::string_view context, std::string_view message,
                               std::string_view plural_message, int64_t count) const = 0;

  // Formats a time (in the past) relative to `now` ("2 minutes ago", "yesterday at
  // 6:35 pm", "Monday", "April 28", "April 28, 2013 at 6:35 pm"), in the zone
  // `gmt_offset` minutes west of UTC, as Tornado's format_date. `now` defaults to the
  // system clock; tests pass it. 12-hour clock for en/en_US/zh_CN, else 24-hour.
  std::string format_date(absl::Time date, int gmt_offset = 0, bool relative = true,
                          bool shorter = false, bool full_format = false,
                          std::optional<absl::Time> now = std::nullopt) const;
  // "Monday, January 22" (or "January 22" without dow). Tornado's format_day.
  std::string format_day(absl::Time date, int gmt_offset = 0, bool dow = true) const;
  // "A, B and C", "A and B", "A", "". Tornado's list.
  std::string list(const std::vector<std::string>& parts) const;
  // 1000000 -> "1,000,000" for English, plain digits otherwise. Tornado's friendly_number.
  std::string friendly_number(int64_t value) const;

  // Month (0 = January) and weekday (0 = Monday) names in this locale.
  const std::vector<std::string>& months() const { return months_; }
  const std::vector<std::string>& weekdays() const { return weekdays_; }

 protected:
  explicit Locale(std::string code);
  // Fills the month and weekday names through translate(); subclasses call it last in
  // their constructor.
  void init_names();

 private:
  std::string code_, name_;
  bool rtl_ = false;
  std::vector<std::string> months_, weekdays_;
};

// Translations from a CSV file: "unknown", "singular" and "plural" tables. Tornado's
// CSVLocale.
class CSVLocale : public Locale {
 public:
  using Table = std::map<std::string, std::string, std::less<>>;
  CSVLocale(std::string code, std::map<std::string, Table> translations);
  std::string translate(std::string_view message) const override;
  std::string translate(std::string_view message, std::string_view plural_message,
                        int64_t count) const override;
  std::string pgettext(std::string_view context, std::string_view message) const override;
  std::string pgettext(std::string_view context, std::string_view message,
                       std::string_view plural_message, int64_t count) const override;

 private:
  std::map<std::string, Table> translations_;
};

// Translations from a gettext catalog. Tornado's GettextLocale.
class GettextLocale : public Locale {
 public:
  GettextLocale(std::string code, std::shared_ptr<const MoCatalog> catalog);
  std::string translate(std::string_view message) const override;
  std::string translate(std::string_view message, std::string_view plural_message,
                        int64_t count) const override;
  std::string pgettext(std::string_view context, std::string_view message) const override;
  std::string pgettext(std::string_view context, std::string_view message,
                       std::string_view plural_message, int64_t count) const override;

 private:
  std::shared_ptr<const MoCatalog> catalog_;
};

// Locale::get_closest over the codes. Tornado's tornado.locale.get.
std::shared_ptr<const Locale> get(const std::vector<std::string>& codes);
template <class... Codes>
std::shared_ptr<const Locale> get(const Codes&... codes) {
  return get(std::vector<std::string>{std::string(codes)...});
}

// Sets the language the untranslated strings are in (default en_US). Tornado's
// set_default_locale.
void set_default_locale(const std::string& code);

// Loads every LOCALE.csv in `directory` (rows: message, translation, optional
// plural/singular/unknown; UTF-8, UTF-8 with BOM or UTF-16 with BOM) and makes CSV
// locales current. Files with a bad name or rows with a bad plural column are logged
// to gen_log and skipped, as Tornado does; an unreadable directory is an error.
// Tornado's load_translations.
absl::Status load_translations(const std::string& directory);

// Loads `directory/<lang>/LC_MESSAGES/<domain>.mo` for each lang and makes gettext
// locales current; an unreadable catalog is logged and skipped. Tornado's
// load_gettext_translations.
absl::Status load_gettext_translations(const std::string& directory, const std::string& domain);

// The supported codes (loaded ones plus the default), sorted. Tornado's
// get_supported_locales.
std::vector<std::string> get_supported_locales();

// Parses CSV text in Excel's dialect (quotes, doubled quotes, newlines in quoted
// fields) into rows of fields. Exposed for tests.
std::vector<std::vector<std::string>> parse_csv(std::string_view text);

// Decodes a file's bytes to UTF-8: a UTF-16 (LE/BE) BOM means UTF-16, a UTF-8 BOM is
// dropped, anything else is taken as UTF-8. Invalid UTF-16 becomes U+FFFD.
std::string decode_with_bom(std::string_view bytes);

}  // namespace tornado::locale
