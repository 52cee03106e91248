// Locale, CSV and gettext locales, the loaders and the shared locale state.
#include "locale/locale.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <absl/strings/str_join.h>
#include <absl/time/civil_time.h>
#include <re2/re2.h>

#include "escape/unicode.h"
#include "log/log.h"

namespace tornado::locale {
namespace {

constexpr char kContextSeparator = '\x04';

struct State {
  std::mutex mu;
  std::string default_locale = "en_US";
  std::map<std::string, std::map<std::string, CSVLocale::Table>> csv;
  std::map<std::string, std::shared_ptr<const MoCatalog>> mo;
  bool use_gettext = false;
  std::set<std::string> supported = {"en_US"};
  std::map<std::string, std::shared_ptr<const Locale>> cache;
};

State& state() {
  static State* s = new State();  // never destroyed
  return *s;
}

void update_supported(State& s) {
  s.supported.clear();
  if (s.use_gettext) {
    for (const auto& [k, v] : s.mo) s.supported.insert(k);
  } else {
    for (const auto& [k, v] : s.csv) s.supported.insert(k);
  }
  s.supported.insert(s.default_locale);
  s.cache.clear();
}

absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

std::string str_strip(std::string_view s) {
  absl::string_view t = absl::StripAsciiWhitespace(A(s));
  return std::string(t);
}

}  // namespace

const std::map<std::string, LocaleName>& locale_names() {
  static const auto* names = new std::map<std::string, LocaleName>{
      {"af_ZA", {"Afrikaans", "Afrikaans"}},
      {"am_ET", {"Amharic", "አማርኛ"}},
      {"ar_AR", {"Arabic", "العربية"}},
      {"bg_BG", {"Bulgarian", "Български"}},
      {"bn_IN", {"Bengali", "বাংলা"}},
      {"bs_BA", {"Bosnian", "Bosanski"}},
      {"ca_ES", {"Catalan", "Català"}},
      {"cs_CZ", {"Czech", "Čeština"}},
      {"cy_GB", {"Welsh", "Cymraeg"}},
      {"da_DK", {"Danish", "Dansk"}},
      {"de_DE", {"German", "Deutsch"}},
      {"el_GR", {"Greek", "Ελληνικά"}},
      {"en_GB", {"English (UK)", "English (UK)"}},
      {"en_US", {"English (US)", "English (US)"}},
      {"es_ES", {"Spanish (Spain)", "Español (España)"}},
      {"es_LA", {"Spanish", "Español"}},
      {"et_EE", {"Estonian", "Eesti"}},
      {"eu_ES", {"Basque", "Euskara"}},
      {"fa_IR", {"Persian", "فارسی"}},
      {"fi_FI", {"Finnish", "Suomi"}},
      {"fr_CA", {"French (Canada)", "Français (Canada)"}},
      {"fr_FR", {"French", "Français"}},
      {"ga_IE", {"Irish", "Gaeilge"}},
      {"gl_ES", {"Galician", "Galego"}},
      {"he_IL", {"Hebrew", "עברית"}},
      {"hi_IN", {"Hindi", "हिन्दी"}},
      {"hr_HR", {"Croatian", "Hrvatski"}},
      {"hu_HU", {"Hungarian", "Magyar"}},
      {"id_ID", {"Indonesian", "Bahasa Indonesia"}},
      {"is_IS", {"Icelandic", "Íslenska"}},
      {"it_IT", {"Italian", "Italiano"}},
      {"ja_JP", {"Japanese", "日本語"}},
      {"ko_KR", {"Korean", "한국어"}},
      {"lt_LT", {"Lithuanian", "Lietuvių"}},
      {"lv_LV", {"Latvian", "Latviešu"}},
      {"mk_MK", {"Macedonian", "Македонски"}},
      {"ml_IN", {"Malayalam", "മലയാളം"}},
      {"ms_MY", {"Malay", "Bahasa Melayu"}},
      {"nb_NO", {"Norwegian (bokmal)", "Norsk (bokmål)"}},
      {"nl_NL", {"Dutch", "Nederlands"}},
      {"nn_NO", {"Norwegian (nynorsk)", "Norsk (nynorsk)"}},
      {"pa_IN", {"Punjabi", "ਪੰਜਾਬੀ"}},
      {"pl_PL", {"Polish", "Polski"}},
      {"pt_BR", {"Portuguese (Brazil)", "Português (Brasil)"}},
      {"pt_PT", {"Portuguese (Portugal)", "Português (Portugal)"}},
      {"ro_RO", {"Romanian", "Română"}},
      {"ru_RU", {"Russian", "Русский"}},
      {"sk_SK", {"Slovak", "Slovenčina"}},
      {"sl_SI", {"Slovenian", "Slovenščina"}},
      {"sq_AL", {"Albanian", "Shqip"}},
      {"sr_RS", {"Serbian", "Српски"}},
      {"sv_SE", {"Swedish", "Svenska"}},
      {"sw_KE", {"Swahili", "Kiswahili"}},
      {"ta_IN", {"Tamil", "தமிழ்"}},
      {"te_IN", {"Telugu", "తెలుగు"}},
      {"th_TH", {"Thai", "ภาษาไทย"}},
      {"tl_PH", {"Filipino", "Filipino"}},
      {"tr_TR", {"Turkish", "Türkçe"}},
      {"uk_UA", {"Ukrainian", "Українська"}},
      {"vi_VN", {"Vietnamese", "Tiếng Việt"}},
      {"zh_CN", {"Chinese (Simplified)", "中文(简体)"}},
      {"zh_TW", {"Chinese (Traditional)", "中文(繁體)"}},
  };
  return *names;
}

std::string format_named(std::string_view format, const std::map<std::string, std::string>& args) {
  std::string out;
  size_t i = 0;
  while (i < format.size()) {
    char c = format[i];
    if (c != '%') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '%') {
      out += '%';
      i += 2;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '(') {
      size_t close = format.find(')', i + 2);
      if (close != std::string_view::npos && close + 1 < format.size() &&
          (format[close + 1] == 's' || format[close + 1] == 'd')) {
        auto it = args.find(std::string(format.substr(i + 2, close - i - 2)));
        if (it != args.end()) {
          out += it->second;
          i = close + 2;
          continue;
        }
      }
    }
    out += c;
    ++i;
  }
  return out;
}

// ---- Locale ----

Locale::Locale(std::string code) : code_(std::move(code)) {
  auto it = locale_names().find(code_);
  name_ = it == locale_names().end() ? "Unknown" : it->second.name;
  for (const char* prefix : {"fa", "ar", "he"}) {
    if (code_.starts_with(prefix)) rtl_ = true;
  }
}

void Locale::init_names() {
  for (const char* m : {"January", "February", "March", "April", "May", "June", "July",
                        "August", "September", "October", "November", "December"}) {
    months_.push_back(translate(m));
  }
  for (const char* d : {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                        "Sunday"}) {
    weekdays_.push_back(translate(d));
  }
}

std::shared_ptr<const Locale> Locale::get_closest(const std::vector<std::string>& codes) {
  std::string fallback;
  {
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    for (std::string code : codes) {
      if (code.empty()) continue;
      std::replace(code.begin(), code.end(), '-', '_');
      std::vector<std::string> parts;
      size_t start = 0;
      while (true) {
        size_t u = code.find('_', start);
        parts.push_back(code.substr(start, u == std::string::npos ? std::string::npos : u - start));
        if (u == std::string::npos) break;
        start = u + 1;
        if (parts.size() > 2) break;
      }
      if (parts.size() > 2) continue;
      if (parts.size() == 2) {
        code = absl::AsciiStrToLower(parts[0]) + "_" + absl::AsciiStrToUpper(parts[1]);
      }
      if (s.supported.contains(code)) {
        fallback = code;
        break;
      }
      std::string lang = absl::AsciiStrToLower(parts[0]);
      if (s.supported.contains(lang)) {
        fallback = lang;
        break;
      }
    }
    if (fallback.empty()) fallback = s.default_locale;
  }
  std::shared_ptr<const Locale> l = get(fallback);
  return l ? l : std::shared_ptr<const Locale>(new CSVLocale(fallback, {}));
}

std::shared_ptr<const Locale> Locale::get(const std::string& code) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (auto it = s.cache.find(code); it != s.cache.end()) return it->second;
  if (!s.supported.contains(code)) return nullptr;
  std::shared_ptr<const Locale> l;
  if (s.use_gettext) {
    auto it = s.mo.find(code);
    if (it != s.mo.end()) l = std::make_shared<GettextLocale>(code, it->second);
  } else {
    auto it = s.csv.find(code);
    if (it != s.csv.end()) l = std::make_shared<CSVLocale>(code, it->second);
  }
  if (!l) l = std::make_shared<CSVLocale>(code, std::map<std::string, CSVLocale::Table>{});
  s.cache[code] = l;
  return l;
}

std::string Locale::format_date(absl::Time date, int gmt_offset, bool relative, bool shorter,
                                bool full_format, std::optional<absl::Time> now_opt) const {
  absl::Time now = now_opt ? *now_opt : absl::Now();
  // Python's timedelta keeps microseconds; so do we.
  auto floor_div = [](int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); };
  if (date > now) {
    int64_t ahead = absl::ToInt64Microseconds(date - now);
    int64_t ahead_seconds = (ahead - floor_div(ahead, 86400000000) * 86400000000) / 1000000;
    if (relative && ahead_seconds < 60) {
      date = now;  // clock skew: the near future reads as now
    } else {
      full_format = true;
    }
  }
  absl::CivilSecond local_date =
      absl::ToCivilSecond(date - absl::Minutes(gmt_offset), absl::UTCTimeZone());
  absl::CivilSecond local_now = absl::ToCivilSecond(now - absl::Minutes(gmt_offset), absl::UTCTimeZone());
  absl::CivilSecond local_yesterday = local_now - 86400;
  int64_t diff_us = absl::ToInt64Microseconds(now - date);
  int64_t days = floor_div(diff_us, 86400000000);
  int64_t seconds = (diff_us - days * 86400000000) / 1000000;

  std::string format;
  if (!full_format) {
    if (relative && days == 0) {
      if (seconds < 50) {
        return format_named(translate("1 second ago", "%(seconds)d seconds ago", seconds),
                            {{"seconds", absl::StrCat(seconds)}});
      }
      if (seconds < 50 * 60) {
        auto minutes = static_cast<int64_t>(std::nearbyint(seconds / 60.0));
        return format_named(translate("1 minute ago", "%(minutes)d minutes ago", minutes),
                            {{"minutes", absl::StrCat(minutes)}});
      }
      auto hours = static_cast<int64_t>(std::nearbyint(seconds / 3600.0));
      return format_named(translate("1 hour ago", "%(hours)d hours ago", hours),
                          {{"hours", absl::StrCat(hours)}});
    }
    if (days == 0) {
      format = translate("%(time)s");
    } else if (days == 1 && local_date.day() == local_yesterday.day() && relative) {
      format = shorter ? translate("yesterday") : translate("yesterday at %(time)s");
    } else if (days < 5) {
      format = shorter ? translate("%(weekday)s") : translate("%(weekday)s at %(time)s");
    } else if (days < 334) {  // 11 months: same month last year would confuse
      format = shorter ? translate("%(month_name)s %(day)s")
                       : translate("%(month_name)s %(day)s at %(time)s");
    }
  }
  if (format.empty()) {
    format = shorter ? translate("%(month_name)s %(day)s, %(year)s")
                     : translate("%(month_name)s %(day)s, %(year)s at %(time)s");
  }
  int hour = local_date.hour(), minute = local_date.minute();
  std::string str_time;
  if (code_ != "en" && code_ != "en_US" && code_ != "zh_CN") {
    str_time = absl::StrFormat("%d:%02d", hour, minute);
  } else if (code_ == "zh_CN") {
    str_time = absl::StrFormat("%s%d:%02d", hour >= 12 ? "\u4e0b\u5348" : "\u4e0a\u5348",
                               hour % 12 == 0 ? 12 : hour % 12, minute);
  } else {
    str_time = absl::StrFormat("%d:%02d %s", hour % 12 == 0 ? 12 : hour % 12, minute,
                               hour >= 12 ? "pm" : "am");
  }
  int weekday = (static_cast<int>(absl::GetWeekday(absl::CivilDay(local_date))) -
                 static_cast<int>(absl::Weekday::monday) + 7) % 7;
  return format_named(format, {{"month_name", months_[local_date.month() - 1]},
                               {"weekday", weekdays_[weekday]},
                               {"day", absl::StrCat(local_date.day())},
                               {"year", absl::StrCat(local_date.year())},
                               {"time", str_time}});
}

std::string Locale::format_day(absl::Time date, int gmt_offset, bool dow) const {
  absl::CivilSecond local = absl::ToCivilSecond(date - absl::Minutes(gmt_offset), absl::UTCTimeZone());
  int weekday = (static_cast<int>(absl::GetWeekday(absl::CivilDay(local))) -
                 static_cast<int>(absl::Weekday::monday) + 7) % 7;
  std::map<std::string, std::string> args = {{"month_name", months_[local.month() - 1]},
                                             {"weekday", weekdays_[weekday]},
                                             {"day", absl::StrCat(local.day())}};
  return format_named(dow ? translate("%(weekday)s, %(month_name)s %(day)s")
                          : translate("%(month_name)s %(day)s"),
                      args);
}

std::string Locale::list(const std::vector<std::string>& parts) const {
  if (parts.empty()) return "";
  if (parts.size() == 1) return parts[0];
  const char* comma = code_.starts_with("fa") ? " \u0648 " : ", ";
  std::vector<std::string> head(parts.begin(), parts.end() - 1);
  return format_named(translate("%(commas)s and %(last)s"),
                      {{"commas", absl::StrJoin(head, comma)}, {"last", parts.back()}});
}

std::string Locale::friendly_number(int64_t value) const {
  std::string s = absl::StrCat(value);
  if (code_ != "en" && code_ != "en_US") return s;
  // Python groups the text of str(value), so a minus sign counts as a digit.
  std::vector<std::string> parts;
  while (!s.empty()) {
    size_t take = std::min<size_t>(3, s.size());
    parts.insert(parts.begin(), s.substr(s.size() - take));
    s.resize(s.size() - take);
  }
  return absl::StrJoin(parts, ",");
}

// ---- CSVLocale ----

CSVLocale::CSVLocale(std::string code, std::map<std::string, Table> translations)
    : Locale(std::move(code)), translations_(std::move(translations)) {
  init_names();
}

namespace {
std::string lookup(const std::map<std::string, CSVLocale::Table>& t, const std::string& kind,
                   std::string_view message) {
  auto table = t.find(kind);
  if (table == t.end()) return std::string(message);
  auto it = table->second.find(message);
  return it == table->second.end() ? std::string(message) : it->second;
}
}  // namespace

std::string CSVLocale::translate(std::string_view message) const {
  return lookup(translations_, "unknown", message);
}

std::string CSVLocale::translate(std::string_view message, std::string_view plural_message,
                                 int64_t count) const {
  if (count != 1) return lookup(translations_, "plural", plural_message);
  return lookup(translations_, "singular", message);
}

std::string CSVLocale::pgettext(std::string_view, std::string_view message) const {
  if (!translations_.empty()) TORNADO_LOG_WARNING(log::gen_log(), "pgettext is not supported by CSVLocale");
  return translate(message);
}

std::string CSVLocale::pgettext(std::string_view, std::string_view message,
                                std::string_view plural_message, int64_t count) const {
  if (!translations_.empty()) TORNADO_LOG_WARNING(log::gen_log(), "pgettext is not supported by CSVLocale");
  return translate(message, plural_message, count);
}

// ---- GettextLocale ----

GettextLocale::GettextLocale(std::string code, std::shared_ptr<const MoCatalog> catalog)
    : Locale(std::move(code)), catalog_(std::move(catalog)) {
  init_names();
}

std::string GettextLocale::translate(std::string_view message) const {
  return catalog_->gettext(message);
}

std::string GettextLocale::translate(std::string_view message, std::string_view plural_message,
                                     int64_t count) const {
  return catalog_->ngettext(message, plural_message, count);
}

std::string GettextLocale::pgettext(std::string_view context, std::string_view message) const {
  std::string key = absl::StrCat(A(context), std::string(1, kContextSeparator), A(message));
  std::string result = catalog_->gettext(key);
  if (result.find(kContextSeparator) != std::string::npos) return std::string(message);
  return result;
}

std::string GettextLocale::pgettext(std::string_view context, std::string_view message,
                                    std::string_view plural_message, int64_t count) const {
  std::string sep(1, kContextSeparator);
  std::string result = catalog_->ngettext(absl::StrCat(A(context), sep, A(message)),
                                          absl::StrCat(A(context), sep, A(plural_message)), count);
  if (result.find(kContextSeparator) != std::string::npos) {
    return catalog_->ngettext(message, plural_message, count);
  }
  return result;
}

// ---- loading ----

std::shared_ptr<const Locale> get(const std::vector<std::string>& codes) {
  return Locale::get_closest(codes);
}

void set_default_locale(const std::string& code) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.default_locale = code;
  update_supported(s);
}

std::vector<std::string> get_supported_locales() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return {s.supported.begin(), s.supported.end()};
}

std::string decode_with_bom(std::string_view bytes) {
  bool le = bytes.starts_with("\xFF\xFE"), be = bytes.starts_with("\xFE\xFF");
  if (!le && !be) {
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    return std::string(bytes);
  }
  std::string out;
  out.reserve(bytes.size());
  auto unit = [&](size_t i) -> uint32_t {
    auto a = static_cast<unsigned char>(bytes[i]), b = static_cast<unsigned char>(bytes[i + 1]);
    return le ? (uint32_t{b} << 8 | a) : (uint32_t{a} << 8 | b);
  };
  size_t i = 2;
  while (i + 1 < bytes.size()) {
    uint32_t u = unit(i);
    i += 2;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < bytes.size()) {
      uint32_t lo = unit(i);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        i += 2;
        escape::append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
        continue;
      }
    }
    escape::append_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u);
  }
  if (i < bytes.size()) escape::append_utf8(out, 0xFFFD);  // odd trailing byte
  return out;
}

std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, any = false;
  size_t i = 0;
  auto end_row = [&] {
    if (any || !field.empty() || !row.empty()) {
      row.push_back(std::move(field));
      rows.push_back(std::move(row));
    } else {
      rows.emplace_back();  // a blank line is an empty row, as Python's csv gives
    }
    row.clear();
    field.clear();
    any = false;
  };
  while (i < text.size()) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          i += 2;
          continue;
        }
        in_quotes = false;
      } else {
        field += c;
      }
      ++i;
      continue;
    }
    if (c == '"' && field.empty()) {
      in_quotes = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_row();
    } else {
      field += c;
    }
    ++i;
  }
  if (any || !field.empty() || !row.empty()) end_row();
  return rows;
}

absl::Status load_translations(const std::string& directory) {
  std::error_code ec;
  std::filesystem::directory_iterator it(directory, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list ", directory, ": ", ec.message()));
  static const RE2 kLocaleName("[a-z]+(_[A-Z]+)?");
  std::map<std::string, std::map<std::string, CSVLocale::Table>> translations;
  for (const auto& entry : it) {
    std::string file = entry.path().filename().string();
    if (!file.ends_with(".csv")) continue;
    std::string locale = file.substr(0, file.size() - 4);
    if (!RE2::FullMatch(locale, kLocaleName)) {
      TORNADO_LOG_ERROR(log::gen_log(), "Unrecognized locale '{}' (path: {})", locale, entry.path().string());
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = decode_with_bom(buf.str());
    auto& tables = translations[locale];
    std::vector<std::vector<std::string>> rows = parse_csv(text);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::vector<std::string>& row = rows[i];
      if (row.size() < 2) continue;
      for (std::string& cell : row) cell = str_strip(cell);
      std::string plural = row.size() > 2 && !row[2].empty() ? row[2] : "unknown";
      if (plural != "plural" && plural != "singular" && plural != "unknown") {
        TORNADO_LOG_ERROR(log::gen_log(), "Unrecognized plural indicator '{}' in {} line {}", plural, file, i + 1);
        continue;
      }
      tables[plural].insert_or_assign(row[0], row[1]);
    }
  }
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.csv = std::move(translations);
  s.mo.clear();
  s.use_gettext = false;
  update_supported(s);
  return absl::OkStatus();
}

absl::Status load_gettext_translations(const std::string& directory, const std::string& domain) {
  std::error_code ec;
  std::filesystem::directory_iterator it(directory, ec);
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list ", directory, ": ", ec.message()));
  std::map<std::string, std::shared_ptr<const MoCatalog>> catalogs;
  for (const auto& entry : it) {
    std::filesystem::path mo = entry.path() / "LC_MESSAGES" / (domain + ".mo");
    if (!std::filesystem::is_regular_file(mo, ec)) continue;
    std::string lang = entry.path().filename().string();
    absl::StatusOr<MoCatalog> cat = MoCatalog::load(mo.string());
    if (!cat.ok()) {
      TORNADO_LOG_ERROR(log::gen_log(), "Cannot load translation for '{}': {}", lang,
                           std::string(cat.status().message()));
      continue;
    }
    catalogs[lang] = std::make_shared<const MoCatalog>(std::move(*cat));
  }
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.mo = std::move(catalogs);
  s.csv.clear();
  s.use_gettext = true;
  update_supported(s);
  return absl::OkStatus();
}

}  // namespace tornado::locale
