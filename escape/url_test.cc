// Tests for url_escape / url_unescape: Tornado's test_url_escape_unicode,
// test_url_unescape_unicode and test_url_escape_quote_plus, plus edge cases.
#include "escape/url.h"

#include <string>

#include <gtest/gtest.h>

namespace tornado::escape {
namespace {

TEST(UrlEscapeTest, Unicode) {
  EXPECT_EQ(url_escape("\xc3\xa9"), "%C3%A9");  // UTF-8 bytes (Tornado: str or bytes)
  EXPECT_EQ(url_escape("\xe9"), "%E9");         // Latin-1 bytes pass through as bytes
}

TEST(UrlUnescapeTest, Unicode) {
  EXPECT_EQ(url_unescape("%C3%A9", Encoding::kUtf8), "\xc3\xa9");
  EXPECT_EQ(url_unescape("%C3%A9", Encoding::kLatin1), "\xc3\x83\xc2\xa9");  // "Ã©"
  EXPECT_EQ(url_unescape("%C3%A9", Encoding::kBytes), "\xc3\xa9");
}

TEST(UrlEscapeTest, QuotePlus) {
  const std::string unescaped = "+ #%";
  const std::string plus_escaped = "%2B+%23%25";
  const std::string escaped = "%2B%20%23%25";
  EXPECT_EQ(url_escape(unescaped), plus_escaped);
  EXPECT_EQ(url_escape(unescaped, /*plus=*/false), escaped);
  EXPECT_EQ(url_unescape(plus_escaped), unescaped);
  EXPECT_EQ(url_unescape(escaped, Encoding::kUtf8, /*plus=*/false), unescaped);
  EXPECT_EQ(url_unescape(plus_escaped, Encoding::kBytes), unescaped);
  EXPECT_EQ(url_unescape(escaped, Encoding::kBytes, /*plus=*/false), unescaped);
}

TEST(UrlEscapeTest, SafeCharactersAndSlash) {
  EXPECT_EQ(url_escape("AZaz09_.-~"), "AZaz09_.-~");
  EXPECT_EQ(url_escape("a/b c"), "a%2Fb+c");
  EXPECT_EQ(url_escape("a/b c", false), "a/b%20c");
  EXPECT_EQ(url_escape(std::string("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(url_escape("!*'();:@&=$,?#[]"), "%21%2A%27%28%29%3B%3A%40%26%3D%24%2C%3F%23%5B%5D");
}

TEST(UrlUnescapeTest, MalformedEscapesStay) {
  EXPECT_EQ(url_unescape("100%"), "100%");
  EXPECT_EQ(url_unescape("%4"), "%4");
  EXPECT_EQ(url_unescape("%zz%41"), "%zzA");
  EXPECT_EQ(url_unescape("%%41"), "%A");
  EXPECT_EQ(url_unescape("%e9%E9", Encoding::kBytes), "\xe9\xe9");
  EXPECT_EQ(url_unescape("a+b", Encoding::kUtf8, false), "a+b");
}

TEST(UrlUnescapeTest, InvalidUtf8BecomesReplacementCharacter) {
  // Python: unquote("%E9x") == "\ufffdx"; "%E2%82" is one maximal subpart.
  EXPECT_EQ(url_unescape("%E9x"), "\xef\xbf\xbdx");
  EXPECT_EQ(url_unescape("%E2%82x"), "\xef\xbf\xbdx");
  EXPECT_EQ(url_unescape("\xc3\xa9%41"), "\xc3\xa9" "A");   // literal UTF-8 is kept
  EXPECT_EQ(url_unescape("\xc3\xa9%E9", Encoding::kLatin1), "\xc3\xa9\xc3\xa9");
}

TEST(UrlEscapeTest, RoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(url_unescape(url_escape(all), Encoding::kBytes), all);
  EXPECT_EQ(url_unescape(url_escape(all, false), Encoding::kBytes, false), all);
}

TEST(UrlEscapeTest, LinearOnAdversarialInput) {
  constexpr size_t kSize = 1 << 20;
  for (const std::string unit : {"%", "%4", "%41", "+", "%E9"}) {
    std::string input;
    while (input.size() < kSize) input += unit;
    EXPECT_LE(url_unescape(input).size(), 3 * input.size()) << unit;
    EXPECT_EQ(url_unescape(url_escape(input), Encoding::kBytes), input) << unit;
  }
}

}  // namespace
}  // namespace tornado::escape
