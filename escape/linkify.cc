// linkify over RE2. Tornado's pattern starts with \b, which RE2 only has in ASCII form
// and which cannot be tested by looking back; see url_pattern() for how it is kept.
#include "escape/linkify.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "escape/html.h"
#include "escape/unicode.h"
#include "re2/re2.h"

namespace tornado::escape {
namespace {

// Python's \w and \s for str patterns, as RE2 class contents.
constexpr char kWord[] = R"(\p{L}\p{N}_)";
constexpr char kSpace[] =
    R"(\t\n\x{0b}\f\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000})";

// Tornado's _URL_RE, adapted. Python requires \b before the URL. For "proto:" URLs the
// leftmost match already starts at a word boundary (a word character before it would
// have started an earlier match) once the first character must be a word character;
// for "www." URLs the character before is consumed by the match as (?:^|[^\w]), and
// linkify() starts each search one character early to let it be seen. Groups: 1 the
// www URL; 2 the proto URL, 3 its protocol, 4 the slashes after it.
std::string url_pattern() {
  const std::string chunk = absl::StrCat("(?:[^", kSpace, "&()]|&amp;|&quot;)");
  const std::string body = absl::StrCat(
      "(?:(?:", chunk, "*(?:[^!\"#$%&'()*+,.:;<=>?@\\[\\]^`{|}~", kSpace, "]))|(?:\\(", chunk,
      "*\\)))+");
  return absl::StrCat("(?:^|[^", kWord, "])(www[.]", body, ")|(([", kWord, "][", kWord,
                      "-]*):(/{1,3})", body, ")");
}

const RE2& url_re() {
  static const RE2* re = [] {
    RE2::Options options;
    options.set_max_mem(32 << 20);  // room for the DFA of the Unicode classes
    return new RE2(url_pattern(), options);
  }();
  return *re;
}

bool is_word(char32_t cp) {
  static const RE2* word = new RE2(absl::StrCat("[", kWord, "]"));
  std::string s;
  append_utf8(s, cp);
  return RE2::FullMatch(s, *word);
}

// Start of the code point that ends at `end` (exclusive).
size_t previous_code_point(std::string_view s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
    --start;
  }
  return start;
}

size_t code_points(std::string_view s) {
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// Byte offset of the first `n` code points of `s` (all of it when shorter).
size_t prefix_bytes(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t seen = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == n) break;
  }
  return i;
}

// Debian's abseil has its own string_view type, distinct from std::string_view.
absl::string_view sv(std::string_view s) { return {s.data(), s.size()}; }

std::string strip(std::string_view s) { return std::string(internal::strip_python_space(s)); }

// Tornado's clipping of long URLs for display; appends a title to `params` when clipped.
std::string shorten_url(std::string_view url, size_t proto_len, const std::string& href,
                        std::string& params) {
  constexpr size_t kMaxLen = 30;
  const std::string before_clip(url);
  std::string out(url);
  // Tornado splits the rest on '/' and keeps the host plus a bit of the first segment.
  const std::string_view rest = url.substr(proto_len);
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view first = rest.substr(slash + 1);
    first = first.substr(0, first.find('/'));
    std::string_view bit = first.substr(0, prefix_bytes(first, 8));
    bit = bit.substr(0, bit.find('?'));
    bit = bit.substr(0, bit.find('.'));
    out = absl::StrCat(sv(url.substr(0, proto_len)), sv(rest.substr(0, slash)), "/", sv(bit));
  }
  if (code_points(out) > kMaxLen * 3 / 2) out.resize(prefix_bytes(out, kMaxLen));
  if (out != before_clip) {
    const size_t amp = out.rfind('&');  // avoid splitting an HTML character entity
    if (amp != std::string::npos && code_points(std::string_view(out).substr(0, amp)) > kMaxLen - 5) {
      out.resize(amp);
    }
    out += "...";
    if (code_points(out) >= code_points(before_clip)) {
      out = before_clip;
    } else {
      absl::StrAppend(&params, " title=\"", href, "\"");
    }
  }
  return out;
}

void make_link(std::string& out, std::string_view url, std::string_view proto,
               std::string_view slashes, const LinkifyOptions& options) {
  const auto& allowed = options.permitted_protocols;
  if ((options.require_protocol && proto.empty()) ||
      (!proto.empty() && std::find(allowed.begin(), allowed.end(), proto) == allowed.end())) {
    out.append(url);  // no protocol, or one not permitted: not a link
    return;
  }
  const std::string href = proto.empty() ? absl::StrCat("http://", sv(url)) : std::string(url);
  std::string params;
  if (const auto* text = std::get_if<std::string>(&options.extra_params)) {
    if (!text->empty()) params = absl::StrCat(" ", strip(*text));
  } else if (const auto& fn = std::get<1>(options.extra_params)) {
    params = absl::StrCat(" ", strip(fn(href)));
  }
  std::string shown(url);
  if (options.shorten && code_points(url) > 30) {
    const size_t proto_len = proto.empty() ? 0 : proto.size() + 1 + slashes.size();
    shown = shorten_url(url, proto_len, href, params);
  }
  absl::StrAppend(&out, "<a href=\"", href, "\"", params, ">", shown, "</a>");
}

}  // namespace

std::string linkify(std::string_view text, const LinkifyOptions& options) {
  const std::string escaped = xhtml_escape(text);
  const std::string_view s = escaped;
  const RE2& re = url_re();
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  size_t pos = 0;  // everything before pos is in `out`
  re2::StringPiece groups[5];
  while (pos < s.size()) {
    // Start one character early so a www URL at pos can see the character before it,
    // unless that character is a word character, which rules out a boundary at pos.
    size_t start = pos;
    if (pos > 0) {
      const size_t prev = previous_code_point(s, pos);
      const internal::Utf8Step step = internal::decode_utf8_step(s, prev);
      if (!step.ok || !is_word(step.code_point)) start = prev;
    }
    if (!re.Match(re2::StringPiece(s.data(), s.size()), start, s.size(), RE2::UNANCHORED, groups, 5)) {
      break;
    }
    const bool www = groups[1].data() != nullptr;
    const re2::StringPiece url = www ? groups[1] : groups[2];
    const size_t url_begin = url.data() - s.data();
    out.append(s.substr(pos, url_begin - pos));
    make_link(out, std::string_view(url.data(), url.size()),
              www ? std::string_view() : std::string_view(groups[3].data(), groups[3].size()),
              www ? std::string_view() : std::string_view(groups[4].data(), groups[4].size()),
              options);
    pos = url_begin + url.size();
  }
  out.append(s.substr(pos));
  return out;
}

}  // namespace tornado::escape
