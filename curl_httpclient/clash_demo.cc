// The clash curl_httpclient avoids, for boringssl_isolation_test's negative control: a
// binary linking BoringSSL and Debian's libcurl directly (so libssh2.so.1 and OpenSSL's
// libcrypto.so.3 load too). It hashes with BoringSSL and initializes curl; under
// LD_DEBUG=bindings, libcrypto.so.3's references bind to BoringSSL.
#include <curl/curl.h>
#include <openssl/sha.h>

#include <cstdio>

int main() {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>("x"), 1, digest);
  const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  std::printf("curl_global_init: %d\n", static_cast<int>(rc));
  curl_global_cleanup();
  return 0;
}
