// parse_header_value: Tornado's _parse_header doctest and RFC 2231 cases.
#include <string>

#include "gtest/gtest.h"
#include "httputil/httputil.h"

namespace tornado::httputil {
namespace {

using Params = std::map<std::string, std::string, std::less<>>;

TEST(ParseHeaderValueTest, TornadoDoctest) {
  auto h = parse_header_value("form-data; foo=\"b\\\\a\\\"r\"; file*=utf-8''T%C3%A4st");
  EXPECT_EQ(h.value, "form-data");
  EXPECT_EQ(h.params, (Params{{"foo", "b\\a\"r"}, {"file", "T\xc3\xa4st"}}));
}

TEST(ParseHeaderValueTest, Basics) {
  auto h = parse_header_value("  text/html ;  Charset = \"UTF-8\" ; q ; x=<y>");
  EXPECT_EQ(h.value, "text/html");
  EXPECT_EQ(h.params, (Params{{"charset", "UTF-8"}, {"x", "y"}}));
  EXPECT_EQ(parse_header_value("").value, "");
  EXPECT_TRUE(parse_header_value("").params.empty());
  EXPECT_EQ(parse_header_value("a; x=\"1;2\"; y=3").params, (Params{{"x", "1;2"}, {"y", "3"}}));
  // An unterminated quote swallows the rest.
  EXPECT_EQ(parse_header_value("a; x=\"1;y=3").params, (Params{{"x", "\"1;y=3"}}));
}

TEST(ParseHeaderValueTest, Rfc2231) {
  // filename* wins over filename, whatever the order.
  EXPECT_EQ(parse_header_value("a; filename*=UTF-8''%E2%82%AC.txt; filename=x").params,
            (Params{{"filename", "\xe2\x82\xac.txt"}}));
  EXPECT_EQ(parse_header_value("a; f*=iso-8859-1'en'%E9").params, (Params{{"f", "\xc3\xa9"}}));
  // No charset: us-ascii, non-ASCII bytes replaced.
  EXPECT_EQ(parse_header_value("a; f*=%E9x").params, (Params{{"f", "\xef\xbf\xbdx"}}));
  // Invalid UTF-8 is replaced too.
  EXPECT_EQ(parse_header_value("a; f*=utf-8''%FFx").params, (Params{{"f", "\xef\xbf\xbdx"}}));
  // Continuations, in number order.
  EXPECT_EQ(parse_header_value("a; t*1=\"def\"; t*0=\"abc\"").params, (Params{{"t", "abcdef"}}));
  EXPECT_EQ(parse_header_value("a; t*1*=%41; t*0*=utf-8''x").params, (Params{{"t", "xA"}}));
  // A bad escape stays as it is.
  EXPECT_EQ(parse_header_value("a; f*=utf-8''%zz%4").params, (Params{{"f", "%zz%4"}}));
}

TEST(ParseHeaderValueTest, LargeInputsAreLinear) {
  const std::size_t mb = 1 << 20;
  for (char c : {';', '"', '\\', '=', '*', '%', '\''}) {
    auto h = parse_header_value("a; x" + std::string(mb, c));
    EXPECT_EQ(h.value, "a") << c;
  }
  std::string many = "a";
  for (int i = 0; i < 100000; ++i) many += "; f*" + std::to_string(i) + "*=%41";
  EXPECT_EQ(parse_header_value(many).params.at("f").size(), 100000u);
}

}  // namespace
}  // namespace tornado::httputil
