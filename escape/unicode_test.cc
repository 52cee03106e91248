// Tests for utf8 / to_unicode / to_unicode_replace (Tornado's UnicodeLiteralTest and
// the utf8 parts of escape_test), with Python's decoding rules on invalid input.
#include "escape/unicode.h"

#include <string>

#include <gtest/gtest.h>

namespace tornado::escape {
namespace {

TEST(Utf8Test, EncodesCodePoints) {
  EXPECT_EQ(*utf8(U"\u00e9"), "\xc3\xa9");
  EXPECT_EQ(*utf8(U"a\u20ac\U0001F600"), "a\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(*utf8(u"\u00e9\U0001F600"), "\xc3\xa9\xf0\x9f\x98\x80");  // surrogate pair
  EXPECT_EQ(*utf8(std::u32string_view()), "");
}

TEST(Utf8Test, UnencodableIsAnError) {
  EXPECT_EQ(utf8(std::u32string(1, char32_t{0xD800})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(utf8(std::u32string(1, char32_t{0x110000})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(utf8(std::u16string(1, char16_t{0xDC00})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(utf8(std::u16string{0xD800, u'a'}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ToUnicodeTest, AcceptsValidUtf8) {
  EXPECT_EQ(*to_unicode("foo"), "foo");
  EXPECT_EQ(*to_unicode("\xc3\xa9\xf4\x8f\xbf\xbf"), "\xc3\xa9\xf4\x8f\xbf\xbf");
  EXPECT_EQ(*to_unicode(std::string("\0", 1)), std::string("\0", 1));
}

TEST(ToUnicodeTest, RejectsInvalidUtf8LikePython) {
  EXPECT_EQ(to_unicode("ab\xe9").status().message(),
            "'utf-8' codec can't decode byte 0xe9 in position 2: unexpected end of data");
  EXPECT_EQ(to_unicode("\xe9" "abc").status().message(),
            "'utf-8' codec can't decode byte 0xe9 in position 0: invalid continuation byte");
  EXPECT_EQ(to_unicode("\x80").status().message(),
            "'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte");
  EXPECT_EQ(to_unicode("\xe2\x82x").status().message(),
            "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte");
  // Overlong forms, surrogates and values above U+10FFFF.
  for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5\x80"}) {
    EXPECT_EQ(to_unicode(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ToUnicodeReplaceTest, MaximalSubpartsLikePython) {
  // Python: b"...".decode("utf-8", "replace").
  EXPECT_EQ(to_unicode_replace("a\xe9z"), "a\xef\xbf\xbdz");
  EXPECT_EQ(to_unicode_replace("\xe0\x80"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(to_unicode_replace("\xf0\x9f\x98" "A"), "\xef\xbf\xbd" "A");
  EXPECT_EQ(to_unicode_replace("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(to_unicode_replace("ok \xc3\xa9"), "ok \xc3\xa9");
}

TEST(ToUnicodeTest, LinearOnLargeInput) {
  std::string input;
  while (input.size() < (1u << 20)) input += "\xf0\x9f\x98";
  EXPECT_FALSE(to_unicode(input).ok());
  EXPECT_EQ(to_unicode_replace(input).size(), input.size());  // 3 bytes -> one U+FFFD
}

}  // namespace
}  // namespace tornado::escape
