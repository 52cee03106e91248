// HTML escaping (tornado.escape.xhtml_escape / xhtml_unescape).
#pragma once

#include <string>
#include <string_view>

namespace tornado::escape {

// Escapes & < > " ' as &amp; &lt; &gt; &quot; &#x27;, so the result is safe in HTML
// text and quoted attribute values (Tornado 6.5's xhtml_escape, i.e. html.escape).
// Bytes other than those five are copied unchanged, so invalid UTF-8 passes through
// (Tornado raises UnicodeDecodeError on such bytes).
std::string xhtml_escape(std::string_view value);

// Replaces character references with the characters they stand for, as HTML5 and
// Tornado 6.5's xhtml_unescape (html.unescape) do:
//  - named references from the full HTML5 table (a superset of Python's
//    html.entities.name2codepoint), with or without ';' where HTML5 allows it, and the
//    longest known prefix of an unknown name ("&notit;" gives "¬it;");
//  - numeric &#NN; and &#xNN; (';' optional), where 0 and surrogates give U+FFFD,
//    0x80-0x9F the Windows-1252 characters, and noncharacters / most controls nothing;
//  - anything else, e.g. "&#xyz;" or "&unknown;", is left as it is.
// Linear time on any input.
std::string xhtml_unescape(std::string_view value);

}  // namespace tornado::escape
