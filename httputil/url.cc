// URL and date helpers: url_concat, qs_to_qsl, format_timestamp,
// encode_username_password.
#include "escape/url.h"

#include <cstdio>
#include <ctime>

#include "httputil/httputil.h"
#include "httputil/internal.h"

namespace tornado::httputil {

std::vector<std::pair<std::string, std::string>> qs_to_qsl(const Arguments& args) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, values] : args) {
    for (const auto& value : values) out.emplace_back(name, value);
  }
  return out;
}

std::string url_concat(std::string_view url,
                       const std::vector<std::pair<std::string, std::string>>& args) {
  // urlparse: the fragment first, then the query.
  std::size_t hash = url.find('#');
  std::string_view fragment =
      hash == std::string_view::npos ? std::string_view() : url.substr(hash + 1);
  std::string_view rest = url.substr(0, hash);
  std::size_t q = rest.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  std::string out(rest.substr(0, q));
  // parse_qsl(query, keep_blank_values=True) + args, then urlencode.
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    pairs.emplace_back(escape::url_unescape(pair.substr(0, eq), escape::Encoding::kBytes),
                       eq == std::string_view::npos
                           ? std::string()
                           : escape::url_unescape(pair.substr(eq + 1), escape::Encoding::kBytes));
  }
  pairs.insert(pairs.end(), args.begin(), args.end());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    out += internal::cat(i == 0 ? "?" : "&", escape::url_escape(pairs[i].first), "=",
                         escape::url_escape(pairs[i].second));
  }
  if (!fragment.empty()) out += internal::cat("#", fragment);
  return out;
}

std::string format_timestamp(std::chrono::system_clock::time_point t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto seconds = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  std::time_t tt = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string encode_username_password(std::string_view username, std::string_view password) {
  return internal::cat(username, ":", password);
}

}  // namespace tornado::httputil
