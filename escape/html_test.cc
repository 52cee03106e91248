// Tests for xhtml_escape / xhtml_unescape: Tornado's test_xhtml_escape and
// test_xhtml_unescape_numeric, HTML5 reference rules, adversarial inputs.
#include "escape/html.h"

#include <string>

#include <gtest/gtest.h>

namespace tornado::escape {
namespace {

TEST(XhtmlEscapeTest, TornadoCases) {
  // (unescaped, escaped); Tornado checks both directions.
  const std::pair<std::string, std::string> cases[] = {
      {"<foo>", "&lt;foo&gt;"},
      {"<>&\"'", "&lt;&gt;&amp;&quot;&#x27;"},
      {"&amp;", "&amp;amp;"},
      {"<\xc3\xa9>", "&lt;\xc3\xa9&gt;"},
  };
  for (const auto& [unescaped, escaped] : cases) {
    EXPECT_EQ(xhtml_escape(unescaped), escaped);
    EXPECT_EQ(xhtml_unescape(escaped), unescaped);
  }
}

TEST(XhtmlEscapeTest, OtherBytesPassThrough) {
  EXPECT_EQ(xhtml_escape(""), "");
  EXPECT_EQ(xhtml_escape("plain text /=;"), "plain text /=;");
  EXPECT_EQ(xhtml_escape(std::string("a\0b\xff", 4)), std::string("a\0b\xff", 4));
}

TEST(XhtmlUnescapeTest, TornadoNumericCases) {
  const std::pair<const char*, const char*> cases[] = {
      {"foo&#32;bar", "foo bar"},
      {"foo&#x20;bar", "foo bar"},
      {"foo&#X20;bar", "foo bar"},
      {"foo&#xabc;bar", "foo\xe0\xaa\xbc" "bar"},
      {"foo&#xyz;bar", "foo&#xyz;bar"},  // invalid encoding
      {"foo&#;bar", "foo&#;bar"},        // invalid encoding
      {"foo&#x;bar", "foo&#x;bar"},      // invalid encoding
  };
  for (const auto& [escaped, unescaped] : cases) EXPECT_EQ(xhtml_unescape(escaped), unescaped) << escaped;
}

// Expected values are Python 3.11's html.unescape (what Tornado 6.5 calls).
TEST(XhtmlUnescapeTest, Html5NumericRules) {
  const std::pair<const char*, const char*> cases[] = {
      {"&#0;", "\xef\xbf\xbd"},          {"&#x80;", "\xe2\x82\xac"},
      {"&#128;", "\xe2\x82\xac"},        {"&#x81;", "\xc2\x81"},
      {"&#xD800;", "\xef\xbf\xbd"},      {"&#x110000;", "\xef\xbf\xbd"},
      {"&#99999999999999999999;", "\xef\xbf\xbd"},
      {"&#1;", ""},                      {"&#x7f;", ""},
      {"&#xFFFE;", ""},                  {"&#x10FFFF;", ""},
      {"&#13;", "\r"},                   {"&#65abc", "Aabc"},
      {"&#x41", "A"},                    {"&#x1F600;", "\xf0\x9f\x98\x80"},
  };
  for (const auto& [escaped, unescaped] : cases) EXPECT_EQ(xhtml_unescape(escaped), unescaped) << escaped;
}

TEST(XhtmlUnescapeTest, NamedReferences) {
  const std::pair<const char*, const char*> cases[] = {
      {"&amp;", "&"},
      {"&eacute;", "\xc3\xa9"},
      {"&lt", "<"},  // legacy name without ';'
      {"&LT;", "<"},
      {"&ampx", "&x"},
      {"&notit;", "\xc2\xac" "it;"},  // longest known prefix
      {"&notin;", "\xe2\x88\x89"},
      {"&NotEqualTilde;", "\xe2\x89\x82\xcc\xb8"},  // two code points
      {"&CounterClockwiseContourIntegral;", "\xe2\x88\xb3"},  // longest name
      {"&Amp;", "&Amp;"},
      {"&unknown;", "&unknown;"},
      {"&foo;bar", "&foo;bar"},
      {"&&lt;", "&<"},
      {"&;", "&;"},
      {"& amp;", "& amp;"},
      {"&a\xc3\xa9;", "&a\xc3\xa9;"},
      {"trailing &", "trailing &"},
  };
  for (const auto& [escaped, unescaped] : cases) EXPECT_EQ(xhtml_unescape(escaped), unescaped) << escaped;
}

TEST(XhtmlUnescapeTest, Html4Names) {
  // A sample across Python's name2codepoint table (the HTML 4 names).
  EXPECT_EQ(xhtml_unescape("&nbsp;&copy;&Omega;&hearts;&zwj;&thetasym;&yuml;&quot;&apos;"),
            "\xc2\xa0\xc2\xa9\xce\xa9\xe2\x99\xa5\xe2\x80\x8d\xcf\x91\xc3\xbf\"'");
}

TEST(XhtmlUnescapeTest, InvalidUtf8PassesThrough) {
  EXPECT_EQ(xhtml_unescape("\xff&amp;\xc3"), "\xff&\xc3");
}

TEST(XhtmlUnescapeTest, LinearOnAdversarialInput) {
  constexpr size_t kSize = 1 << 20;
  for (const std::string unit : {"&", "&#", "&#x", "&a", "&amp", "&#1", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    std::string input;
    while (input.size() < kSize) input += unit;
    const std::string out = xhtml_unescape(input);
    EXPECT_LE(out.size(), input.size()) << unit;
  }
  std::string digits = "&#" + std::string(kSize, '9') + ";";
  EXPECT_EQ(xhtml_unescape(digits), "\xef\xbf\xbd");
  EXPECT_EQ(xhtml_escape(std::string(kSize, '&')).size(), 5 * kSize);
}

}  // namespace
}  // namespace tornado::escape
