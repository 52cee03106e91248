// Requests parsed per second: our HTTP/1 request-head path against llhttp (Node's
// parser, from Debian's node-llhttp) on the same inputs.
//
// Both sides start from one buffer holding one whole request and end with the same
// owned data: method, target and version strings, the header fields as a vector of
// (name, value) strings, and the body (Content-Length bytes) as a string.
//  - ours (BM_Ours_*): what http1connection does with a request head: find the end of
//    the header block ("\r\n\r\n"), parse_request_start_line on the first line,
//    HTTPHeaders::parse on the rest (strict RFC 9110/9112 checks, names normalized to
//    "Content-Type" form), then read Content-Length from the headers and take that many
//    body bytes.
//  - llhttp (BM_Llhttp_*): llhttp_execute over the buffer with callbacks that append
//    the method, URL, version, header name and value spans to strings (a span may
//    arrive in pieces), push a field on on_header_value_complete and append the body
//    in on_body. llhttp validates as it goes (strict-mode off, its default build) and
//    computes Content-Length itself. The parser is reset per request (llhttp_reset).
//
//   ./bazelw run -c opt //httputil:parser_benchmark
#include <benchmark/benchmark.h>
#include <llhttp.h>
#include <string.h>

#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "httputil/httputil.h"

namespace tornado::httputil {
namespace {

// wrk's default request.
constexpr std::string_view kSmallGet = "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";

// What a desktop browser sends for a page: 12 fields.
constexpr std::string_view kBrowserGet =
    "GET /articles/2024/http-parsing?utm_source=feed&page=2 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "Cache-Control: max-age=0\r\n"
    "sec-ch-ua: \"Chromium\";v=\"118\", \"Not=A?Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "*/*;q=0.8\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9,fr;q=0.8\r\n"
    "Cookie: session=8f2a1c9e7b6d4f3a2e1d0c9b8a7f6e5d; theme=dark; "
    "_ga=GA1.2.123456789.1700000000\r\n"
    "\r\n";

// A form POST with a Content-Length body.
constexpr std::string_view kPost =
    "POST /api/v1/items HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n"
    "Content-Length: 47\r\n"
    "\r\n"
    "name=widget&color=blue&size=large&quantity=1000";

// What llhttp's callbacks collect.
struct Parsed {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// ---- ours ----

// Ours keeps what http1connection keeps: the start line, the HTTPHeaders and the body.
struct OursParsed {
  RequestStartLine start;
  HTTPHeaders headers;
  std::string body;
};

// The offset of the first "\r\n\r\n": memchr from line end to line end (glibc's
// memmem and string_view::find, which memcmp at every '\r', are slower on heads).
std::size_t find_end_of_head(std::string_view buf) {
  std::size_t pos = 0;
  while (pos < buf.size()) {
    const void* lf = memchr(buf.data() + pos, '\n', buf.size() - pos);
    if (lf == nullptr) break;
    std::size_t i = static_cast<const char*>(lf) - buf.data();
    if (i > 0 && i + 2 < buf.size() && buf[i - 1] == '\r' && buf[i + 1] == '\r' &&
        buf[i + 2] == '\n') {
      return i - 1;
    }
    pos = i + 1;
  }
  return std::string_view::npos;
}

bool parse_ours(std::string_view buf, OursParsed& out) {
  std::size_t eoh = find_end_of_head(buf);
  if (eoh == std::string_view::npos) return false;
  std::string_view head = buf.substr(0, eoh + 2);
  std::size_t eol = head.find('\n');  // head ends in "\r\n": found, after a '\r'
  auto start = parse_request_start_line(head.substr(0, eol - 1));
  if (!start.ok()) return false;
  auto headers = HTTPHeaders::parse(head.substr(eol + 1));
  if (!headers.ok()) return false;
  out.start = *std::move(start);
  out.headers = *std::move(headers);
  std::string_view rest = buf.substr(eoh + 4);
  std::size_t length = 0;
  if (auto cl = out.headers.get("Content-Length")) {
    auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), length);
    if (ec != std::errc() || p != cl->data() + cl->size() || length > rest.size()) return false;
  }
  out.body.assign(rest.substr(0, length));
  return true;
}

// ---- llhttp ----

struct LlhttpState {
  explicit LlhttpState(Parsed* o) : out(o) {}
  Parsed* out;
  std::string field, value;
  bool complete = false;
};

LlhttpState& state_of(llhttp_t* p) { return *static_cast<LlhttpState*>(p->data); }

llhttp_settings_t llhttp_collecting_settings() {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_method = [](llhttp_t* p, const char* at, size_t n) {
    state_of(p).out->method.append(at, n);
    return 0;
  };
  s.on_url = [](llhttp_t* p, const char* at, size_t n) {
    state_of(p).out->target.append(at, n);
    return 0;
  };
  s.on_version = [](llhttp_t* p, const char* at, size_t n) {
    state_of(p).out->version.append(at, n);
    return 0;
  };
  s.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
    state_of(p).field.append(at, n);
    return 0;
  };
  s.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
    state_of(p).value.append(at, n);
    return 0;
  };
  s.on_header_value_complete = [](llhttp_t* p) {
    auto& st = state_of(p);
    st.out->headers.emplace_back(std::move(st.field), std::move(st.value));
    st.field.clear();
    st.value.clear();
    return 0;
  };
  s.on_body = [](llhttp_t* p, const char* at, size_t n) {
    state_of(p).out->body.append(at, n);
    return 0;
  };
  s.on_message_complete = [](llhttp_t* p) {
    state_of(p).complete = true;
    return 0;
  };
  return s;
}

const llhttp_settings_t kSettings = llhttp_collecting_settings();

bool parse_llhttp(llhttp_t& parser, LlhttpState& st, std::string_view buf) {
  llhttp_reset(&parser);
  st.complete = false;
  if (llhttp_execute(&parser, buf.data(), buf.size()) != HPE_OK) return false;
  return st.complete;
}

// ---- cases ----

void check_same(std::string_view request) {
  OursParsed a;
  Parsed b;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &kSettings);
  LlhttpState st(&b);
  parser.data = &st;
  if (!parse_ours(request, a) || !parse_llhttp(parser, st, request) || a.start.method != b.method ||
      a.start.path != b.target || a.start.version != "HTTP/" + b.version ||
      a.headers.size() != b.headers.size() || a.body != b.body) {
    std::abort();  // the two sides must do the same work
  }
}

void BM_Ours(benchmark::State& state, std::string_view request) {
  check_same(request);
  for (auto _ : state) {
    OursParsed out;
    bool ok = parse_ours(request, out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * request.size());
}

void BM_Llhttp(benchmark::State& state, std::string_view request) {
  check_same(request);
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &kSettings);
  for (auto _ : state) {
    Parsed out;
    LlhttpState st(&out);
    parser.data = &st;
    bool ok = parse_llhttp(parser, st, request);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * request.size());
}

BENCHMARK_CAPTURE(BM_Ours, small_get, kSmallGet);
BENCHMARK_CAPTURE(BM_Llhttp, small_get, kSmallGet);
BENCHMARK_CAPTURE(BM_Ours, browser_get, kBrowserGet);
BENCHMARK_CAPTURE(BM_Llhttp, browser_get, kBrowserGet);
BENCHMARK_CAPTURE(BM_Ours, post, kPost);
BENCHMARK_CAPTURE(BM_Llhttp, post, kPost);

}  // namespace
}  // namespace tornado::httputil
