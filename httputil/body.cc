// Request bodies: application/x-www-form-urlencoded and multipart/form-data
// (Tornado's parse_body_arguments, parse_multipart_form_data, HTTPServerRequest._parse_body).
#include <functional>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "httputil/httputil.h"
#include "httputil/internal.h"
#include "log/log.h"

namespace tornado::httputil {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// RFC 2046 5.1.1: a boundary is 1 to 70 characters.
constexpr std::size_t kMaxBoundary = 70;

// Boyer-Moore search for one pattern in many places: linear in the text searched even
// for text that nearly matches everywhere (string_view::find compares the whole
// pattern at each candidate). With `reverse`, finds the last occurrence.
class Finder {
 public:
  Finder(std::string_view pattern, bool reverse)
      : pattern_(reverse ? std::string(pattern.rbegin(), pattern.rend()) : std::string(pattern)),
        searcher_(pattern_.begin(), pattern_.end()),
        reverse_(reverse) {}
  Finder(const Finder&) = delete;
  Finder& operator=(const Finder&) = delete;

  // The offset in `text` of the first occurrence at or after `from` (forward), or of
  // the last occurrence (reverse); npos if none.
  std::size_t find(std::string_view text, std::size_t from = 0) const {
    if (!reverse_) {
      auto [begin, end] = searcher_(text.begin() + from, text.end());
      return begin == text.end() ? std::string_view::npos
                                 : static_cast<std::size_t>(begin - text.begin());
    }
    auto [begin, end] = searcher_(text.rbegin(), text.rend());
    return begin == text.rend() ? std::string_view::npos
                                : static_cast<std::size_t>(text.rend() - end);
  }

 private:
  const std::string pattern_;
  const std::boyer_moore_searcher<std::string::const_iterator> searcher_;
  const bool reverse_;
};

void append_all(Arguments& to, const Arguments& from) {
  for (const auto& [name, values] : from) {
    if (values.empty()) continue;
    auto& dest = to[name];
    dest.insert(dest.end(), values.begin(), values.end());
  }
}

// One part between delimiters: headers, a blank line, the value and a CRLF.
absl::Status parse_part(std::string_view part, Arguments& arguments, Files& files,
                        const BodyLimits& limits) {
  // Looking for the blank line only within the header limit keeps a huge part with no
  // blank line from being scanned twice; Tornado reports the same two errors.
  std::size_t window = limits.max_part_header_size + 4;
  std::size_t eoh = part.substr(0, window).find("\r\n\r\n");
  if (eoh == std::string_view::npos) {
    return absl::InvalidArgumentError(part.size() > window
                                          ? "multipart/form-data part header too large"
                                          : "multipart/form-data missing headers");
  }
  if (eoh > limits.max_part_header_size) {
    return absl::InvalidArgumentError("multipart/form-data part header too large");
  }
  auto headers = HTTPHeaders::parse(part.substr(0, eoh));
  if (!headers.ok()) {
    return absl::InvalidArgumentError(internal::cat("multipart/form-data part header: ",
                                                    std::string(headers.status().message())));
  }
  HeaderValue disposition = parse_header_value(headers->get("Content-Disposition", ""));
  if (disposition.value != "form-data") {
    return absl::InvalidArgumentError(
        "Invalid multipart/form-data: Content-Disposition is not form-data");
  }
  if (part.size() < 2 || part.substr(part.size() - 2) != kCrlf) {
    return absl::InvalidArgumentError("Invalid multipart/form-data: part does not end with CRLF");
  }
  std::size_t value_start = eoh + 4;
  std::size_t value_end = part.size() - 2;
  std::string_view value = value_start < value_end
                               ? part.substr(value_start, value_end - value_start)
                               : std::string_view();
  auto name = disposition.params.find("name");
  if (name == disposition.params.end() || name->second.empty()) {
    return absl::InvalidArgumentError("multipart/form-data value missing name");
  }
  auto filename = disposition.params.find("filename");
  if (filename != disposition.params.end() && !filename->second.empty()) {
    files[name->second].push_back(HTTPFile{filename->second, std::string(value),
                                           headers->get("Content-Type", "application/unknown")});
  } else {
    arguments[name->second].emplace_back(value);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status parse_multipart_form_data(std::string_view boundary, std::string_view data,
                                       Arguments& arguments, Files& files,
                                       const BodyLimits& limits) {
  // RFC 2046 allows a quoted boundary (Tornado strips the quotes, not escapes).
  if (!boundary.empty() && boundary.front() == '"' && boundary.back() == '"') {
    boundary = boundary.size() >= 2 ? boundary.substr(1, boundary.size() - 2) : "";
  }
  if (boundary.empty() || boundary.size() > kMaxBoundary) {
    return absl::InvalidArgumentError(
        "Invalid multipart/form-data: boundary must be 1 to 70 characters");
  }
  const std::string delimiter = internal::cat("--", boundary);
  std::size_t final_index = Finder(internal::cat(delimiter, "--"), /*reverse=*/true).find(data);
  if (final_index == std::string_view::npos) {
    return absl::InvalidArgumentError("Invalid multipart/form-data: no final boundary found");
  }
  // Everything after the final delimiter is an epilogue and ignored.
  data = data.substr(0, final_index);
  const std::string separator = internal::cat(delimiter, kCrlf);
  const Finder finder(separator, /*reverse=*/false);
  // Count the pieces first, as Tornado 6.5.8 does, without keeping them: nothing is
  // added when there are too many. Pieces = separators + 1 (the preamble counts).
  std::size_t pieces = 1;
  for (std::size_t pos = finder.find(data); pos != std::string_view::npos;
       pos = finder.find(data, pos + separator.size())) {
    if (++pieces > limits.max_parts) {
      return absl::InvalidArgumentError("multipart/form-data has too many parts");
    }
  }
  std::size_t pos = 0;
  while (true) {
    std::size_t next = finder.find(data, pos);
    std::string_view part = data.substr(pos, next == std::string_view::npos ? next : next - pos);
    if (!part.empty()) {
      if (auto status = parse_part(part, arguments, files, limits); !status.ok()) {
        return status;
      }
    }
    if (next == std::string_view::npos) break;
    pos = next + separator.size();
  }
  return absl::OkStatus();
}

absl::Status parse_body_arguments(std::string_view content_type, std::string_view body,
                                  Arguments& arguments, Files& files, const HTTPHeaders* headers,
                                  const BodyLimits& limits) {
  bool urlencoded = content_type.starts_with("application/x-www-form-urlencoded");
  bool multipart = content_type.starts_with("multipart/form-data");
  if (!urlencoded && !multipart) return absl::OkStatus();
  if (headers != nullptr && headers->contains("Content-Encoding")) {
    return absl::InvalidArgumentError(
        internal::cat("Unsupported Content-Encoding: ", headers->get("Content-Encoding", "")));
  }
  if (urlencoded) {
    append_all(arguments, parse_qs_bytes(body, /*keep_blank_values=*/true));
    return absl::OkStatus();
  }
  std::string_view fields = content_type;
  while (true) {
    std::size_t semi = fields.find(';');
    std::string_view field = internal::py_strip(fields.substr(0, semi));
    std::size_t eq = field.find('=');
    if (eq != std::string_view::npos && field.substr(0, eq) == "boundary" &&
        eq + 1 < field.size()) {
      auto status = parse_multipart_form_data(field.substr(eq + 1), body, arguments, files, limits);
      if (status.ok()) return status;
      return absl::InvalidArgumentError(
          internal::cat("Invalid multipart/form-data: ", std::string(status.message())));
    }
    if (semi == std::string_view::npos) break;
    fields.remove_prefix(semi + 1);
  }
  return absl::InvalidArgumentError("Invalid multipart/form-data: multipart boundary not found");
}

void HTTPServerRequest::parse_body() {
  // Nothing to parse and nothing to warn about (the common GET): skip the header copy.
  if (body.empty() && !headers.contains("Content-Type")) return;
  auto status =
      parse_body_arguments(headers.get("Content-Type", ""), body, body_arguments, files, &headers);
  if (!status.ok()) {
    TORNADO_LOG_WARNING(log::gen_log(), "Invalid request body: {}", status.ToString());
  }
  append_all(arguments, body_arguments);
}

}  // namespace tornado::httputil
