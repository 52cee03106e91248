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

}  // namespace
}  // namespace tornado::httputil
