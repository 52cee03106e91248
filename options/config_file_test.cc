// Tests of the config-file literal reader.
#include "options/config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <absl/strings/str_cat.h>

namespace tornado::options {
namespace {

using ::testing::HasSubstr;

PyValue parse_one(std::string_view text) {
  auto r = parse_config_text(absl::StrCat("v = ", absl::string_view(text.data(), text.size()), "\n"), "f.cfg");
  EXPECT_TRUE(r.ok()) << r.status() << " for " << text;
  if (!r.ok() || r->size() != 1) return PyValue{};
  return (*r)[0].value;
}

std::string error_of(std::string_view text) {
  auto r = parse_config_text(text, "f.cfg");
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : std::string(r.status().message());
}

PyValue S(std::string s) { return PyValue{std::move(s)}; }
PyValue I(int64_t i) { return PyValue{i}; }

TEST(ConfigFileTest, Scalars) {
  EXPECT_EQ(parse_one("42"), I(42));
  EXPECT_EQ(parse_one("-42"), I(-42));
  EXPECT_EQ(parse_one("1_000"), I(1000));
  EXPECT_EQ(parse_one("0o17"), I(15));
  EXPECT_EQ(parse_one("0b101"), I(5));
  EXPECT_EQ(parse_one("0"), I(0));
  EXPECT_EQ(parse_one("1.5"), PyValue{1.5});
  EXPECT_EQ(parse_one("-.5e1"), PyValue{-5.0});
  EXPECT_EQ(parse_one("True"), PyValue{true});
  EXPECT_EQ(parse_one("False"), PyValue{false});
  EXPECT_EQ(parse_one("None"), PyValue{PyValue::None{}});
  EXPECT_EQ(parse_one("__file__"), S("f.cfg"));
  EXPECT_EQ(parse_one("-9223372036854775807"), I(-9223372036854775807));
}

TEST(ConfigFileTest, Strings) {
  EXPECT_EQ(parse_one("'a\\tb\\n'"), S("a\tb\n"));
  EXPECT_EQ(parse_one("r'a\\tb'"), S("a\\tb"));
  EXPECT_EQ(parse_one("u'\\u00e9\\x41\\101\\U0001F600'"), S("\xc3\xa9" "AA\xf0\x9f\x98\x80"));
  EXPECT_EQ(parse_one("'a' \"b\" 'c'"), S("abc"));
  EXPECT_EQ(parse_one("'''x\ny'''"), S("x\ny"));
  EXPECT_EQ(parse_one("\"it's\""), S("it's"));
  EXPECT_EQ(parse_one("'\\d'"), S("\\d"));
  EXPECT_EQ(parse_one("'李康'"), S("李康"));
}

TEST(ConfigFileTest, Containers) {
  EXPECT_EQ(parse_one("[1, 'a', None,]"),
            (PyValue{PyValue::List{I(1), S("a"), PyValue{PyValue::None{}}}}));
  EXPECT_EQ(parse_one("(1,)"), (PyValue{PyValue::List{I(1)}}));
  EXPECT_EQ(parse_one("(1)"), I(1));
  EXPECT_EQ(parse_one("()"), (PyValue{PyValue::List{}}));
  EXPECT_EQ(parse_one("{'a': [1], 2: {}}"),
            (PyValue{PyValue::Dict{{S("a"), PyValue{PyValue::List{I(1)}}},
                                   {I(2), PyValue{PyValue::Dict{}}}}}));
}

TEST(ConfigFileTest, LinesCommentsAndContinuations) {
  auto r = parse_config_text(
      "\xEF\xBB\xBF# header\n\na = [1,\n  # inside\n  2]\r\nb = 1 + \\\n", "f.cfg");
  EXPECT_FALSE(r.ok());  // `+` between values is not a literal
  r = parse_config_text("# header\n\na = [1,\n  # inside\n  2]\r\nb = \\\n  'x'  # tail\nc=3;\n",
                        "f.cfg");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].name, "a");
  EXPECT_EQ((*r)[0].line, 3);
  EXPECT_EQ((*r)[1].value, S("x"));
  EXPECT_EQ((*r)[1].line, 6);
  EXPECT_EQ((*r)[2].line, 8);
}

TEST(ConfigFileTest, ErrorsNameFileAndLine) {
  EXPECT_THAT(error_of("a = 1\nimport os\n"), HasSubstr("f.cfg:2: expected `=` after `import`"));
  EXPECT_THAT(error_of("a = os.getcwd()\n"), HasSubstr("f.cfg:1: unsupported expression `os`"));
  EXPECT_THAT(error_of("a = 1\nb = [1,\n2\n"), HasSubstr("f.cfg:4:"));
  EXPECT_THAT(error_of("a = 'abc\n"), HasSubstr("f.cfg:1: end of line inside a string"));
  EXPECT_THAT(error_of("\n\na = '''abc\n\n"), HasSubstr("f.cfg:3: unterminated string"));
  EXPECT_THAT(error_of("a = 1 2\n"), HasSubstr("f.cfg:1: unexpected text"));
  EXPECT_THAT(error_of("a = 99999999999999999999\n"), HasSubstr("integer too large"));
  EXPECT_THAT(error_of("a = 012\n"), HasSubstr("leading zeros"));
  EXPECT_THAT(error_of("a == 1\n"), HasSubstr("expected `=`"));
  EXPECT_THAT(error_of("a = f'x'\n"), HasSubstr("f.cfg:1:"));
  EXPECT_THAT(error_of("a = -'x'\n"), HasSubstr("unary"));
  EXPECT_THAT(error_of("a = {[1]: 2}\n"), HasSubstr("scalar"));
  EXPECT_THAT(error_of("a = '\\xZZ'\n"), HasSubstr("escape"));
  EXPECT_THAT(error_of("a = [" + std::string(1000, '[')), HasSubstr("nested too deeply"));
}

}  // namespace
}  // namespace tornado::options
