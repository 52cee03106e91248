// Tests for squeeze (Tornado's test_squeeze) and the umbrella header.
#include "escape/escape.h"

#include <string>

#include <gtest/gtest.h>

#include "escape/version.h"

namespace tornado::escape {
namespace {

TEST(SqueezeTest, TornadoCase) {
  EXPECT_EQ(squeeze("sequences     of    whitespace   chars"), "sequences of whitespace chars");
}

TEST(SqueezeTest, ControlCharactersAndEnds) {
  EXPECT_EQ(squeeze(std::string("\t a\0\r\nb \x01 ", 11)), "a b");
  EXPECT_EQ(squeeze(""), "");
  EXPECT_EQ(squeeze(" \t\n "), "");
  // Python's strip() also drops Unicode spaces at the ends, but squeeze keeps them inside.
  EXPECT_EQ(squeeze("\u00a0 a\u00a0b \u3000"), "a\u00a0b");
  EXPECT_EQ(squeeze("\x7f x"), "\x7f x");
}

TEST(SqueezeTest, LinearOnLargeInput) {
  std::string input;
  while (input.size() < (1u << 20)) input += " a\t";
  const std::string out = squeeze(input);
  EXPECT_EQ(out.size(), 2 * (input.size() / 3) - 1);
}

TEST(EscapeTest, UmbrellaHeaderAndVersion) {
  EXPECT_EQ(xhtml_escape(url_unescape("%3C")), "&lt;");
  EXPECT_STREQ(kVersion, "0.2.0");
}

}  // namespace
}  // namespace tornado::escape
