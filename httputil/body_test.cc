// parse_body_arguments / parse_multipart_form_data / HTTPServerRequest::parse_body;
// the multipart cases are Tornado's MultipartFormDataTest.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httputil/httputil.h"

namespace tornado::httputil {
namespace {

// Tornado writes its test bodies with "\n" and replaces them with "\r\n".
std::string crlf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// Python's filename.replace("\\", "\\\\").replace('"', '\\"').
std::string escape_quoted(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

struct Parsed {
  absl::Status status;
  Arguments args;
  Files files;
};

Parsed multipart(std::string_view boundary, std::string_view data, BodyLimits limits = {}) {
  Parsed p;
  p.status = parse_multipart_form_data(boundary, data, p.args, p.files, limits);
  return p;
}

const char kFileUpload[] =
    "--1234\n"
    "Content-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"\n"
    "\n"
    "Foo\n"
    "--1234--";

TEST(MultipartFormDataTest, FileUpload) {
  auto p = multipart("1234", crlf(kFileUpload));
  ASSERT_TRUE(p.status.ok()) << p.status;
  ASSERT_EQ(p.files["files"].size(), 1u);
  EXPECT_EQ(p.files["files"][0].filename, "ab.txt");
  EXPECT_EQ(p.files["files"][0].body, "Foo");
  EXPECT_EQ(p.files["files"][0].content_type, "application/unknown");
  EXPECT_TRUE(p.args.empty());
}

TEST(MultipartFormDataTest, UnquotedNames) {
  auto p = multipart("1234", crlf("--1234\n"
                                  "Content-Disposition: form-data; name=files; filename=ab.txt\n"
                                  "\n"
                                  "Foo\n"
                                  "--1234--"));
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_EQ(p.files["files"][0].filename, "ab.txt");
  EXPECT_EQ(p.files["files"][0].body, "Foo");
}

TEST(MultipartFormDataTest, SpecialFilenames) {
  for (std::string filename :
       {"a;b.txt", "a\"b.txt", "a\";b.txt", "a;\"b.txt", "a\";\";.txt", "a\\\"b.txt", "a\\b.txt"}) {
    std::string escaped = escape_quoted(filename);
    auto p = multipart("1234",
                       crlf(absl::StrCat("--1234\nContent-Disposition: form-data; name=\"files\"; "
                                         "filename=\"",
                                         escaped, "\"\n\nFoo\n--1234--")));
    ASSERT_TRUE(p.status.ok()) << filename << ": " << p.status;
    EXPECT_EQ(p.files["files"][0].filename, filename);
    EXPECT_EQ(p.files["files"][0].body, "Foo");
  }
}

TEST(MultipartFormDataTest, NonAsciiFilename) {
  auto p = multipart("1234", crlf("--1234\n"
                                  "Content-Disposition: form-data; name=\"files\"; "
                                  "filename=\"ab.txt\"; filename*=UTF-8''%C3%A1b.txt\n"
                                  "\n"
                                  "Foo\n"
                                  "--1234--"));
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_EQ(p.files["files"][0].filename,
            "\xc3\xa1"
            "b.txt");
}

TEST(MultipartFormDataTest, BoundaryStartsAndEndsWithQuotes) {
  auto p = multipart("\"1234\"", crlf(kFileUpload));
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_EQ(p.files["files"][0].filename, "ab.txt");
  EXPECT_EQ(p.files["files"][0].body, "Foo");
}

TEST(MultipartFormDataTest, MissingHeaders) {
  auto p = multipart("1234", crlf("--1234\n\nFoo\n--1234--"));
  EXPECT_EQ(p.status.message(), "multipart/form-data missing headers");
  EXPECT_TRUE(p.files.empty());
}

TEST(MultipartFormDataTest, InvalidContentDisposition) {
  auto p =
      multipart("1234", crlf("--1234\n"
                             "Content-Disposition: invalid; name=\"files\"; filename=\"ab.txt\"\n"
                             "\n"
                             "Foo\n"
                             "--1234--"));
  EXPECT_FALSE(p.status.ok());
  EXPECT_NE(p.status.message().find("Content-Disposition"), absl::string_view::npos);
  EXPECT_TRUE(p.files.empty());
}

TEST(MultipartFormDataTest, MissingContentDisposition) {
  auto p = multipart("1234", crlf("--1234\nContent-Type: text/plain\n\nFoo\n--1234--"));
  EXPECT_FALSE(p.status.ok());
  EXPECT_TRUE(p.files.empty());
}

TEST(MultipartFormDataTest, LineDoesNotEndWithCorrectLineBreak) {
  auto p =
      multipart("1234", crlf("--1234\n"
                             "Content-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"\n"
                             "\n"
                             "Foo--1234--"));
  EXPECT_FALSE(p.status.ok());
  EXPECT_TRUE(p.files.empty());
}

TEST(MultipartFormDataTest, BareLfLineEndingsAreNotDelimiters) {
  // Delimiters are "--boundary" CRLF; with bare LFs the whole body is one preamble.
  auto p = multipart("1234", kFileUpload);
  EXPECT_FALSE(p.status.ok());
  EXPECT_TRUE(p.files.empty());
}

TEST(MultipartFormDataTest, ContentDispositionHeaderWithoutNameParameter) {
  auto p = multipart("1234", crlf("--1234\n"
                                  "Content-Disposition: form-data; filename=\"ab.txt\"\n"
                                  "\n"
                                  "Foo\n"
                                  "--1234--"));
  EXPECT_EQ(p.status.message(), "multipart/form-data value missing name");
  EXPECT_TRUE(p.files.empty());
}

TEST(MultipartFormDataTest, DataAfterFinalBoundary) {
  auto p = multipart("1234", crlf(absl::StrCat(kFileUpload, "\n")));
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_EQ(p.files["files"][0].filename, "ab.txt");
  EXPECT_EQ(p.files["files"][0].body, "Foo");
}

TEST(MultipartFormDataTest, NoFinalBoundary) {
  auto p = multipart("1234", crlf("--1234\nContent-Disposition: form-data; name=a\n\nx\n"));
  EXPECT_FALSE(p.status.ok());
}

TEST(MultipartFormDataTest, ArgumentsContentTypeAndEmptyValue) {
  auto p = multipart("b", crlf("--b\n"
                               "Content-Disposition: form-data; name=\"a\"\n\n1\n"
                               "--b\n"
                               "Content-Disposition: form-data; name=\"a\"\n\n\n"
                               "--b\n"
                               "Content-Disposition: form-data; name=\"f\"; filename=\"x.png\"\n"
                               "Content-Type: image/png\n\n\x89PNG\n"
                               "--b--"));
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_EQ(p.args["a"], (std::vector<std::string>{"1", ""}));
  EXPECT_EQ(p.files["f"][0].content_type, "image/png");
  EXPECT_EQ(p.files["f"][0].body, "\x89PNG");
}

TEST(MultipartFormDataTest, BoundaryLength) {
  EXPECT_FALSE(multipart("", "----").status.ok());
  EXPECT_FALSE(multipart("\"\"", "----").status.ok());
  std::string b70(70, 'x'), b71(71, 'x');
  EXPECT_TRUE(multipart(b70, absl::StrCat("--", b70, "--")).status.ok());
  EXPECT_FALSE(multipart(b71, absl::StrCat("--", b71, "--")).status.ok());
}

TEST(MultipartFormDataTest, StrictPartHeaders) {
  auto p = multipart("1234", crlf("--1234\n"
                                  "Content-Disposition: form-data; name=a\n"
                                  " folded\n\nx\n--1234--"));
  EXPECT_FALSE(p.status.ok());
}

// 100k parts against max_parts: rejected before anything is added.
TEST(MultipartFormDataTest, TooManyParts) {
  std::string part = crlf("--b\nContent-Disposition: form-data; name=a\n\nx\n");
  std::string body;
  for (int i = 0; i < 100000; ++i) body += part;
  body += "--b--";
  auto p = multipart("b", body);
  EXPECT_EQ(p.status.message(), "multipart/form-data has too many parts");
  EXPECT_TRUE(p.args.empty());
  // Tornado counts the pieces of the split, the (empty) preamble included.
  auto ok = multipart("b", body, BodyLimits{.max_parts = 100001});
  ASSERT_TRUE(ok.status.ok()) << ok.status;
  EXPECT_EQ(ok.args["a"].size(), 100000u);
  EXPECT_FALSE(multipart("b", body, BodyLimits{.max_parts = 100000}).status.ok());
}

TEST(MultipartFormDataTest, PartHeaderTooLarge) {
  std::string big(1 << 20, 'v');
  std::string body = absl::StrCat("--b\r\nContent-Disposition: form-data; name=a\r\nX-Big: ", big,
                                  "\r\n\r\nx\r\n--b--");
  auto p = multipart("b", body);
  EXPECT_EQ(p.status.message(), "multipart/form-data part header too large");
  // No blank line at all in a huge part: the same error, found within the limit.
  auto q = multipart("b", absl::StrCat("--b\r\nX: ", big, "\r\n--b--"));
  EXPECT_EQ(q.status.message(), "multipart/form-data part header too large");
  auto r = multipart("b", body, BodyLimits{.max_part_header_size = 2 << 20});
  EXPECT_TRUE(r.status.ok()) << r.status;
}

// Tornado's test_disposition_param_linear_performance, at a size a quadratic parser
// would not finish within the test timeout.
TEST(MultipartFormDataTest, DispositionParamManySemicolons) {
  std::string body =
      absl::StrCat("--1234\r\nContent-Disposition: form-data; x=\"", std::string(1 << 20, ';'),
                   "\"; name=\"files\"; filename=\"a.txt\"\r\n\r\nFoo\r\n--1234--\r\n");
  auto p = multipart("1234", body, BodyLimits{.max_part_header_size = 2 << 20});
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_EQ(p.files["files"][0].filename, "a.txt");
}

// 8 MB that nearly matches the delimiters everywhere: the Boyer-Moore searches stay
// linear (a naive search compares up to 74 bytes at each of the 8M positions).
TEST(MultipartFormDataTest, BoundaryLikeFiller) {
  std::string boundary(70, '-');
  std::string body = std::string(8 << 20, '-') + "--" + boundary + "--";
  auto p = multipart(boundary, body);
  EXPECT_EQ(p.status.message(), "multipart/form-data part header too large");
  std::string crs;
  for (int i = 0; i < 100000; ++i) crs += "--" + boundary.substr(0, 69) + "\r";
  auto q = multipart(boundary, crs + "--" + boundary + "--");
  EXPECT_FALSE(q.status.ok());
}

TEST(ParseBodyArgumentsTest, UrlEncoded) {
  Arguments args{{"a", {"0"}}};
  Files files;
  auto status = parse_body_arguments("application/x-www-form-urlencoded; charset=UTF-8",
                                     "a=1&b=&c=%41+b&a=2", args, files);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(args["a"], (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(args["b"], (std::vector<std::string>{""}));
  EXPECT_EQ(args["c"], (std::vector<std::string>{"A b"}));
}

TEST(ParseBodyArgumentsTest, Multipart) {
  Arguments args;
  Files files;
  auto status = parse_body_arguments("multipart/form-data; charset=x; boundary=\"1234\"",
                                     crlf(kFileUpload), args, files);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(files["files"][0].body, "Foo");
}

TEST(ParseBodyArgumentsTest, Errors) {
  Arguments args;
  Files files;
  EXPECT_EQ(parse_body_arguments("multipart/form-data", "x", args, files).message(),
            "Invalid multipart/form-data: multipart boundary not found");
  EXPECT_FALSE(parse_body_arguments("multipart/form-data; boundary=", "x", args, files).ok());
  HTTPHeaders gz{{"Content-Encoding", "gzip"}};
  EXPECT_EQ(
      parse_body_arguments("application/x-www-form-urlencoded", "a=1", args, files, &gz).message(),
      "Unsupported Content-Encoding: gzip");
  EXPECT_TRUE(args.empty());
  // Other content types are left alone.
  EXPECT_TRUE(parse_body_arguments("application/json", "{}", args, files).ok());
  EXPECT_TRUE(args.empty() && files.empty());
}

TEST(HTTPServerRequestTest, ParseBodyMergesArguments) {
  HTTPServerRequest req(RequestStartLine{"POST", "/?a=q", "HTTP/1.1"},
                        HTTPHeaders{{"Content-Type", "application/x-www-form-urlencoded"}});
  req.body = "a=b&c=d";
  req.parse_body();
  EXPECT_EQ(req.arguments["a"], (std::vector<std::string>{"q", "b"}));
  EXPECT_EQ(req.body_arguments["c"], (std::vector<std::string>{"d"}));
  EXPECT_EQ(req.query_arguments.count("c"), 0u);
}

TEST(HTTPServerRequestTest, ParseBodyKeepsGoingOnError) {
  HTTPServerRequest req(RequestStartLine{"POST", "/?a=q", "HTTP/1.1"},
                        HTTPHeaders{{"Content-Type", "multipart/form-data; boundary=b"}});
  req.body = crlf("--b\nContent-Disposition: form-data; name=x\n\n1\n--b\n\nbad\n--b--");
  req.parse_body();  // logs a warning
  EXPECT_EQ(req.body_arguments["x"], (std::vector<std::string>{"1"}));
  EXPECT_EQ(req.arguments["x"], (std::vector<std::string>{"1"}));
  EXPECT_EQ(req.arguments["a"], (std::vector<std::string>{"q"}));
}

// The example in README.md.
TEST(ReadmeTest, Example) {
  auto start = parse_request_start_line("POST /upload?x=1 HTTP/1.1");
  auto headers = HTTPHeaders::parse(
      "Host: example.com\r\n"
      "Content-Type: multipart/form-data; boundary=b\r\n"
      "Cookie: session=\"abc\"; theme=dark\r\n");
  ASSERT_TRUE(start.ok() && headers.ok());
  HTTPServerRequest req(*start, *headers);
  req.body =
      "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\n"
      "hello\r\n--b--\r\n";
  req.parse_body();
  EXPECT_EQ(req.files["f"][0].filename, "a.txt");
  EXPECT_EQ(req.files["f"][0].body, "hello");
  EXPECT_EQ(req.cookies(), (std::map<std::string, std::string, std::less<>>{{"session", "abc"},
                                                                            {"theme", "dark"}}));
  EXPECT_EQ(url_concat("/p?a=1#top", {{"b", "2"}}), "/p?a=1&b=2#top");
  EXPECT_EQ(
      format_timestamp(std::chrono::system_clock::time_point(std::chrono::seconds(784111777))),
      "Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace
}  // namespace tornado::httputil
