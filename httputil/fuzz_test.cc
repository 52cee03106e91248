// A deterministic random-input loop over every parser in httputil: none may crash
// (ASan/UBSan builds catch bad accesses), and a few round-trip properties must hold.
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httputil/httputil.h"

namespace tornado::httputil {
namespace {

// Random strings biased towards the bytes the parsers treat specially.
class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}

  std::string next(std::size_t max_len) {
    static constexpr std::string_view kSpecial =
        "\r\n\r\n;;==\"\"\\\\ \t:--%*'<>?&#[]/HTTP/1.1 GET form-data; name=filename*=--b";
    std::size_t len = std::uniform_int_distribution<std::size_t>(0, max_len)(rng_);
    std::string out;
    out.reserve(len);
    while (out.size() < len) {
      switch (rng_() % 4) {
        case 0:
          out.push_back(static_cast<char>(rng_() & 0xff));
          break;
        case 1:
          out.push_back(kSpecial[rng_() % kSpecial.size()]);
          break;
        default: {  // a run of a special substring
          std::size_t start = rng_() % kSpecial.size();
          out.append(kSpecial.substr(start, rng_() % 12));
        }
      }
    }
    return out;
  }

  // A multipart body built from pieces so the interesting paths are reached.
  std::string multipart() {
    std::string out;
    int parts = static_cast<int>(rng_() % 4);
    for (int i = 0; i < parts; ++i) {
      absl::StrAppend(&out, rng_() % 8 ? "--b\r\n" : next(8),
                      rng_() % 4 ? "Content-Disposition: form-data; name=" : next(20), next(12),
                      rng_() % 2 ? "; filename=" : "", rng_() % 2 ? next(8) : "",
                      rng_() % 4 ? "\r\n\r\n" : next(4), next(16), rng_() % 4 ? "\r\n" : "");
    }
    absl::StrAppend(&out, rng_() % 8 ? "--b--" : next(6), next(4));
    return out;
  }

 private:
  std::mt19937 rng_;
};

// The request-line grammar written the obvious way (split at spaces, then check each
// part): parse_request_start_line must accept exactly the same lines.
bool reference_request_line_ok(std::string_view line) {
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty()) return false;
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return version.size() == 8 && version.substr(0, 7) == "HTTP/1." && version[7] >= '0' &&
         version[7] <= '9';
}

TEST(FuzzTest, RequestLineMatchesReference) {
  std::mt19937 rng(7);
  const std::string_view pieces[] = {
      "GET",     "POST", " ",    " ", "/", "/a?b=c", "HTTP/1.1",  "HTTP/1.0", "HTTP/2.0",
      "HTTP/1.", "\t",   "\x7f", "x", "(", "",       "HTTP/1.10", "\x80"};
  auto pick = [&](std::initializer_list<std::string_view> from) {
    return std::string(*(from.begin() + rng() % from.size()));
  };
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string line;
    if (i % 2 == 0) {  // free-form
      int k = static_cast<int>(rng() % 7);
      for (int j = 0; j < k; ++j) line += pieces[rng() % std::size(pieces)];
    } else {  // shaped like a request line, with a mutation now and then
      line = absl::StrCat(
          pick({"GET", "POST", "", "G(T", "M-SEARCH"}), pick({" ", " ", "", "  "}),
          pick({"/", "/a?b=c", "*", "", "/\x7f", "/a b", "\x80"}), pick({" ", " ", "", "\t"}),
          pick({"HTTP/1.1", "HTTP/1.0", "HTTP/1.9", "HTTP/2.0", "HTTP/1.", "HTTP/1.1 "}));
      if (rng() % 4 == 0) line.insert(rng() % (line.size() + 1), pieces[rng() % std::size(pieces)]);
    }
    bool ok = parse_request_start_line(line).ok();
    ASSERT_EQ(ok, reference_request_line_ok(line)) << line;
    accepted += ok;
  }
  EXPECT_GT(accepted, 100);
}

TEST(FuzzTest, EveryParserSurvivesRandomInput) {
  Generator gen(20261122);
  int headers_ok = 0, multipart_ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = gen.next(i % 100 == 0 ? 4000 : 200);

    auto headers = HTTPHeaders::parse(s);
    if (headers.ok()) {
      ++headers_ok;
      // What parsed serialises and parses back to the same fields.
      auto again = HTTPHeaders::parse(headers->to_string());
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_EQ(*again, *headers);
    }
    (void)parse_request_start_line(s);
    (void)parse_response_start_line(s);
    (void)split_host_and_port(s);
    auto cookies = parse_cookie(s);
    for (const auto& [k, v] : cookies) EXPECT_LE(k.size() + v.size(), s.size());
    auto hv = parse_header_value(s);
    EXPECT_LE(hv.value.size(), s.size());
    (void)parse_qs_bytes(s, i % 2 == 0);
    (void)url_concat(s, {{"a", "b"}});

    Arguments args;
    Files files;
    (void)parse_body_arguments(
        i % 2 ? "multipart/form-data; boundary=b" : "application/x-www-form-urlencoded", s, args,
        files);
    std::string body = gen.multipart();
    Arguments margs;
    Files mfiles;
    BodyLimits limits{.max_parts = static_cast<std::size_t>(1 + i % 5),
                      .max_part_header_size = static_cast<std::size_t>(16 + i % 64)};
    if (parse_multipart_form_data("b", body, margs, mfiles, limits).ok()) ++multipart_ok;
    (void)parse_body_arguments(absl::StrCat("multipart/form-data; boundary=", gen.next(6)), body,
                               margs, mfiles);

    HTTPServerRequest req;
    req.headers.add("Cookie", s);
    (void)req.cookies();
  }
  // The generator reaches the success paths too, not only early rejections.
  EXPECT_GT(headers_ok, 100);
  EXPECT_GT(multipart_ok, 100);
}

}  // namespace
}  // namespace tornado::httputil
