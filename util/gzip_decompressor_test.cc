// Tests for GzipDecompressor: round trips, bounded output on a decompression bomb,
// corrupt and truncated input.
#include "util/gzip_decompressor.h"

#include <zlib.h>

#include <string>

#include <gtest/gtest.h>

namespace tornado::util {
namespace {

// gzip-compresses `size` bytes made by repeating `unit`, fed to zlib in pieces.
std::string gzip_repeated(const std::string& unit, size_t size) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string piece;
  while (piece.size() < 64 * 1024) piece += unit;
  std::string out;
  char buf[64 * 1024];
  size_t left = size;
  while (true) {
    const size_t n = std::min(left, piece.size());
    zs.next_in = reinterpret_cast<Bytef*>(piece.data());
    zs.avail_in = static_cast<uInt>(n);
    left -= n;
    const int mode = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    int rc;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      rc = deflate(&zs, mode);
      out.append(buf, sizeof(buf) - zs.avail_out);
    } while (zs.avail_out == 0 || (mode == Z_FINISH && rc != Z_STREAM_END));
    if (left == 0) break;
  }
  deflateEnd(&zs);
  return out;
}

TEST(GzipDecompressorTest, RoundTrip) {
  const std::string gz = gzip_repeated("hello gzip ", 1000);
  GzipDecompressor d;
  absl::StatusOr<std::string> out = d.decompress(gz, 1 << 20);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->size(), 1000u);
  EXPECT_EQ(out->substr(0, 11), "hello gzip ");
  EXPECT_TRUE(d.unconsumed_tail().empty());
  EXPECT_TRUE(d.eof());
  absl::StatusOr<std::string> rest = d.flush();
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, "");
}

TEST(GzipDecompressorTest, ByteByByteInput) {
  const std::string gz = gzip_repeated("abc", 300);
  GzipDecompressor d;
  std::string all;
  for (char c : gz) {
    absl::StatusOr<std::string> out = d.decompress(std::string_view(&c, 1), 4096);
    ASSERT_TRUE(out.ok()) << out.status();
    all += *out;
  }
  absl::StatusOr<std::string> rest = d.flush();
  ASSERT_TRUE(rest.ok()) << rest.status();
  all += *rest;
  EXPECT_EQ(all.size(), 300u);
}

TEST(GzipDecompressorTest, BombIsBoundedByMaxLength) {
  // 64 MiB of zeros compresses to well under 1 MiB.
  constexpr size_t kSize = 64u << 20;
  constexpr size_t kMax = 1u << 20;
  const std::string gz = gzip_repeated(std::string(1, '\0'), kSize);
  ASSERT_LT(gz.size(), kSize / 100);
  GzipDecompressor d;
  std::string data = gz;
  size_t total = 0, calls = 0;
  while (!data.empty()) {
    absl::StatusOr<std::string> out = d.decompress(data, kMax);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_LE(out->size(), kMax);
    ASSERT_LE(out->capacity(), 2 * kMax);
    total += out->size();
    ++calls;
    data = d.unconsumed_tail();
  }
  absl::StatusOr<std::string> rest = d.flush();
  ASSERT_TRUE(rest.ok()) << rest.status();
  total += rest->size();
  EXPECT_EQ(total, kSize);
  EXPECT_GE(calls, kSize / kMax);
}

TEST(GzipDecompressorTest, FlushRefusesToReturnTooMuch) {
  const std::string gz = gzip_repeated("x", 1 << 20);
  GzipDecompressor d;
  absl::StatusOr<std::string> out = d.decompress(gz, 1024);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->size(), 1024u);
  EXPECT_FALSE(d.unconsumed_tail().empty());
  EXPECT_EQ(d.flush().status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(GzipDecompressorTest, MaxLengthZeroIsRejected) {
  GzipDecompressor d;
  EXPECT_EQ(d.decompress("x", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GzipDecompressorTest, CorruptInputIsAnError) {
  GzipDecompressor d;
  absl::StatusOr<std::string> out = d.decompress("this is not gzip data at all", 1024);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);

  std::string gz = gzip_repeated("checksum ", 900);
  gz[gz.size() - 6] ^= 0x55;  // corrupt the CRC32 in the trailer
  GzipDecompressor d2;
  EXPECT_EQ(d2.decompress(gz, 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GzipDecompressorTest, TruncatedInputIsDetectedByFlush) {
  const std::string gz = gzip_repeated("truncated ", 1000);
  GzipDecompressor d;
  ASSERT_TRUE(d.decompress(gz.substr(0, gz.size() - 4), 1 << 20).ok());
  EXPECT_FALSE(d.eof());
  EXPECT_EQ(d.flush().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(d.decompress("x", 10).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(GzipDecompressorTest, DataAfterTheStreamIsUnusedData) {
  const std::string gz = gzip_repeated("a", 10) + "trailing";
  GzipDecompressor d;
  absl::StatusOr<std::string> out = d.decompress(gz, 1024);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, std::string(10, 'a'));
  EXPECT_EQ(d.unused_data(), "trailing");
  EXPECT_TRUE(d.unconsumed_tail().empty());
}

}  // namespace
}  // namespace tornado::util
