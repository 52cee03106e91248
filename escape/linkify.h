// linkify (tornado.escape.linkify): plain text to HTML with the URLs made into links.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tornado::escape {

// Tornado's keyword arguments, in its order, so designated initializers read like the
// Python call: linkify(text, {.shorten = true, .require_protocol = true}).
struct LinkifyOptions {
  // Shorten long URLs for display (the full URL goes in a title attribute).
  bool shorten = false;
  // Extra text for the <a> tag, e.g. R"(rel="nofollow" class="external")", or a
  // function of the href returning that text.
  std::variant<std::string, std::function<std::string(std::string_view href)>> extra_params = {};
  // Only link URLs that have a protocol; otherwise www.example.com is linked too.
  bool require_protocol = false;
  // Protocols that are linked; never include unsafe ones such as "javascript".
  std::vector<std::string> permitted_protocols = {"http", "https"};
};

// HTML-escapes `text` (xhtml_escape) and wraps each URL in <a href="...">, exactly as
// Tornado's linkify on its test table. Uses Tornado's URL pattern under RE2, with
// Python's Unicode meaning of \w, \s and \b; linear time on any input.
std::string linkify(std::string_view text, const LinkifyOptions& options = {});

}  // namespace tornado::escape
