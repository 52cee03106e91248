// tornado::util helpers: timedelta_to_seconds, re_unescape, errno helpers.
#include "util/util.h"

#include <cerrno>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tornado::util {

double timedelta_to_seconds(absl::Duration td) { return absl::ToDoubleSeconds(td); }

absl::StatusOr<std::string> re_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char next = s[++i];
    if (absl::ascii_isalnum(static_cast<unsigned char>(next))) {
      return absl::InvalidArgumentError(absl::StrCat("cannot unescape '\\\\", std::string(1, next), "'"));
    }
    // A multi-byte character after the backslash is copied byte by byte by the loop.
    out.push_back(next);
  }
  return out;
}

std::optional<int> errno_from_exception(const std::exception& e) {
  const auto* se = dynamic_cast<const std::system_error*>(&e);
  if (se == nullptr) return std::nullopt;
  const std::error_category& cat = se->code().category();
  if (cat != std::generic_category() && cat != std::system_category()) return std::nullopt;
  return se->code().value();
}

std::optional<int> errno_from_exception(const std::exception_ptr& e) {
  if (!e) return std::nullopt;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return errno_from_exception(ex);
  } catch (...) {
    return std::nullopt;
  }
}

bool errno_would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

bool errno_connection_reset(int err) {
  return err == ECONNRESET || err == ECONNABORTED || err == EPIPE || err == ETIMEDOUT;
}

bool errno_in_progress(int err) { return err == EINPROGRESS; }

}  // namespace tornado::util
