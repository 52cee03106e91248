#include "simple_httpclient/decoder.h"

#include <brotli/decode.h>
#include <zlib.h>

#include <cstdint>

#include "httputil/httputil.h"

namespace tornado::simple_httpclient {
namespace {

using httputil::ascii_iequals;

constexpr std::size_t kStep = 64 * 1024;

class ZlibDecoder : public ContentDecoder {
 public:
  explicit ZlibDecoder(bool gzip) : gzip_(gzip) { init(gzip ? 16 + MAX_WBITS : MAX_WBITS); }
  ~ZlibDecoder() override { inflateEnd(&z_); }

  absl::Status decode(std::string_view in, std::string& out, std::size_t limit) override {
    if (ended_) {
      // Bytes after the end of the stream: ignored (as zlib's unused_data).
      return absl::OkStatus();
    }
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    while (z_.avail_in > 0 || more_) {
      const std::size_t before = out.size();
      out.resize(before + kStep);
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      z_.avail_out = static_cast<uInt>(kStep);
      const uInt avail_in_before = z_.avail_in;
      int rc = inflate(&z_, Z_NO_FLUSH);
      const std::size_t produced = kStep - z_.avail_out;
      out.resize(before + produced);
      if (rc == Z_DATA_ERROR && !gzip_ && !raw_ && !any_output_) {
        // "deflate" sent as a raw deflate stream (no zlib header), as some servers do.
        raw_ = true;
        inflateEnd(&z_);
        init(-MAX_WBITS);
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        continue;
      }
      if (produced > 0) any_output_ = true;
      if (out.size() > limit) return absl::ResourceExhaustedError("decompressed body too large");
      if (rc == Z_STREAM_END) {
        ended_ = true;
        return absl::OkStatus();
      }
      if (rc == Z_BUF_ERROR && produced == 0 && z_.avail_in == avail_in_before) break;
      if (rc != Z_OK && rc != Z_BUF_ERROR) return absl::DataLossError("corrupt compressed body");
      more_ = z_.avail_out == 0;
    }
    return absl::OkStatus();
  }

  absl::Status finish() override {
    if (!ended_) return absl::DataLossError("truncated compressed body");
    return absl::OkStatus();
  }

 private:
  void init(int wbits) {
    z_ = z_stream{};
    inflateInit2(&z_, wbits);
    more_ = false;
  }
  z_stream z_{};
  bool gzip_;
  bool raw_ = false;
  bool ended_ = false;
  bool more_ = false;
  bool any_output_ = false;
};

class BrotliDecoder : public ContentDecoder {
 public:
  BrotliDecoder() : state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~BrotliDecoder() override { BrotliDecoderDestroyInstance(state_); }

  absl::Status decode(std::string_view in, std::string& out, std::size_t limit) override {
    std::size_t avail_in = in.size();
    const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    for (;;) {
      const std::size_t before = out.size();
      out.resize(before + kStep);
      std::size_t avail_out = kStep;
      auto* next_out = reinterpret_cast<std::uint8_t*>(out.data() + before);
      const BrotliDecoderResult rc =
          BrotliDecoderDecompressStream(state_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
      out.resize(before + (kStep - avail_out));
      if (out.size() > limit) return absl::ResourceExhaustedError("decompressed body too large");
      switch (rc) {
        case BROTLI_DECODER_RESULT_SUCCESS:
          return absl::OkStatus();
        case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
          return absl::OkStatus();
        case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
          continue;
        default:
          return absl::DataLossError("corrupt brotli body");
      }
    }
  }

  absl::Status finish() override {
    if (!BrotliDecoderIsFinished(state_)) return absl::DataLossError("truncated brotli body");
    return absl::OkStatus();
  }

 private:
  BrotliDecoderState* state_;
};

}  // namespace

std::unique_ptr<ContentDecoder> ContentDecoder::create(std::string_view encoding) {
  while (!encoding.empty() && (encoding.front() == ' ' || encoding.front() == '\t')) encoding.remove_prefix(1);
  while (!encoding.empty() && (encoding.back() == ' ' || encoding.back() == '\t')) encoding.remove_suffix(1);
  if (ascii_iequals(encoding, "gzip") || ascii_iequals(encoding, "x-gzip")) return std::make_unique<ZlibDecoder>(true);
  if (ascii_iequals(encoding, "deflate")) return std::make_unique<ZlibDecoder>(false);
  if (ascii_iequals(encoding, "br")) return std::make_unique<BrotliDecoder>();
  return nullptr;
}

}  // namespace tornado::simple_httpclient
