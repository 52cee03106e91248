// GzipDecompressor (tornado.util.GzipDecompressor): streaming gzip decompression over
// zlib whose output per call is bounded, so a decompression bomb cannot exhaust memory.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct z_stream_s;

namespace tornado::util {

// Decompresses one gzip member fed in chunks. Typical loop (as Tornado's HTTP code):
//
//   std::string data = chunk;
//   while (!data.empty()) {
//     ASSIGN_OR_RETURN(std::string out, d.decompress(data, 64 * 1024));
//     consume(out);
//     data = d.unconsumed_tail();
//   }
//   ... at end of body: ASSIGN_OR_RETURN(std::string rest, d.flush());
//
// Errors: InvalidArgument for corrupt data (bad header, checksum, ...),
// FailedPrecondition for a call after flush().
class GzipDecompressor {
 public:
  // flush() returns at most this much unless told otherwise.
  static constexpr size_t kDefaultFlushLimit = 64 * 1024;

  GzipDecompressor();
  ~GzipDecompressor();
  GzipDecompressor(const GzipDecompressor&) = delete;
  GzipDecompressor& operator=(const GzipDecompressor&) = delete;

  // Decompresses `value` and returns at most `max_length` (> 0) bytes of output. Input
  // not consumed because the output was full is kept in unconsumed_tail(); pass it back
  // in the next call. Unlike Tornado, max_length is required: 0 is InvalidArgument
  // rather than "unbounded".
  absl::StatusOr<std::string> decompress(std::string_view value, size_t max_length);

  // Input left over by the last decompress() because max_length was reached.
  const std::string& unconsumed_tail() const { return unconsumed_tail_; }

  // Bytes that followed the end of the gzip stream (zlib's unused_data).
  const std::string& unused_data() const { return unused_data_; }

  // True once the end of the gzip stream (its trailer) has been read (zlib's eof).
  bool eof() const { return eof_; }

  // Processes unconsumed_tail() and returns the remaining output; no other method may
  // be called afterwards. Checks for truncated input, as Tornado's docstring promises:
  // DataLoss when the gzip trailer never came. ResourceExhausted when more than
  // `max_length` bytes are still pending (drain them with decompress() first).
  absl::StatusOr<std::string> flush(size_t max_length = kDefaultFlushLimit);

 private:
  // Runs inflate over `input` until it is consumed, the stream ends or `max_length`
  // bytes are out; sets unconsumed_tail_ / unused_data_ from what is left.
  absl::StatusOr<std::string> inflate_some(std::string_view input, size_t max_length, int flush);

  std::unique_ptr<z_stream_s> stream_;
  std::string unconsumed_tail_;
  std::string unused_data_;
  bool eof_ = false;
  bool flushed_ = false;
};

}  // namespace tornado::util
