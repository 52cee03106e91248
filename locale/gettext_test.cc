// Tests of the .mo reader and the Plural-Forms evaluator.
#include "locale/gettext.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tornado::locale {
namespace {

int64_t eval(std::string_view expr, int64_t n) {
  auto e = PluralExpression::parse(expr);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? e->evaluate(n) : -1;
}

TEST(PluralExpressionTest, CommonRules) {
  EXPECT_EQ(eval("n != 1", 1), 0);
  EXPECT_EQ(eval("n != 1", 0), 1);
  EXPECT_EQ(eval("(n > 1)", 1), 0);
  EXPECT_EQ(eval("(n > 1)", 2), 1);
  EXPECT_EQ(eval("0", 7), 0);
  const char* ru = "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)";
  EXPECT_EQ(eval(ru, 1), 0);
  EXPECT_EQ(eval(ru, 21), 0);
  EXPECT_EQ(eval(ru, 11), 2);
  EXPECT_EQ(eval(ru, 3), 1);
  EXPECT_EQ(eval(ru, 14), 2);
  const char* ar = "n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5";
  EXPECT_EQ(eval(ar, 0), 0);
  EXPECT_EQ(eval(ar, 2), 2);
  EXPECT_EQ(eval(ar, 105), 3);
  EXPECT_EQ(eval(ar, 111), 4);
  EXPECT_EQ(eval(ar, 100), 5);
  EXPECT_EQ(eval("!n", 0), 1);
  EXPECT_EQ(eval("n*2+1-3/3", 4), 8);
  EXPECT_EQ(eval("-n", 4), -4);
  EXPECT_EQ(eval("n/0 + n%0", 4), 0);  // no crash on division by zero
  EXPECT_EQ(eval("n*n*n*n*n*n", 9223372036854775807), eval("n*n*n*n*n*n", 9223372036854775807));
}

TEST(PluralExpressionTest, RejectsOtherInput) {
  for (const char* bad : {"", "n +", "x", "n = 1", "n | 1", "(n", "n ? 1", "1 2", "__import__('os')",
                          "99999999999999999999", "n >> 1"}) {
    EXPECT_FALSE(PluralExpression::parse(bad).ok()) << bad;
  }
  EXPECT_FALSE(PluralExpression::parse(std::string(10000, '(') + "n").ok());
  EXPECT_FALSE(PluralExpression::parse(std::string(1000, '(') + "n" + std::string(1000, ')')).ok());
  EXPECT_FALSE(PluralExpression::parse(std::string(200, '!') + "n").ok());
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

TEST(MoCatalogTest, ReadsMsgfmtOutput) {
  auto c = MoCatalog::load("locale/testdata/gettext/fr_FR/LC_MESSAGES/tornado_test.mo");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->gettext("school"), "école");
  EXPECT_EQ(c->gettext("nothing"), "nothing");
  EXPECT_EQ(c->gettext("law\x04right"), "le droit");
  EXPECT_EQ(c->ngettext("%(num)d apple", "%(num)d apples", 5), "%(num)d pommes");
  EXPECT_EQ(c->gettext("%(num)d apple"), "%(num)d apple");  // a plural entry, as Python
  EXPECT_TRUE(c->has("school"));
}

TEST(MoCatalogTest, BigEndianAndCorruptFiles) {
  std::string data = read("locale/testdata/gettext/fr_FR/LC_MESSAGES/tornado_test.mo");
  ASSERT_GT(data.size(), 28u);
  // Byte-swap the 7 header words and every table entry to make a big-endian file.
  std::string be = data;
  auto le32 = [&](size_t off) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + off);
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  };
  auto swap_at = [&](size_t off) { std::reverse(be.begin() + off, be.begin() + off + 4); };
  uint32_t n = le32(8), orig = le32(12), trans = le32(16);
  for (size_t off = 0; off < 28; off += 4) swap_at(off);
  for (uint32_t i = 0; i < n * 2; ++i) {
    swap_at(orig + i * 4);
    swap_at(trans + i * 4);
  }
  auto c = MoCatalog::parse(be);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->gettext("school"), "école");

  EXPECT_FALSE(MoCatalog::parse("").ok());
  EXPECT_FALSE(MoCatalog::parse(std::string(20, '\0')).ok());
  // Every truncation and many single-byte corruptions: errors or a catalog, no crash.
  for (size_t len = 0; len < data.size(); ++len) (void)MoCatalog::parse(data.substr(0, len));
  for (size_t i = 0; i < data.size(); ++i) {
    for (unsigned char v : {0x00, 0x7F, 0xFF}) {
      std::string bad = data;
      bad[i] = static_cast<char>(v);
      auto r = MoCatalog::parse(bad);
      if (r.ok()) (void)r->ngettext("%(num)d apple", "%(num)d apples", 3);
    }
  }
}

}  // namespace
}  // namespace tornado::locale
