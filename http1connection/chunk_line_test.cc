// parse_chunk_size_line: RFC 9112 7.1 / 7.1.1 cases, every byte at each kind of
// position against reference sets written here, a seeded random fuzz checked against a
// std::regex version of the grammar, 1 MB inputs.
#include "http1connection/chunk_line.h"

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "testing/allocation_counter.h"

namespace tornado::http1connection {
namespace {

const std::string kTchar =
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const std::string kHex = "0123456789abcdefABCDEF";

bool in(const std::string& set, int b) {
  return b > 0 && b < 128 && set.find(static_cast<char>(b)) != std::string::npos;
}
// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
bool is_qdtext(int b) {
  return b == 0x09 || b == 0x20 || b == 0x21 || (b >= 0x23 && b <= 0x5b) ||
         (b >= 0x5d && b <= 0x7e) || (b >= 0x80 && b <= 0xff);
}
std::string byte_str(int b) { return std::string(1, static_cast<char>(b)); }
bool ok(const std::string& line) { return parse_chunk_size_line(line).ok(); }

TEST(ChunkLineTest, Sizes) {
  const std::vector<std::pair<std::string, std::uint64_t>> cases = {
      {"0", 0},
      {"5", 5},
      {"a", 10},
      {"A", 10},
      {"1f", 31},
      {"1F", 31},
      {"00000", 0},
      {"0010", 16},
      {"fffffffffffffff", 0xfffffffffffffffULL},                         // 15 digits
      {std::string(49, '0') + "fffffffffffffff", 0xfffffffffffffffULL},  // 64 digits
      {std::string(64, '0'), 0},
  };
  for (const auto& [line, size] : cases) {
    auto r = parse_chunk_size_line(line);
    ASSERT_TRUE(r.ok()) << line << ": " << r.status();
    EXPECT_EQ(*r, size) << line;
  }
}

TEST(ChunkLineTest, SizeErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "invalid chunk size"},
      {";a=b", "invalid chunk size"},
      {" 5", "invalid chunk size"},
      {"+5", "invalid chunk size"},
      {"-5", "invalid chunk size"},
      {"0x5", "expected ';'"},
      {"5g", "expected ';'"},
      {"1000000000000000", "too long"},  // 16 significant digits
      {"ffffffffffffffff", "too long"},
      {std::string(65, '0'), "too long"},  // 65 digits in all
      {std::string(50, '0') + "fffffffffffffff", "too long"},
  };
  for (const auto& [line, msg] : cases) {
    auto r = parse_chunk_size_line(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_NE(r.status().message().find(msg), std::string_view::npos) << line << ": " << r.status();
  }
}

TEST(ChunkLineTest, ValidExtensions) {
  for (const char* line : {
           "5;a",
           "5;a=b",
           "5 ; a = b",
           "5\t;\ta\t=\tb",
           "5;a;b;c",
           "5;a=b;c=d",
           "5 ;a",
           "5; a",
           "5;a ;b",
           "5;a =b",
           "5;a= b",
           "5;name=\"quoted value\"",
           "5;a=\"\"",
           "5;a=\"\\\"\"",
           "5;a=\"x\\\\y\"",
           "5;a=\"tab\there\"",
           "5;a=\"\\\t\"",
           "5;a=\"\x80\xff\"",
           "5;a=\"\\\xff\"",
           "5;a=\"semi;colon\"",
           "5;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
           "5;a=\"x\";b=y",
           "5;a=\"x\" ;b",
           "0;ieof",
           "1a;signature=abc123",
       }) {
    auto r = parse_chunk_size_line(line);
    EXPECT_TRUE(r.ok()) << line << ": " << r.status();
  }
  EXPECT_EQ(*parse_chunk_size_line("1a ; a = \"b\""), 0x1au);
}

TEST(ChunkLineTest, InvalidExtensions) {
  for (std::string line : std::vector<std::string>{"5 ",
                                                   "5\t",
                                                   "5;a ",
                                                   "5;a=b ",
                                                   "5;a=\"b\" ",
                                                   "5;",
                                                   "5; ",
                                                   "5;;",
                                                   "5;;a",
                                                   "5;=x",
                                                   "5; =x",
                                                   "5;a=",
                                                   "5;a= ",
                                                   "5;a=;",
                                                   "5;a==b",
                                                   "5;a=b=c",
                                                   "5;a=\"b",
                                                   "5;a=\"b\\\"",
                                                   "5;a=\"b\\",
                                                   "5;a=\"b\"c",
                                                   "5;a=b\"c\"",
                                                   "5;a b",
                                                   "5;a=b c",
                                                   "5 a",
                                                   "5 ;a b=c",
                                                   "5;a=\"\x7f\"",
                                                   "5;a=\"\x01\"",
                                                   "5;a=\"\\\x7f\"",
                                                   "5;a=\"\\\x01\"",
                                                   "5;a=\"\r\"",
                                                   "5;a=\"\n\"",
                                                   std::string("5;a=\"\0\"", 7),
                                                   std::string("5\0", 2),
                                                   std::string("5;a\0", 4),
                                                   "5\r",
                                                   "5\n",
                                                   "5;a\r",
                                                   "5;a=b\r\n",
                                                   "5;\x80",
                                                   "5;a=\x80",
                                                   "5;a\xff",
                                                   "5;a\x7f",
                                                   "5;a=\x7f",
                                                   "5;(a)",
                                                   "5;a=(b)",
                                                   "5;a=b,c",
                                                   "5;a/b",
                                                   "5;a=b/c",
                                                   "5;a=\"",
                                                   "5,a"}) {
    auto r = parse_chunk_size_line(line);
    EXPECT_FALSE(r.ok()) << "\"" << line << "\" (" << line.size() << " bytes)";
  }
}

// Every byte at each position, against the reference sets.
TEST(ChunkLineTest, EveryByteAfterSize) {
  for (int b = 0; b < 256; ++b) {
    // "5" + b: only another hex digit ("5;" has an empty name, "5 " trailing BWS).
    EXPECT_EQ(ok("5" + byte_str(b)), in(kHex, b)) << "byte " << b;
    // "5" + b + ";a": a hex digit or BWS.
    EXPECT_EQ(ok("5" + byte_str(b) + ";a"), in(kHex, b) || b == ' ' || b == '\t') << "byte " << b;
    // first byte
    EXPECT_EQ(ok(byte_str(b) + "0"), in(kHex, b)) << "byte " << b;
  }
}

TEST(ChunkLineTest, EveryByteInName) {
  for (int b = 0; b < 256; ++b) {
    // ";" starts another extension, "=" a value ("b").
    EXPECT_EQ(ok("5;a" + byte_str(b) + "b"), in(kTchar + ";=", b)) << "byte " << b;
    EXPECT_EQ(ok("5;" + byte_str(b)), in(kTchar, b)) << "byte " << b;
    EXPECT_EQ(ok("5;" + byte_str(b) + "a"), in(kTchar, b) || b == ' ' || b == '\t') << "byte " << b;
  }
}

TEST(ChunkLineTest, EveryByteInTokenValue) {
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(ok("5;a=x" + byte_str(b) + "y"), in(kTchar + ";", b)) << "byte " << b;
    // first byte of the value: a tchar, or '"' (then "y" is unterminated: error), or BWS.
    EXPECT_EQ(ok("5;a=" + byte_str(b) + "y"), in(kTchar, b) || b == ' ' || b == '\t')
        << "byte " << b;
  }
}

TEST(ChunkLineTest, EveryByteInQuotedString) {
  for (int b = 0; b < 256; ++b) {
    // "\" begins a quoted-pair ("\y"): valid too.
    EXPECT_EQ(ok("5;a=\"x" + byte_str(b) + "y\""), is_qdtext(b) || b == '\\') << "byte " << b;
    // after "\": HTAB / SP / VCHAR / obs-text (so `"\""` is a closed string).
    const bool pair = b == 0x09 || b == 0x20 || (b >= 0x21 && b <= 0x7e) || b >= 0x80;
    EXPECT_EQ(ok("5;a=\"\\" + byte_str(b) + "\""), pair) << "byte " << b;
    // without a closing quote: unterminated, whatever was escaped.
    EXPECT_FALSE(ok("5;a=\"\\" + byte_str(b))) << "byte " << b;
    // after the closing quote: only BWS + ";" or the end.
    EXPECT_EQ(ok("5;a=\"x\"" + byte_str(b) + "b"), b == ';') << "byte " << b;
  }
}

// A std::regex version of RFC 9112 7.1 (ASCII only: obs-text is covered above).
std::string chunk_regex() {
  const std::string tchar = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
  const std::string token = tchar + "+";
  const std::string qs = "\"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t \\x21-\\x7e])*\"";
  const std::string bws = "[ \\t]*";
  return "^[0-9A-Fa-f]+(?:" + bws + ";" + bws + token + "(?:" + bws + "=" + bws + "(?:" + token +
         "|" + qs + "))?)*$";
}

TEST(ChunkLineFuzzTest, RandomInputsMatchRegexGrammar) {
  const std::string alphabet = "0aF; \t=\"\\x!,\r\n\x7f\x01\x80";
  const std::regex grammar(chunk_regex());
  std::mt19937 rng(71);
  int accepted = 0;
  for (int iter = 0; iter < 40000; ++iter) {
    std::string s = (rng() % 8 == 0) ? "" : "1";
    const int len = static_cast<int>(rng() % 14);
    for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    const bool got = ok(s);
    if (s.find('\x80') == std::string::npos) {
      EXPECT_EQ(got, std::regex_match(s, grammar)) << "\"" << s << "\"";
    }
    accepted += got;
  }
  EXPECT_GT(accepted, 1000);  // both outcomes exercised
}

TEST(ChunkLineTest, MegabyteInputsAreLinear) {
  const std::size_t mb = 1 << 20;
  std::string exts = "1";
  while (exts.size() < mb) exts += " ; a = b";
  EXPECT_TRUE(ok(exts));
  EXPECT_TRUE(ok("1;a=\"" + std::string(mb, 'x') + "\""));
  std::string escapes = "1;a=\"";
  while (escapes.size() < mb) escapes += "\\\"";
  EXPECT_TRUE(ok(escapes + "\""));
  EXPECT_FALSE(ok(escapes));
  EXPECT_FALSE(ok("1" + std::string(mb, ' ')));
  EXPECT_FALSE(ok("1;a" + std::string(mb, ' ')));  // BWS after a name is looked past once
  EXPECT_TRUE(ok("1;a" + std::string(mb, ' ') + ";b"));
  EXPECT_FALSE(ok(std::string(mb, '0')));
  EXPECT_FALSE(ok(std::string(mb, 'f')));
  EXPECT_TRUE(ok("1;" + std::string(mb, 'a')));
}

TEST(ChunkLineTest, NoAllocationOnSuccess) {
  const std::string line = "1a ; name = \"quoted \\\" value\" ; b=c";
  const long before = tornado::testing::allocation_count();
  auto r = parse_chunk_size_line(line);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(tornado::testing::allocation_count(), before);
  EXPECT_FALSE(parse_chunk_size_line("5 ").ok());  // the counter works
  EXPECT_GT(tornado::testing::allocation_count(), before);
}

}  // namespace
}  // namespace tornado::http1connection
