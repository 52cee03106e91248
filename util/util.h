// Small shared helpers (tornado.util): TimeoutError, timedelta_to_seconds, re_unescape,
// errno helpers.
// The module's other parts are configurable.h (Configurable) and gzip_decompressor.h
// (GzipDecompressor); this header includes both, so "util/util.h" gives all of util.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "util/configurable.h"
#include "util/gzip_decompressor.h"

namespace tornado::util {

// Raised when an operation times out: IOLoop::run_sync, gen::with_timeout, the locks'
// and queues' timeouts (Tornado's tornado.util.TimeoutError; also re-exported as
// tornado::ioloop::TimeoutError, as Tornado re-exports it from tornado.ioloop).
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The duration in seconds, as a double (Tornado's timedelta_to_seconds, which takes a
// datetime.timedelta).
template <typename Rep, typename Period>
double timedelta_to_seconds(std::chrono::duration<Rep, Period> td) {
  return std::chrono::duration<double>(td).count();
}

// The duration in seconds, as a double; infinite durations give +/-infinity.
double timedelta_to_seconds(absl::Duration td);

// Undoes Python's re.escape: drops each backslash and keeps the character after it.
// A backslash before an ASCII letter or digit (\d, \b, \Z, ...) cannot come from
// re.escape and gives InvalidArgument (Tornado raises ValueError); a lone trailing
// backslash is kept. Linear time.
absl::StatusOr<std::string> re_unescape(std::string_view s);

// The errno carried by an exception: the code of a std::system_error in the generic
// or system category, else nullopt. Tornado's errno_from_exception.
std::optional<int> errno_from_exception(const std::exception& e);

// As above for an exception held in an exception_ptr (nullopt for a null pointer or
// an exception that does not derive from std::exception).
std::optional<int> errno_from_exception(const std::exception_ptr& e);

// True for EAGAIN / EWOULDBLOCK: a non-blocking call would block (tornado.iostream's
// _ERRNO_WOULDBLOCK).
bool errno_would_block(int err);

// True for the errnos that mean the peer went away: ECONNRESET, ECONNABORTED, EPIPE,
// ETIMEDOUT (tornado.iostream's _ERRNO_CONNRESET).
bool errno_connection_reset(int err);

// True for EINPROGRESS: a non-blocking connect is under way (_ERRNO_INPROGRESS).
bool errno_in_progress(int err);

}  // namespace tornado::util
