// Streaming Content-Encoding decoders for simple_httpclient: gzip and deflate (zlib),
// br (brotli). Output is produced in bounded steps and capped, so a small compressed
// body cannot expand past the limit (no decompression bomb).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tornado::simple_httpclient {

class ContentDecoder {
 public:
  virtual ~ContentDecoder() = default;
  // A decoder for a Content-Encoding value ("gzip", "x-gzip", "deflate", "br";
  // case-insensitive), or null if it is none of those.
  static std::unique_ptr<ContentDecoder> create(std::string_view encoding);
  // Decodes `in`, appending to `out`. Fails with ResourceExhausted once `out` would grow
  // past `limit` bytes, DataLoss for corrupt input.
  virtual absl::Status decode(std::string_view in, std::string& out, std::size_t limit) = 0;
  // The end of the input: fails with DataLoss if the compressed stream was truncated.
  virtual absl::Status finish() = 0;
};

}  // namespace tornado::simple_httpclient
