// GzipDecompressor over zlib's inflate, with bounded output per call.
#include "util/gzip_decompressor.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tornado::util {
namespace {

// 16 + MAX_WBITS: zlib expects (and checks) the gzip header and trailer.
constexpr int kGzipWindowBits = 16 + MAX_WBITS;
// Output grows in steps up to max_length rather than allocating max_length at once.
constexpr size_t kInitialOutput = 16 * 1024;

}  // namespace

GzipDecompressor::GzipDecompressor() : stream_(std::make_unique<z_stream_s>()) {
  *stream_ = z_stream_s{};
  if (inflateInit2(stream_.get(), kGzipWindowBits) != Z_OK) {
    std::abort();  // only fails when out of memory or on a mismatched zlib
  }
}

GzipDecompressor::~GzipDecompressor() { inflateEnd(stream_.get()); }

absl::StatusOr<std::string> GzipDecompressor::decompress(std::string_view value,
                                                         size_t max_length) {
  if (flushed_) return absl::FailedPreconditionError("GzipDecompressor used after flush()");
  if (max_length == 0) {
    return absl::InvalidArgumentError("GzipDecompressor::decompress: max_length must be > 0");
  }
  return inflate_some(value, max_length, Z_SYNC_FLUSH);
}

absl::StatusOr<std::string> GzipDecompressor::flush(size_t max_length) {
  if (flushed_) return absl::FailedPreconditionError("GzipDecompressor used after flush()");
  flushed_ = true;
  const std::string tail = std::move(unconsumed_tail_);
  unconsumed_tail_.clear();
  // One byte more than allowed tells "exactly max_length" from "more pending".
  absl::StatusOr<std::string> out = inflate_some(tail, max_length + 1, Z_FINISH);
  if (!out.ok()) return out;
  if (out->size() > max_length || !unconsumed_tail_.empty()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("GzipDecompressor::flush: more than ", max_length, " bytes pending"));
  }
  if (!eof_) return absl::DataLossError("gzip stream truncated (no trailer)");
  return out;
}

absl::StatusOr<std::string> GzipDecompressor::inflate_some(std::string_view input,
                                                           size_t max_length, int flush) {
  std::string out;
  if (eof_) {  // everything after the stream's end is unused data, as in zlib
    unused_data_.append(input);
    unconsumed_tail_.clear();
    return out;
  }
  size_t produced = 0;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= max_length) break;  // output full: the rest becomes the tail
      out.resize(std::min(max_length, std::max(kInitialOutput, out.size() * 2)));
    }
    const size_t in_chunk = std::min<size_t>(input.size(), UINT_MAX);
    const size_t out_chunk = std::min<size_t>(out.size() - produced, UINT_MAX);
    stream_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream_->avail_in = static_cast<uInt>(in_chunk);
    stream_->next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream_->avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(stream_.get(), flush);
    const size_t consumed = in_chunk - stream_->avail_in;
    input.remove_prefix(consumed);
    const size_t wrote = out_chunk - stream_->avail_out;
    produced += wrote;
    if (rc == Z_STREAM_END) {
      eof_ = true;
      unused_data_.append(input);
      input = {};
      break;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress was possible: the input is used up.
      if (wrote == 0 && consumed == 0) break;
      continue;
    }
    if (rc != Z_OK) {
      const char* msg = stream_->msg != nullptr ? stream_->msg : "corrupt data";
      return absl::InvalidArgumentError(absl::StrCat("gzip decompression failed: ", msg));
    }
    if (input.empty() && produced < out.size()) break;  // all input consumed, output drained
  }
  out.resize(produced);
  unconsumed_tail_.assign(input.data(), input.size());
  return out;
}

}  // namespace tornado::util
