// url_concat, qs_to_qsl, format_timestamp, encode_username_password,
// split_host_and_port: Tornado's TestUrlConcat, QsParseTest, FormatTimestampTest.
#include <chrono>

#include "gtest/gtest.h"
#include "httputil/httputil.h"

namespace tornado::httputil {
namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

TEST(UrlConcatTest, TornadoCases) {
  EXPECT_EQ(url_concat("https://localhost/path", {{"y", "y"}, {"z", "z"}}),
            "https://localhost/path?y=y&z=z");
  EXPECT_EQ(url_concat("https://localhost/path", {{"y", "/y"}, {"z", "z"}}),
            "https://localhost/path?y=%2Fy&z=z");
  EXPECT_EQ(url_concat("https://localhost/path?", {{"y", "y"}, {"z", "z"}}),
            "https://localhost/path?y=y&z=z");
  EXPECT_EQ(url_concat("https://localhost/path?x", {{"y", "y"}, {"z", "z"}}),
            "https://localhost/path?x=&y=y&z=z");
  EXPECT_EQ(url_concat("https://localhost/path?x&", {{"y", "y"}, {"z", "z"}}),
            "https://localhost/path?x=&y=y&z=z");
  EXPECT_EQ(url_concat("https://localhost/path?a=1&b=2", {{"y", "y"}, {"z", "z"}}),
            "https://localhost/path?a=1&b=2&y=y&z=z");
  EXPECT_EQ(url_concat("https://localhost/path?r=1&t=2", {}), "https://localhost/path?r=1&t=2");
  EXPECT_EQ(url_concat("https://localhost/path#tab", {{"y", "y"}}),
            "https://localhost/path?y=y#tab");
  EXPECT_EQ(url_concat("https://localhost/path", {{"y", "y1"}, {"y", "y2"}}),
            "https://localhost/path?y=y1&y=y2");
  EXPECT_EQ(url_concat("https://localhost/path?r=1&r=2", {{"y", "y"}}),
            "https://localhost/path?r=1&r=2&y=y");
  EXPECT_EQ(url_concat("https://localhost/path", {{"y", "y"}}), "https://localhost/path?y=y");
}

TEST(UrlConcatTest, ReencodesAndKeepsFragment) {
  EXPECT_EQ(url_concat("/p?a=%41+b&c=%2f#f?x=1", {{"d e", "\xc3\xa9"}}),
            "/p?a=A+b&c=%2F&d+e=%C3%A9#f?x=1");
  EXPECT_EQ(url_concat("/p?#", {}), "/p");
}

TEST(QsToQslTest, Parsing) {
  auto qsl = qs_to_qsl(parse_qs_bytes("a=1&b=2&a=3"));
  EXPECT_EQ(qsl, (Args{{"a", "1"}, {"a", "3"}, {"b", "2"}}));
}

TEST(FormatTimestampTest, Formats) {
  using namespace std::chrono;
  auto t = system_clock::time_point(
      duration_cast<system_clock::duration>(duration<double>(1359312200.503611)));
  EXPECT_EQ(format_timestamp(t), "Sun, 27 Jan 2013 18:43:20 GMT");
  EXPECT_EQ(format_timestamp(system_clock::time_point(seconds(784111777))),
            "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_timestamp(system_clock::time_point()), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(EncodeUsernamePasswordTest, Joins) {
  EXPECT_EQ(encode_username_password("user", "p:w\xc3\xa9"), "user:p:w\xc3\xa9");
}

TEST(SplitHostAndPortTest, Cases) {
  using R = std::pair<std::string, std::optional<int>>;
  EXPECT_EQ(*split_host_and_port("example.com:8080"), (R{"example.com", 8080}));
  EXPECT_EQ(*split_host_and_port("example.com"), (R{"example.com", std::nullopt}));
  EXPECT_EQ(*split_host_and_port("[::1]:80"), (R{"[::1]", 80}));
  EXPECT_EQ(*split_host_and_port("[::1]"), (R{"[::1]", std::nullopt}));
  EXPECT_EQ(*split_host_and_port("host:"), (R{"host:", std::nullopt}));
  EXPECT_FALSE(split_host_and_port("host:99999").ok());
  EXPECT_EQ(*split_host_and_port("host:123456"), (R{"host:123456", std::nullopt}));
  EXPECT_EQ(*split_host_and_port("h:0"), (R{"h", 0}));
  EXPECT_EQ(*split_host_and_port("h:00080"), (R{"h", 80}));
  EXPECT_EQ(*split_host_and_port("1:2"), (R{"1", 2}));
  EXPECT_EQ(*split_host_and_port("12345"), (R{"12345", std::nullopt}));
  EXPECT_EQ(*split_host_and_port(":80"), (R{":80", std::nullopt}));
  EXPECT_EQ(*split_host_and_port("a::80"), (R{"a::80", std::nullopt}));
  EXPECT_EQ(*split_host_and_port("::1"), (R{"::1", std::nullopt}));
  EXPECT_EQ(*split_host_and_port("a:8b0"), (R{"a:8b0", std::nullopt}));
  EXPECT_EQ(*split_host_and_port("a:b:80"), (R{"a:b", 80}));
  EXPECT_EQ(*split_host_and_port(""), (R{"", std::nullopt}));
}

}  // namespace
}  // namespace tornado::httputil
