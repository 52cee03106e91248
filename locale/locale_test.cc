// Tests of tornado::locale, following tornado/test/locale_test.py.
#include "locale/locale.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <absl/time/civil_time.h>

namespace tornado::locale {
namespace {

using ::testing::ElementsAre;

std::string tmpdir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

// Every test starts and ends with no translations and en_US as the default.
class LocaleTest : public ::testing::Test {
 protected:
  void SetUp() override { reset(); }
  void TearDown() override { reset(); }
  static void reset() {
    std::filesystem::create_directories(tmpdir() + "/empty");
    ASSERT_TRUE(load_translations(tmpdir() + "/empty").ok());
    set_default_locale("en_US");
  }
};

absl::Time utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST_F(LocaleTest, Csv) {
  ASSERT_TRUE(load_translations("locale/testdata/csv").ok());
  auto l = get("fr_FR");
  ASSERT_NE(dynamic_cast<const CSVLocale*>(l.get()), nullptr);
  EXPECT_EQ(l->translate("school"), "école");
  EXPECT_EQ(l->translate("%(name)s liked this", "%(name)s liked this", 1), "A %(name)s a aimé ça");
  EXPECT_EQ(l->translate("%(name)s liked this", "%(name)s liked this", 2),
            "A %(name)s ont aimé ça");
  EXPECT_EQ(l->translate("quoted \"word\""), "mot \"cité\"");
  EXPECT_EQ(l->translate("bad row"), "bad row");  // bad plural column: skipped
  EXPECT_EQ(l->translate("untranslated"), "untranslated");
  EXPECT_EQ(l->pgettext("ctx", "school"), "école");  // CSV ignores the context
  EXPECT_EQ(l->name(), "Français");
  EXPECT_THAT(get_supported_locales(), ElementsAre("en_US", "es_LA", "fr_FR"));
}

TEST_F(LocaleTest, CsvBom) {
  std::ifstream in("locale/testdata/csv/fr_FR.csv", std::ios::binary);
  std::string utf8((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // UTF-16 in both byte orders (Python writes the native one), and UTF-8 with BOM.
  std::u16string u16;
  for (size_t i = 0; i < utf8.size();) {
    unsigned char c = utf8[i];
    char32_t cp;
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    cp = n == 1 ? c : c & (0xFF >> (n + 1));
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (utf8[i + k] & 0x3F);
    i += n;
    ASSERT_LT(cp, 0x10000u);
    u16 += static_cast<char16_t>(cp);
  }
  std::string le = "\xFF\xFE", be = "\xFE\xFF";
  for (char16_t u : u16) {
    le += static_cast<char>(u & 0xFF);
    le += static_cast<char>(u >> 8);
    be += static_cast<char>(u >> 8);
    be += static_cast<char>(u & 0xFF);
  }
  for (const std::string& data : {std::string("\xEF\xBB\xBF") + utf8, le, be}) {
    std::string dir = tmpdir() + "/bom";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/fr_FR.csv", std::ios::binary) << data;
    ASSERT_TRUE(load_translations(dir).ok());
    auto l = get("fr_FR");
    ASSERT_NE(dynamic_cast<const CSVLocale*>(l.get()), nullptr);
    EXPECT_EQ(l->translate("school"), "école");
  }
}

TEST_F(LocaleTest, Gettext) {
  ASSERT_TRUE(load_gettext_translations("locale/testdata/gettext", "tornado_test").ok());
  auto l = get("fr_FR");
  ASSERT_NE(dynamic_cast<const GettextLocale*>(l.get()), nullptr);
  EXPECT_EQ(l->translate("school"), "école");
  EXPECT_EQ(l->pgettext("law", "right"), "le droit");
  EXPECT_EQ(l->pgettext("good", "right"), "le bien");
  EXPECT_EQ(l->pgettext("organization", "club", "clubs", 1), "le club");
  EXPECT_EQ(l->pgettext("organization", "club", "clubs", 2), "les clubs");
  EXPECT_EQ(l->pgettext("stick", "club", "clubs", 1), "le bâton");
  EXPECT_EQ(l->pgettext("stick", "club", "clubs", 2), "les bâtons");
  // Unknown context: falls back to the message (and plain ngettext for plurals).
  EXPECT_EQ(l->pgettext("nope", "right"), "right");
  EXPECT_EQ(l->pgettext("nope", "%(num)d apple", "%(num)d apples", 0), "%(num)d pomme");
  // fr plural rule n > 1: 0 is singular.
  EXPECT_EQ(l->translate("%(num)d apple", "%(num)d apples", 0), "%(num)d pomme");
  EXPECT_EQ(l->translate("%(num)d apple", "%(num)d apples", 2), "%(num)d pommes");
  EXPECT_EQ(l->translate("%(num)d pear", "%(num)d pears", 2), "%(num)d pears");
  EXPECT_EQ(l->weekdays()[0], "lundi");
  EXPECT_THAT(get_supported_locales(), ElementsAre("en_US", "fr_FR", "pl_PL"));
}

TEST_F(LocaleTest, GettextThreePluralForms) {
  ASSERT_TRUE(load_gettext_translations("locale/testdata/gettext", "tornado_test").ok());
  auto l = get("pl-pl");
  ASSERT_EQ(l->code(), "pl_PL");
  std::vector<std::string> got;
  for (int n : {1, 2, 4, 5, 12, 22, 25, 101, 0}) got.push_back(l->translate("file", "files", n));
  EXPECT_THAT(got, ElementsAre("plik", "pliki", "pliki", "plików", "plików", "pliki", "plików",
                               "plików", "plików"));
}

TEST_F(LocaleTest, GetClosest) {
  ASSERT_TRUE(load_translations("locale/testdata/csv").ok());
  EXPECT_EQ(get("fr-fr")->code(), "fr_FR");
  EXPECT_EQ(get("de_DE", "es_LA")->code(), "es_LA");
  EXPECT_EQ(get("xx", "a_b_c", "")->code(), "en_US");
  EXPECT_EQ(get()->code(), "en_US");
  set_default_locale("es");
  ASSERT_TRUE(load_translations("locale/testdata/csv").ok());
  EXPECT_EQ(get("ES_MX")->code(), "es");  // the language alone matches
  EXPECT_EQ(get("zz")->code(), "es");
  EXPECT_EQ(Locale::get("de_DE"), nullptr);
  EXPECT_EQ(get("fr_FR"), get("fr_FR"));  // cached
}

TEST_F(LocaleTest, LoadErrors) {
  EXPECT_FALSE(load_translations("locale/testdata/no-such-dir").ok());
  EXPECT_FALSE(load_gettext_translations("locale/testdata/no-such-dir", "x").ok());
  std::string dir = tmpdir() + "/badmo/de_DE/LC_MESSAGES";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/d.mo", std::ios::binary) << "not a catalog at all";
  ASSERT_TRUE(load_gettext_translations(tmpdir() + "/badmo", "d").ok());
  EXPECT_THAT(get_supported_locales(), ElementsAre("en_US"));  // skipped, logged
}

TEST_F(LocaleTest, NonAsciiNameAndRtl) {
  EXPECT_EQ(locale_names().at("es_LA").name, "Español");
  EXPECT_EQ(locale_names().at("es_LA").name, "Espa\xc3\xb1ol");
  EXPECT_FALSE(get("en_US")->rtl());
  set_default_locale("fa_IR");
  auto fa = get("fa_IR");
  EXPECT_TRUE(fa->rtl());
  EXPECT_EQ(fa->name(), "فارسی");
  EXPECT_EQ(fa->list({"A", "B", "C"}), "A \u0648 B and C");
  EXPECT_EQ(fa->format_date(utc(2013, 4, 28, 18, 35), 0, true, false, true, utc(2020, 1, 1, 0, 0)),
            "April 28, 2013 at 18:35");
}

TEST_F(LocaleTest, EnglishFormatDate) {
  auto l = get("en_US");
  EXPECT_EQ(l->format_date(utc(2013, 4, 28, 18, 35), 0, true, false, /*full_format=*/true),
            "April 28, 2013 at 6:35 pm");
  absl::Time now = utc(2024, 3, 15, 12, 0, 30);
  auto fmt = [&](absl::Duration ago, bool shorter = false) {
    return l->format_date(now - ago, 0, true, shorter, false, now);
  };
  EXPECT_EQ(fmt(absl::Seconds(2)), "2 seconds ago");
  EXPECT_EQ(fmt(absl::Seconds(1)), "1 second ago");
  EXPECT_EQ(fmt(absl::Minutes(2)), "2 minutes ago");
  EXPECT_EQ(fmt(absl::Seconds(60)), "1 minute ago");
  EXPECT_EQ(fmt(absl::Hours(2)), "2 hours ago");
  EXPECT_EQ(fmt(absl::Minutes(55)), "1 hour ago");
  EXPECT_EQ(fmt(absl::Hours(24), true), "yesterday");
  EXPECT_EQ(fmt(absl::Hours(24)), "yesterday at 12:00 pm");
  absl::Time d = now - absl::Hours(48);  // Wednesday
  EXPECT_EQ(fmt(absl::Hours(48), true), "Wednesday");
  EXPECT_EQ(l->weekdays()[2], "Wednesday");
  EXPECT_EQ(fmt(absl::Hours(48)), "Wednesday at 12:00 pm");
  EXPECT_EQ(fmt(absl::Hours(24 * 300), true), "May 20");
  EXPECT_EQ(fmt(absl::Hours(24 * 500), true), "November 1, 2022");
  EXPECT_EQ(fmt(absl::Hours(24 * 500)), "November 1, 2022 at 12:00 pm");
  // Not relative: today's time only.
  EXPECT_EQ(l->format_date(now - absl::Minutes(5), 0, /*relative=*/false, false, false, now),
            "11:55 am");
  // Slightly in the future reads as now; further is the full format.
  EXPECT_EQ(l->format_date(now + absl::Seconds(30), 0, true, false, false, now), "0 seconds ago");
  EXPECT_EQ(l->format_date(now + absl::Hours(2), 0, true, false, false, now),
            "March 15, 2024 at 2:00 pm");
  (void)d;
}

TEST_F(LocaleTest, FormatDateGmtOffsetAnd24Hour) {
  absl::Time now = utc(2024, 3, 15, 2, 0);
  auto en = get("en_US");
  // 2024-03-14 23:00 UTC is 17:00 six hours west (gmt_offset = 360 minutes).
  EXPECT_EQ(en->format_date(utc(2024, 3, 14, 23, 0), 360, true, false, true, now),
            "March 14, 2024 at 5:00 pm");
  // Yesterday is decided in local time: 27 h ago is the 13th, not the 14th, so a
  // weekday name; 26 h ago is the 14th. One hour east, 13th 23:30 UTC is the 14th.
  EXPECT_EQ(en->format_date(utc(2024, 3, 14, 0, 0), 0, true, true, false, now), "yesterday");
  EXPECT_EQ(en->format_date(utc(2024, 3, 13, 23, 0), 0, true, true, false, now), "Wednesday");
  EXPECT_EQ(en->format_date(utc(2024, 3, 13, 23, 30), 0, true, true, false, now), "Wednesday");
  EXPECT_EQ(en->format_date(utc(2024, 3, 13, 23, 30), -60, true, true, false, now), "yesterday");
  auto de = get("de_DE");  // not supported: en_US, but check a 24 h locale directly
  ASSERT_TRUE(load_translations("locale/testdata/csv").ok());
  auto fr = get("fr_FR");
  EXPECT_EQ(fr->format_date(utc(2013, 4, 28, 18, 35), 0, true, false, true, now),
            "avril 28, 2013 at 18:35");
  EXPECT_EQ(fr->format_date(utc(2013, 4, 28, 18, 35), 0, true, true, true, now), "avril 28, 2013");
  set_default_locale("zh_CN");
  EXPECT_EQ(get("zh_CN")->format_date(utc(2013, 4, 28, 18, 35), 0, true, false, true, now),
            "April 28, 2013 at \u4e0b\u53486:35");
  (void)de;
}

TEST_F(LocaleTest, FriendlyNumber) {
  EXPECT_EQ(get("en_US")->friendly_number(1000000), "1,000,000");
  EXPECT_EQ(get("en_US")->friendly_number(999), "999");
  EXPECT_EQ(get("en_US")->friendly_number(0), "0");
  ASSERT_TRUE(load_translations("locale/testdata/csv").ok());
  EXPECT_EQ(get("fr_FR")->friendly_number(1000000), "1000000");
}

TEST_F(LocaleTest, List) {
  auto l = get("en_US");
  EXPECT_EQ(l->list({}), "");
  EXPECT_EQ(l->list({"A"}), "A");
  EXPECT_EQ(l->list({"A", "B"}), "A and B");
  EXPECT_EQ(l->list({"A", "B", "C"}), "A, B and C");
}

TEST_F(LocaleTest, FormatDay) {
  auto l = get("en_US");
  absl::Time date = utc(2013, 4, 28, 18, 35);
  EXPECT_EQ(l->format_day(date, 0, true), "Sunday, April 28");
  EXPECT_EQ(l->format_day(date, 0, false), "April 28");
  EXPECT_EQ(l->format_day(date, 20 * 60, true), "Saturday, April 27");
  ASSERT_TRUE(load_translations("locale/testdata/csv").ok());
  EXPECT_EQ(get("fr_FR")->format_day(utc(2013, 4, 29, 1, 0), 0, false), "29 avril");
}

TEST(FormatNamedTest, Fields) {
  EXPECT_EQ(format_named("%(a)s and %(b)d, 100%%", {{"a", "x"}, {"b", "2"}}), "x and 2, 100%");
  EXPECT_EQ(format_named("%(missing)s %(a %", {{"a", "x"}}), "%(missing)s %(a %");
}

TEST(CsvTest, ParsesExcelDialect) {
  auto rows = parse_csv("a,\"b,c\",\"d\"\"e\"\r\n\n\"multi\nline\",x\nlast");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_THAT(rows[0], ElementsAre("a", "b,c", "d\"e"));
  EXPECT_TRUE(rows[1].empty());
  EXPECT_THAT(rows[2], ElementsAre("multi\nline", "x"));
  EXPECT_THAT(rows[3], ElementsAre("last"));
  EXPECT_TRUE(parse_csv("").empty());
}

TEST(DecodeTest, Boms) {
  EXPECT_EQ(decode_with_bom("\xEF\xBB\xBFok"), "ok");
  EXPECT_EQ(decode_with_bom(std::string("\xFF\xFE" "A\0\x3D\xD8\x00\xDE", 8)), "A\xF0\x9F\x98\x80");
  EXPECT_EQ(decode_with_bom(std::string("\xFE\xFF\0A\xD8\x3D", 6)), "A\xEF\xBF\xBD");
  EXPECT_EQ(decode_with_bom("plain"), "plain");
}

}  // namespace
}  // namespace tornado::locale
