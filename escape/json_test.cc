// Tests for json_encode / json_decode / recursive_unicode: Tornado's test_json_decode,
// test_json_encode and test_recursive_unicode, Python's output format, deep nesting.
#include "escape/json.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace tornado::escape {
namespace {

using nlohmann::json;

TEST(JsonTest, Decode) {
  EXPECT_EQ(*json_decode("\"foo\""), json("foo"));
  EXPECT_EQ(*json_decode("\"\xc3\xa9\""), json("\xc3\xa9"));  // non-ASCII bytes are UTF-8
  EXPECT_EQ(*json_decode(" {\"a\": [1, 2.5, null]} "), json({{"a", {1, 2.5, nullptr}}}));
}

TEST(JsonTest, EncodeRoundTrip) {
  absl::StatusOr<std::string> encoded = json_encode(json("\xc3\xa9"));
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(*encoded, "\"\\u00e9\"");
  EXPECT_EQ(*json_decode(*encoded), json("\xc3\xa9"));
}

TEST(JsonTest, EncodeMatchesPythonJsonDumps) {
  // Expected: Tornado 6.5's json_encode of the same value (keys here already sorted).
  const json value = {
      {"a", {1, 2.5, nullptr, true, "</script>", "\xc3\xa9\xf0\x9f\x98\x80\x7f\x01"}},
      {"b", json::object()},
      {"c", json::array()},
      {"d", 1e16},
      {"e", 1e-05},
      {"f", 100.0},
      {"g", -0.0},
  };
  EXPECT_EQ(*json_encode(value),
            R"({"a": [1, 2.5, null, true, "<\/script>", "\u00e9\ud83d\ude00\u007f\u0001"], )"
            R"("b": {}, "c": [], "d": 1e+16, "e": 1e-05, "f": 100.0, "g": -0.0})");
}

TEST(JsonTest, EscapesEveryScriptEndTag) {
  const std::string out = *json_encode(json{{"k</", "</a></b>"}});
  EXPECT_EQ(out.find("</"), std::string::npos) << out;
  EXPECT_EQ(*json_decode(out), (json{{"k</", "</a></b>"}}));
}

TEST(JsonTest, EncodeErrors) {
  EXPECT_EQ(json_encode(json("\xff")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(json_encode(json{{"\xc3", 1}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(json_encode(json::binary({1, 2})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(json_encode(json(std::nan(""))).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(json_encode(json(std::numeric_limits<double>::infinity())).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(JsonTest, DecodeErrorsAreClear) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "nan", "\"\xff\"", "\"\\ud800\"", "1 2"}) {
    absl::StatusOr<json> got = json_decode(bad);
    ASSERT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(got.status().message().find("json_decode"), absl::string_view::npos);
  }
  EXPECT_NE(json_decode("[1,]").status().message().find("column 4"), absl::string_view::npos)
      << json_decode("[1,]").status();
}

TEST(JsonTest, DecodeLimitsNesting) {
  const auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(json_decode(nested(kJsonMaxDepth)).ok());
  EXPECT_TRUE(json_decode("[\"" + std::string(5000, '[') + "\"]").ok());  // brackets in a string
  absl::StatusOr<json> deep = json_decode(nested(kJsonMaxDepth + 1));
  EXPECT_EQ(deep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(deep.status().message().find("nesting"), absl::string_view::npos);
  // 1 MB of unclosed brackets is an error, not a crash.
  EXPECT_FALSE(json_decode(std::string(1 << 20, '[')).ok());
}

TEST(JsonTest, EncodeAndRecursiveUnicodeDoNotRecurse) {
  constexpr size_t kDepth = 200000;
  json root = json::array();
  json* inner = &root;
  for (size_t i = 1; i < kDepth; ++i) {
    inner->push_back(json::array());
    inner = &inner->back();
  }
  absl::StatusOr<std::string> encoded = json_encode(root);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded, std::string(kDepth, '[') + std::string(kDepth, ']'));
  EXPECT_TRUE(recursive_unicode(std::move(root)).ok());  // a copy would recurse
}

TEST(JsonTest, LinearOnLargeStrings) {
  const std::string big(1 << 20, '<');
  absl::StatusOr<std::string> encoded = json_encode(json(big + "/"));
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*json_decode(*encoded), json(big + "/"));
}

TEST(RecursiveUnicodeTest, TornadoCases) {
  const auto bytes = [](const std::string& s) {
    return json::binary(json::binary_t::container_type(s.begin(), s.end()));
  };
  EXPECT_EQ(*recursive_unicode(json{{"foo", bytes("bar")}}), (json{{"foo", "bar"}}));
  EXPECT_EQ(*recursive_unicode(json::array({bytes("foo"), bytes("bar")})), json::array({"foo", "bar"}));
  EXPECT_EQ(*recursive_unicode(bytes("foo")), json("foo"));
  EXPECT_EQ(*recursive_unicode(json{{"n", 1}}), (json{{"n", 1}}));
}

TEST(RecursiveUnicodeTest, InvalidUtf8IsAnError) {
  const json bad = json::array({"ok", json::binary({0xff})});
  EXPECT_EQ(recursive_unicode(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(recursive_unicode(json{{"k", "\xc3"}}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tornado::escape
