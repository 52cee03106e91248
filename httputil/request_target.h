// Strict RFC 9112 / RFC 9110 / RFC 3986 checks of the request target and the Host field.
// Pure functions: no allocation on success, one pass over the input (linear time).
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace tornado::httputil {

// RFC 9112 3.2: the request-target of a request with method `method` (case-sensitive).
//   origin-form    "/" path [ "?" query ]          any method but CONNECT
//   absolute-form  scheme ":" hier-part [ "?" query ]  any method but CONNECT; for
//                  http/https: "//" authority, non-empty host, no userinfo (RFC 9110 4.2)
//   authority-form uri-host ":" port               CONNECT only, and CONNECT only uses it
//                  (non-empty host, port 1-5 digits <= 65535)
//   asterisk-form  "*"                             OPTIONS only
// A fragment ("#"), a "%" not followed by two hex digits, or any byte outside the
// grammar (space, CTL, DEL, ", <, >, \, ^, `, {, |, }, bytes >= 0x80) is an error.
// `scheme ":" *DIGIT` (e.g. "example.com:443") is authority-form, so an error for a
// method other than CONNECT, although it matches absolute-URI.
// Returns OK or InvalidArgument whose message names the problem.
absl::Status validate_request_target(std::string_view method, std::string_view target);

// RFC 9112 3.2 / RFC 3986 3.2.2: Host = uri-host [ ":" port ], port = *DIGIT (no range
// check), uri-host = "[" IPv6address / IPvFuture "]" / reg-name (IPv4address is a
// reg-name). Empty is valid. Stricter than the grammar: "," is rejected (it only
// appears in a Host value when several Host lines were combined, RFC 9110 5.3); an IPv6
// zone ("%25eth0", RFC 6874) is rejected.
bool is_valid_host_header(std::string_view value);

}  // namespace tornado::httputil
