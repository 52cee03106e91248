// Tests for linkify: Tornado's linkify_tests table (tornado/test/escape_test.py), word
// boundary and Unicode cases checked against Tornado 6.5, and adversarial inputs.
#include "escape/linkify.h"

#include <string>

#include <gtest/gtest.h>

namespace tornado::escape {
namespace {

struct Case {
  std::string text;
  LinkifyOptions options;
  std::string html;
};

std::string internal_or_external(std::string_view href) {
  return href.starts_with("http://www.internal-link.com") ? R"x(class="internal")x"
                                                          : R"x(rel="nofollow" class="external")x";
}

TEST(LinkifyTest, TornadoTable) {
  const Case cases[] = {
      {"hello http://world.com/!", {}, R"x(hello <a href="http://world.com/">http://world.com/</a>!)x"},
      {"hello http://world.com/with?param=true&stuff=yes", {},
       R"x(hello <a href="http://world.com/with?param=true&amp;stuff=yes">http://world.com/with?param=true&amp;stuff=yes</a>)x"},
      // An opened paren followed by many chars killed Gruber's regex.
      {"http://url.com/w(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", {},
       R"x(<a href="http://url.com/w">http://url.com/w</a>(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa)x"},
      // As did too many dots at the end.
      {"http://url.com/withmany.......................................", {},
       R"x(<a href="http://url.com/withmany">http://url.com/withmany</a>.......................................)x"},
      {"http://url.com/withmany((((((((((((((((((((((((((((((((((a)", {},
       R"x(<a href="http://url.com/withmany">http://url.com/withmany</a>((((((((((((((((((((((((((((((((((a))x"},
      {"http://foo.com/blah_blah", {}, R"x(<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>)x"},
      {"http://foo.com/blah_blah/", {}, R"x(<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>)x"},
      {"(Something like http://foo.com/blah_blah)", {},
       R"x((Something like <a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>))x"},
      {"http://foo.com/blah_blah_(wikipedia)", {},
       R"x(<a href="http://foo.com/blah_blah_(wikipedia)">http://foo.com/blah_blah_(wikipedia)</a>)x"},
      {"http://foo.com/blah_(blah)_(wikipedia)_blah", {},
       R"x(<a href="http://foo.com/blah_(blah)_(wikipedia)_blah">http://foo.com/blah_(blah)_(wikipedia)_blah</a>)x"},
      {"(Something like http://foo.com/blah_blah_(wikipedia))", {},
       R"x((Something like <a href="http://foo.com/blah_blah_(wikipedia)">http://foo.com/blah_blah_(wikipedia)</a>))x"},
      {"http://foo.com/blah_blah.", {}, R"x(<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>.)x"},
      {"http://foo.com/blah_blah/.", {}, R"x(<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>.)x"},
      {"<http://foo.com/blah_blah>", {},
       R"x(&lt;<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>&gt;)x"},
      {"<http://foo.com/blah_blah/>", {},
       R"x(&lt;<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>&gt;)x"},
      {"http://foo.com/blah_blah,", {}, R"x(<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>,)x"},
      {"http://www.example.com/wpstyle/?p=364.", {},
       R"x(<a href="http://www.example.com/wpstyle/?p=364">http://www.example.com/wpstyle/?p=364</a>.)x"},
      {"rdar://1234", {.permitted_protocols = {"http", "rdar"}}, R"x(<a href="rdar://1234">rdar://1234</a>)x"},
      {"rdar:/1234", {.permitted_protocols = {"rdar"}}, R"x(<a href="rdar:/1234">rdar:/1234</a>)x"},
      {"http://userid:password@example.com:8080", {},
       R"x(<a href="http://userid:password@example.com:8080">http://userid:password@example.com:8080</a>)x"},
      {"http://userid@example.com", {}, R"x(<a href="http://userid@example.com">http://userid@example.com</a>)x"},
      {"http://userid@example.com:8080", {},
       R"x(<a href="http://userid@example.com:8080">http://userid@example.com:8080</a>)x"},
      {"http://userid:password@example.com", {},
       R"x(<a href="http://userid:password@example.com">http://userid:password@example.com</a>)x"},
      {"message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e",
       {.permitted_protocols = {"http", "message"}},
       R"x(<a href="message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e">message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e</a>)x"},
      {"http://\u27a1.ws/\u4a39", {}, "<a href=\"http://\u27a1.ws/\u4a39\">http://\u27a1.ws/\u4a39</a>"},
      {"<tag>http://example.com</tag>", {},
       R"x(&lt;tag&gt;<a href="http://example.com">http://example.com</a>&lt;/tag&gt;)x"},
      {"Just a www.example.com link.", {},
       R"x(Just a <a href="http://www.example.com">www.example.com</a> link.)x"},
      {"Just a www.example.com link.", {.require_protocol = true}, "Just a www.example.com link."},
      {"A http://reallylong.com/link/that/exceedsthelenglimit.html",
       {.shorten = true, .require_protocol = true},
       R"x(A <a href="http://reallylong.com/link/that/exceedsthelenglimit.html" title="http://reallylong.com/link/that/exceedsthelenglimit.html">http://reallylong.com/link...</a>)x"},
      {"A http://reallylongdomainnamethatwillbetoolong.com/hi!", {.shorten = true},
       R"x(A <a href="http://reallylongdomainnamethatwillbetoolong.com/hi" title="http://reallylongdomainnamethatwillbetoolong.com/hi">http://reallylongdomainnametha...</a>!)x"},
      {"A file:///passwords.txt and http://web.com link", {},
       R"x(A file:///passwords.txt and <a href="http://web.com">http://web.com</a> link)x"},
      {"A file:///passwords.txt and http://web.com link", {.permitted_protocols = {"file"}},
       R"x(A <a href="file:///passwords.txt">file:///passwords.txt</a> and http://web.com link)x"},
      {"www.external-link.com", {.extra_params = R"x(rel="nofollow" class="external")x"},
       R"x(<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>)x"},
      {"www.external-link.com and www.internal-link.com/blogs extra", {.extra_params = internal_or_external},
       R"x(<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a> and <a href="http://www.internal-link.com/blogs" class="internal">www.internal-link.com/blogs</a> extra)x"},
      {"www.external-link.com",
       {.extra_params = [](std::string_view) -> std::string { return R"x(    rel="nofollow" class="external"  )x"; }},
       R"x(<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>)x"},
  };
  for (const Case& c : cases) EXPECT_EQ(linkify(c.text, c.options), c.html) << c.text;
}

// Expected outputs come from Tornado 6.5.7's linkify with shorten=True and
// permitted_protocols=["http", "https", "foo"].
TEST(LinkifyTest, WordBoundariesAndUnicodeLikeTornado) {
  const LinkifyOptions options{.shorten = true, .permitted_protocols = {"http", "https", "foo"}};
  const std::pair<std::string, std::string> cases[] = {
      {"awww.example.com", "awww.example.com"},
      {"x www.a.com", R"x(x <a href="http://www.a.com">www.a.com</a>)x"},
      {"\u00e9www.a.com", "\u00e9www.a.com"},
      {"1www.a.com", "1www.a.com"},
      {"-www.a.com", R"x(-<a href="http://www.a.com">www.a.com</a>)x"},
      {" -foo://x", R"x( -<a href="foo://x">foo://x</a>)x"},
      {"http://a.com/(-foo://x", R"x(<a href="http://a.com/">http://a.com/</a>(-<a href="foo://x">foo://x</a>)x"},
      {"\u00e9http://a.com", "\u00e9http://a.com"},
      {"(www.a.com)", R"x((<a href="http://www.a.com">www.a.com</a>))x"},
      {"www.a.com\u00a0b", "<a href=\"http://www.a.com\">www.a.com</a>\u00a0b"},
      {"www.a.com\u3000b", "<a href=\"http://www.a.com\">www.a.com</a>\u3000b"},
      {"http://a.com/ www.b.com",
       R"x(<a href="http://a.com/">http://a.com/</a> <a href="http://www.b.com">www.b.com</a>)x"},
      {"a\u2026www.a.com", "a\u2026<a href=\"http://www.a.com\">www.a.com</a>"},
      {"www.a.com&lt;", R"x(<a href="http://www.a.com&amp;lt">www.a.com&amp;lt</a>;)x"},
      {"http://x.com/a?b=1&c=2&d=3&e=4&f=5&g=6&h=7",
       R"x(<a href="http://x.com/a?b=1&amp;c=2&amp;d=3&amp;e=4&amp;f=5&amp;g=6&amp;h=7" title="http://x.com/a?b=1&amp;c=2&amp;d=3&amp;e=4&amp;f=5&amp;g=6&amp;h=7">http://x.com/a...</a>)x"},
      {"www.a.com's", R"x(<a href="http://www.a.com">www.a.com</a>&#x27;s)x"},
      {"Ftp://x", "Ftp://x"},
      {"x_y://z", "x_y://z"},
  };
  for (const auto& [text, html] : cases) EXPECT_EQ(linkify(text, options), html) << text;
}

TEST(LinkifyTest, ShortenCountsCharactersNotBytes) {
  std::string e34;
  for (int i = 0; i < 34; ++i) e34 += "\u00e9";
  std::string e8;
  for (int i = 0; i < 8; ++i) e8 += "\u00e9";
  const std::string url = "http://x.com/" + e34;
  EXPECT_EQ(linkify(url, {.shorten = true}),
            "<a href=\"" + url + "\" title=\"" + url + "\">http://x.com/" + e8 + "...</a>");
}

TEST(LinkifyTest, EmptyCallableAndEmptyString) {
  EXPECT_EQ(linkify("www.a.com", {.extra_params = std::function<std::string(std::string_view)>()}),
            R"x(<a href="http://www.a.com">www.a.com</a>)x");
  // Like Tornado, a non-empty string of spaces leaves one space.
  EXPECT_EQ(linkify("www.a.com", {.extra_params = "   "}), R"x(<a href="http://www.a.com" >www.a.com</a>)x");
}

TEST(LinkifyTest, InvalidUtf8NeitherCrashesNorIsLinkedAcross) {
  const std::string out = linkify("see http://a.com/\xff\xfe and \xc3 www.b.com");
  EXPECT_NE(out.find(R"x(<a href="http://www.b.com">www.b.com</a>)x"), std::string::npos) << out;
}

TEST(LinkifyTest, LinearOnAdversarialInput) {
  constexpr size_t kSize = 1 << 20;
  for (const std::string unit : {"www.", "awww.", "http://", "(", "http://a(", "&", "&amp;", "-a", ".", "a:/"}) {
    std::string input = "x ";
    while (input.size() < kSize) input += unit;
    const std::string out = linkify(input, {.shorten = true});
    EXPECT_GE(out.size(), input.size()) << unit;
  }
}

}  // namespace
}  // namespace tornado::escape
