#include "gtest/gtest.h"
#include "httputil/httputil.h"

namespace tornado::httputil {
namespace {

TEST(HTTPHeadersTest, MultiValueCaseInsensitiveOrderKept) {
  HTTPHeaders h;
  h.add("content-type", "text/html");
  h.add("Set-Cookie", "a=1");
  h.add("SET-COOKIE", "b=2");
  EXPECT_EQ(h.get("Content-Type"), "text/html");
  EXPECT_EQ(h.get("set-cookie"), "a=1,b=2");
  EXPECT_EQ(h.get_list("Set-Cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(h.get_all()[0].first, "Content-Type");
  EXPECT_EQ(h.get_all()[2].first, "Set-Cookie");
  h.set("set-cookie", "c=3");
  EXPECT_EQ(h.get_list("Set-Cookie"), (std::vector<std::string>{"c=3"}));
  EXPECT_FALSE(h.get("Missing").has_value());
  EXPECT_EQ(h.get("Missing", "dflt"), "dflt");
}

TEST(HTTPHeadersTest, ParseStrict) {
  auto h = HTTPHeaders::parse("Host: example.com\r\nX-A:  v 1 \t\r\n\r\n");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->get("x-a"), "v 1");
  EXPECT_FALSE(HTTPHeaders::parse("Host: a\r\n folded\r\n").ok());  // obs-fold
  EXPECT_FALSE(HTTPHeaders::parse("Host : a\r\n").ok());  // space before colon
  EXPECT_FALSE(HTTPHeaders::parse("Ho\x01st: a\r\n").ok());
  EXPECT_FALSE(HTTPHeaders::parse("Host: a\rb\r\n").ok());  // bare CR
  EXPECT_FALSE(HTTPHeaders::parse(std::string("Host: a\0b\r\n", 12)).ok());
  EXPECT_FALSE(HTTPHeaders::parse("NoColon\r\n").ok());
  EXPECT_FALSE(HTTPHeaders::parse(": empty-name\r\n").ok());
}

TEST(StartLineTest, Request) {
  auto r = parse_request_start_line("GET /foo?x=1 HTTP/1.1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (RequestStartLine{"GET", "/foo?x=1", "HTTP/1.1"}));
  EXPECT_FALSE(parse_request_start_line("GET /foo HTTP/2.0").ok());
  EXPECT_FALSE(parse_request_start_line("GET  /foo HTTP/1.1").ok());
  EXPECT_FALSE(parse_request_start_line("GET /foo").ok());
  EXPECT_FALSE(parse_request_start_line("G(T /foo HTTP/1.1").ok());
  EXPECT_FALSE(parse_request_start_line("GET /f\x7fo HTTP/1.1").ok());
  EXPECT_FALSE(parse_request_start_line("GET /foo HTTP/1.1 ").ok());
  // Which check refused it (the messages reach the server's log).
  const auto message = [](std::string_view line) {
    return std::string(parse_request_start_line(line).status().message());
  };
  EXPECT_EQ(message("GET / HTTP/1 1"), "malformed HTTP request line");
  EXPECT_EQ(message("GET / HTTP/1.x"), "malformed HTTP version in request line");
  EXPECT_EQ(message("G(T / HTTP/1.x"), "malformed HTTP method");
  EXPECT_EQ(message("G(T / HTTP 1.1"), "malformed HTTP request line");
  EXPECT_EQ(message("GET /\x01 HTTP/1.x"), "malformed HTTP request target");
}

TEST(StartLineTest, Response) {
  auto r = parse_response_start_line("HTTP/1.1 200 OK");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (ResponseStartLine{"HTTP/1.1", 200, "OK"}));
  auto empty_reason = parse_response_start_line("HTTP/1.0 404");
  ASSERT_TRUE(empty_reason.ok());
  EXPECT_EQ(empty_reason->code, 404);
  EXPECT_FALSE(parse_response_start_line("HTTP/1.1 20 OK").ok());
  EXPECT_FALSE(parse_response_start_line("HTTP/1.1 2000 OK").ok());
  EXPECT_FALSE(parse_response_start_line("ICY 200 OK").ok());
}

TEST(HTTPServerRequestTest, FromStartLine) {
  HTTPHeaders h{{"Host", "Example.COM:8080"}};
  HTTPServerRequest req(RequestStartLine{"GET", "/p/q?a=1&a=2&b=", "HTTP/1.1"}, h);
  EXPECT_EQ(req.path, "/p/q");
  EXPECT_EQ(req.query, "a=1&a=2&b=");
  EXPECT_EQ(req.host_name, "example.com");
  EXPECT_EQ(req.query_arguments["a"], (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(req.query_arguments["b"], (std::vector<std::string>{""}));
  EXPECT_EQ(req.full_url(), "http://Example.COM:8080/p/q?a=1&a=2&b=");
}

TEST(HTTPServerRequestTest, PathAndQuery) {
  HTTPServerRequest plain(RequestStartLine{"GET", "/a/b", "HTTP/1.1"}, HTTPHeaders{});
  EXPECT_EQ(plain.path, "/a/b");
  EXPECT_EQ(plain.query, "");
  EXPECT_EQ(plain.remote_ip, "");
  EXPECT_EQ(plain.protocol, "http");
  HTTPServerRequest empty_query(RequestStartLine{"GET", "/a?", "HTTP/1.1"}, HTTPHeaders{});
  EXPECT_EQ(empty_query.path, "/a");
  EXPECT_EQ(empty_query.query, "");
  EXPECT_TRUE(empty_query.query_arguments.empty());
  HTTPServerRequest two_marks(RequestStartLine{"GET", "/?x=?&y", "HTTP/1.1"}, HTTPHeaders{});
  EXPECT_EQ(two_marks.path, "/");
  EXPECT_EQ(two_marks.query, "x=?&y");
  EXPECT_EQ(two_marks.arguments["x"], (std::vector<std::string>{"?"}));
  EXPECT_EQ(two_marks.arguments["y"], (std::vector<std::string>{""}));
}

TEST(HTTPServerRequestTest, HostFromHeaders) {
  const RequestStartLine sl{"GET", "/", "HTTP/1.1"};
  HTTPServerRequest none(sl, HTTPHeaders{{"X", "y"}});
  EXPECT_EQ(none.host, "127.0.0.1");
  EXPECT_EQ(none.host_name, "127.0.0.1");
  // Two Host fields are joined as headers.get does (HTTP1Connection refuses them).
  HTTPServerRequest two(sl, HTTPHeaders{{"host", "A:1"}, {"X", "y"}, {"HOST", "b"}});
  EXPECT_EQ(two.host, "A:1,b");
  EXPECT_EQ(two.host_name, "a:1,b");
  HTTPServerRequest out_of_range(sl, HTTPHeaders{{"Host", "H:65536"}});
  EXPECT_EQ(out_of_range.host_name, "h:65536");
  HTTPServerRequest v6(sl, HTTPHeaders{{"Host", "[::1]:80"}});
  EXPECT_EQ(v6.host_name, "[::1]");
}

// RFC 9112 3.2.2: an absolute-form target's authority wins over Host, and the handler
// sees the origin-form part as uri and path.
TEST(HTTPServerRequestTest, AbsoluteFormTargetOverridesHost) {
  const HTTPHeaders host{{"Host", "ignored.example"}};
  HTTPServerRequest r(RequestStartLine{"GET", "http://Api.Example:8080/v1/x?q=1", "HTTP/1.1"},
                      host);
  EXPECT_EQ(r.host, "Api.Example:8080");
  EXPECT_EQ(r.host_name, "api.example");
  EXPECT_EQ(r.uri, "/v1/x?q=1");
  EXPECT_EQ(r.path, "/v1/x");
  EXPECT_EQ(r.query, "q=1");
  EXPECT_EQ(r.arguments["q"], (std::vector<std::string>{"1"}));
  EXPECT_EQ(r.full_url(), "http://Api.Example:8080/v1/x?q=1");
  HTTPServerRequest bare(RequestStartLine{"GET", "HTTP://a", "HTTP/1.1"}, host);
  EXPECT_EQ(bare.host, "a");
  EXPECT_EQ(bare.uri, "/");
  EXPECT_EQ(bare.path, "/");
  HTTPServerRequest query_only(RequestStartLine{"GET", "https://u@b?x=2", "HTTP/1.1"}, host);
  EXPECT_EQ(query_only.host, "b");
  EXPECT_EQ(query_only.uri, "/?x=2");
  EXPECT_EQ(query_only.query, "x=2");
  // Not absolute-form: asterisk, a URI without "//" authority.
  HTTPServerRequest star(RequestStartLine{"OPTIONS", "*", "HTTP/1.1"}, host);
  EXPECT_EQ(star.host, "ignored.example");
  EXPECT_EQ(star.uri, "*");
  HTTPServerRequest urn(RequestStartLine{"GET", "urn:a:b", "HTTP/1.1"}, host);
  EXPECT_EQ(urn.host, "ignored.example");
  EXPECT_EQ(urn.path, "urn:a:b");
}

TEST(AsciiIequalsTest, FoldsAsciiLettersOnly) {
  EXPECT_TRUE(ascii_iequals("Content-Length", "content-LENGTH"));
  EXPECT_TRUE(ascii_iequals("", ""));
  EXPECT_FALSE(ascii_iequals("gzip", "gzi"));
  EXPECT_FALSE(ascii_iequals("a[", "A{"));          // '[' and '{' differ by 0x20 too
  EXPECT_FALSE(ascii_iequals("\xc4", "\xe4"));     // non-ASCII bytes are not folded
}

// Tornado's HTTPHeadersTest, where it applies. test_multi_line and
// test_malformed_continuation: obs-fold is rejected (RFC 9112 5.2 allows that).
TEST(HTTPHeadersTest, MultiLineIsRejected) {
  EXPECT_FALSE(HTTPHeaders::parse("Foo: bar\r\n baz\r\nAsdf: qwer\r\n\tzxcv\r\n").ok());
  EXPECT_FALSE(HTTPHeaders::parse(" Foo: bar").ok());
}

// test_unicode_newlines: only LF separates lines; other "newlines" are value bytes.
TEST(HTTPHeadersTest, UnicodeNewlines) {
  for (std::string nl : {"\xc2\x85", "\x85", "\xe2\x80\xa8", "\xe2\x80\xa9"}) {
    auto h = HTTPHeaders::parse("Cookie: foo=" + nl + "bar");
    ASSERT_TRUE(h.ok()) << h.status();
    ASSERT_EQ(h->size(), 1u);
    EXPECT_EQ(h->get_all()[0], (HTTPHeaders::Field{"Cookie", "foo=" + nl + "bar"}));
  }
  // Tornado keeps \x1b-\x1e in the value too; they are CTLs, which RFC 9110 forbids.
  for (std::string ctl : {"\x0b", "\x1b", "\x1c", "\x1d", "\x1e"}) {
    EXPECT_FALSE(HTTPHeaders::parse("Cookie: foo=" + ctl + "bar").ok());
  }
}

// test_optional_cr: CRLF and LF both end lines; Tornado keeps a bare CR in the value,
// we reject it (RFC 9112 2.2).
TEST(HTTPHeadersTest, OptionalCr) {
  auto h = HTTPHeaders::parse("CRLF: crlf\r\nLF: lf\nX: y\r\n");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->get_all(), (std::vector<HTTPHeaders::Field>{
                              {"Crlf", "crlf"}, {"Lf", "lf"}, {"X", "y"}}));
  EXPECT_FALSE(HTTPHeaders::parse("CR: cr\rMore: more\r\n").ok());
}

// test_copy (C++ copies are deep) and test_string (to_string parses back).
TEST(HTTPHeadersTest, CopyAndString) {
  HTTPHeaders h1;
  h1.add("A", "1");
  h1.add("A", "2");
  h1.add("B", "c");
  HTTPHeaders h2 = h1;
  h2.add("A", "3");
  EXPECT_EQ(h1.get_list("A").size(), 2u);
  EXPECT_EQ(h2.get_list("A").size(), 3u);
  auto parsed = HTTPHeaders::parse(h1.to_string());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, h1);
  EXPECT_TRUE(h1.contains("a"));
  EXPECT_EQ(h1.erase("a"), 2u);
  EXPECT_FALSE(h1.contains("A"));
}

// test_linear_performance: 100k fields of one name.
TEST(HTTPHeadersTest, ManyFields) {
  std::string block;
  for (int i = 0; i < 100000; ++i) block += "X-Foo: bar\r\n";
  auto h = HTTPHeaders::parse(block);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->get_list("x-foo").size(), 100000u);
}

TEST(StartLineTest, TornadoParseRequestStartLine) {
  auto r = parse_request_start_line("GET /foo HTTP/1.1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->path, "/foo");
  EXPECT_EQ(r->version, "HTTP/1.1");
}

// test_default_constructor / test_body_is_a_byte_string.
TEST(HTTPServerRequestTest, DefaultConstructor) {
  HTTPServerRequest req;
  EXPECT_EQ(req.uri, "/");
  EXPECT_TRUE(req.body.empty());
}


// Every byte in a field name: a tchar is part of it; ':' ends it; anything else makes
// the name invalid (or, without any colon, the line). The message says which.
TEST(HTTPHeadersTest, EveryByteInName) {
  const std::string tchars =
      "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (int c = 0; c < 256; ++c) {
    for (std::size_t pos = 0; pos < 3; ++pos) {
      std::string name = "Abc";
      name[pos] = static_cast<char>(c);
      HTTPHeaders h;
      const absl::Status st = h.parse_line(name + ": v");
      const bool tchar = tchars.find(static_cast<char>(c)) != std::string::npos;
      if (tchar || (c == ':' && pos > 0)) {  // "A:c: v" is field A with value "c: v"
        EXPECT_TRUE(st.ok()) << c << " at " << pos;
      } else if ((c == ' ' || c == '\t') && pos == 0) {
        EXPECT_EQ(st.message(), "obsolete line folding in header");
      } else {  // also ':' first: an empty name
        EXPECT_EQ(st.message(), "invalid header name") << c << " at " << pos;
      }
    }
  }
  HTTPHeaders h;
  EXPECT_EQ(h.parse_line("NoColon").message(), "no colon in header line");
  EXPECT_EQ(h.parse_line("No Colon").message(), "no colon in header line");
  EXPECT_EQ(h.parse_line("Bad Name: v").message(), "invalid header name");
  EXPECT_EQ(h.parse_line(": v").message(), "invalid header name");
  EXPECT_EQ(h.parse_line("").message(), "no colon in header line");
  EXPECT_TRUE(h.parse_line("X:").ok());
  EXPECT_TRUE(h.parse_line("X-Y:a:b").ok());
  EXPECT_EQ(h.get("X-Y"), "a:b");
}

// The word-at-a-time value check agrees with the per-byte rule for every byte value at
// every offset within a word and in the tail.
TEST(HTTPHeadersTest, EveryByteAtEveryOffset) {
  for (int c = 0; c < 256; ++c) {
    bool allowed = c == '\t' || (c >= 0x20 && c != 0x7f);
    if (c == '\n' || c == '\r') continue;  // line structure, tested elsewhere
    for (std::size_t pos = 0; pos < 19; ++pos) {
      std::string value(19, 'v');
      value[pos] = static_cast<char>(c);
      HTTPHeaders h;
      bool edge_space = (c == ' ' || c == '\t') && (pos == 0 || pos == 18);
      EXPECT_EQ(h.parse_line("X: " + value).ok(), allowed) << c << " at " << pos;
      if (allowed && !edge_space) {
        EXPECT_EQ(h.get("X"), value);
      }
    }
  }
}

}  // namespace
}  // namespace tornado::httputil
