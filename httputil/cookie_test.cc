// parse_cookie and HTTPServerRequest::cookies: Tornado's ParseCookieTest plus large
// adversarial inputs.
#include <string>

#include "gtest/gtest.h"
#include "httputil/httputil.h"

namespace tornado::httputil {
namespace {

using CookieMap = std::map<std::string, std::string, std::less<>>;

TEST(ParseCookieTest, PythonCookies) {
  EXPECT_EQ(parse_cookie("chips=ahoy; vienna=finger"),
            (CookieMap{{"chips", "ahoy"}, {"vienna", "finger"}}));
  // Every ';' splits, even inside quotes.
  EXPECT_EQ(
      parse_cookie("keebler=\"E=mc2; L=\\\"Loves\\\"; fudge=\\012;\""),
      (CookieMap{{"keebler", "\"E=mc2"}, {"L", "\\\"Loves\\\""}, {"fudge", "\\012"}, {"", "\""}}));
  EXPECT_EQ(parse_cookie("keebler=E=mc2"), (CookieMap{{"keebler", "E=mc2"}}));
  EXPECT_EQ(parse_cookie("key:term=value:term"), (CookieMap{{"key:term", "value:term"}}));
  EXPECT_EQ(parse_cookie("a=b; c=[; d=r; f=h"),
            (CookieMap{{"a", "b"}, {"c", "["}, {"d", "r"}, {"f", "h"}}));
}

TEST(ParseCookieTest, CookieEdgecases) {
  EXPECT_EQ(parse_cookie("a=b; Domain=example.com"),
            (CookieMap{{"a", "b"}, {"Domain", "example.com"}}));
  EXPECT_EQ(parse_cookie("a=b; h=i; a=c"), (CookieMap{{"a", "c"}, {"h", "i"}}));
}

TEST(ParseCookieTest, InvalidCookies) {
  EXPECT_TRUE(parse_cookie("abc=def; unnamed; django_language=en").contains("django_language"));
  EXPECT_EQ(parse_cookie("a=b; \"; c=d"), (CookieMap{{"a", "b"}, {"", "\""}, {"c", "d"}}));
  EXPECT_EQ(parse_cookie("a b c=d e = f; gh=i"), (CookieMap{{"a b c", "d e = f"}, {"gh", "i"}}));
  EXPECT_EQ(parse_cookie("a   b,c<>@:/[]?{}=d  \"  =e,f g"),
            (CookieMap{{"a   b,c<>@:/[]?{}", "d  \"  =e,f g"}}));
  EXPECT_EQ(parse_cookie("saint=Andr\xc3\xa9 Bessette"),
            (CookieMap{{"saint", "Andr\xc3\xa9 Bessette"}}));
  EXPECT_EQ(parse_cookie("  =  b  ;  ;  =  ;   c  =  ;  "), (CookieMap{{"", "b"}, {"c", ""}}));
}

TEST(ParseCookieTest, Unquote) {
  const std::pair<std::string, std::string> cases[] = {
      {R"(a="b=\"")", "b=\""},       {R"(a="b=\\")", "b=\\"},
      {R"(a="b=\=")", "b=="},        {R"(a="b=\n")", "b=n"},
      {R"(a="b=\042")", "b=\""},     {R"(a="b=\134")", "b=\\"},
      {R"(a="b=\377")", "b=\xff"},  // the byte: our values are bytes
      {R"(a="b=\400")", "b=400"},    {R"(a="b=\42")", "b=42"},
      {R"(a="b=\\042")", "b=\\042"}, {R"(a="b=\\134")", "b=\\134"},
      {R"(a="b=\\\"")", "b=\\\""},   {R"(a="b=\\\042")", "b=\\\""},
      {R"(a="b=\134\"")", "b=\\\""}, {R"(a="b=\134\042")", "b=\\\""},
      {"a=\"b=\\\nc\"", "b=\\\nc"},  // "." in Python's regex is not a newline
      {R"(a="b=\")", "b=\\"},        // a lone trailing backslash stays
  };
  for (const auto& [encoded, decoded] : cases) {
    EXPECT_EQ(parse_cookie(encoded)["a"], decoded) << encoded;
  }
}

// Tornado's test_unquote_large (CVE-2024-52804), at 10x its size.
TEST(ParseCookieTest, UnquoteLarge) {
  const int n = 1000000;
  for (std::string encoded : {"\\\\", "\\134"}) {
    std::string data = "a=\"b=";
    for (int i = 0; i < n; ++i) data += encoded;
    data += "\"";
    std::string value = parse_cookie(data)["a"];
    EXPECT_EQ(value.size(), static_cast<std::size_t>(n + 2));
    EXPECT_EQ(value.substr(0, 3), "b=\\");
    EXPECT_EQ(value.substr(value.size() - 3), "\\\\\\");
  }
}

// 1 MB of each separator-like byte: a quadratic parser would not finish.
TEST(ParseCookieTest, AdversarialLargeInputs) {
  const std::size_t mb = 1 << 20;
  EXPECT_TRUE(parse_cookie(std::string(mb, ';')).empty());
  auto eq = parse_cookie(std::string(mb, '='));
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[""].size(), mb - 1);
  auto quotes = parse_cookie(std::string(mb, '"'));
  EXPECT_EQ(quotes[""].size(), mb - 2);
  auto mixed = parse_cookie("a=\"" + std::string(mb, '\\') + "\"");
  EXPECT_EQ(mixed["a"].size(), mb / 2);
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "k" + std::to_string(i) + "=v; ";
  EXPECT_EQ(parse_cookie(many).size(), 100000u);
}

TEST(HTTPServerRequestTest, Cookies) {
  HTTPServerRequest req;
  EXPECT_TRUE(req.cookies().empty());
  req.headers.add("Cookie", "a=1; Path=/; =x; b c=2; d=\"q\\\"\"");
  req.headers.add("Cookie", "e=5");
  // Names SimpleCookie refuses (reserved, empty, illegal characters) are dropped.
  EXPECT_EQ(req.cookies(), (CookieMap{{"a", "1"}, {"d", "q\""}, {"e", "5"}}));
}

}  // namespace
}  // namespace tornado::httputil
