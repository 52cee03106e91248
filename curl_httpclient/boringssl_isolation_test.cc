// Proves that libcurl (curl_httpclient) and BoringSSL never clash in one binary.
//
// The clash (README.md, "BoringSSL and libcurl in one process"): Debian's libcurl needs
// libssh2.so.1, which needs OpenSSL's libcrypto.so.3; glibc binds that library's
// versioned references (EVP_*@OPENSSL_3.0.0) to BoringSSL's unversioned definitions,
// which come first. curl_httpclient links a libssh2.so.1 stand-in, so OpenSSL is never
// loaded. This test, in one process:
//   1. runs a BoringSSL TLS 1.3 handshake (raw BoringSSL over a BIO pair), and
//   2. fetches http:// and https:// (a Python TLS server, the test CA) through
//      curl_httpclient (blocking HTTPClient), then
//   3. checks the loaded objects (dl_iterate_phdr): BoringSSL is there, no OpenSSL, no
//      real libssh2, and only BoringSSL defines BoringSSL's symbols; and
//   4. re-executes itself with LD_DEBUG=bindings and LD_BIND_NOW=1 (every symbol bound at
//      startup, not only the ones called) running 1+2, and checks every binding: nothing
//      outside our binary and BoringSSL binds to BoringSSL, and our binary's and
//      BoringSSL's own references to BoringSSL names all land in BoringSSL.
#include <dlfcn.h>
#include <link.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "curl_httpclient/curl_httpclient.h"
#include "curl_httpclient/test_server.h"
#include "gtest/gtest.h"
#include "httpclient/httpclient.h"

#ifndef OPENSSL_IS_BORINGSSL
#error "@boringssl//:ssl must put BoringSSL's headers first"
#endif

extern "C" char** environ;

namespace tornado::curl_httpclient {
namespace {

std::vector<std::string> LoadedLibraries() {
  std::vector<std::string> names;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        static_cast<std::vector<std::string>*>(out)->push_back(info->dlpi_name);
        return 0;
      },
      &names);
  return names;
}

bool IsBoringSSL(const std::string& path) {
  return absl::StrContains(path, "/android/libcrypto.so") || absl::StrContains(path, "/android/libssl.so");
}

// 1. A BoringSSL TLS 1.3 handshake and one record each way, all in memory.
void BoringSSLHandshake() {
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  ASSERT_TRUE(EC_KEY_generate_key(ec.get()));
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  ASSERT_TRUE(EVP_PKEY_assign_EC_KEY(key.get(), ec.release()));
  bssl::UniquePtr<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const uint8_t*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  ASSERT_TRUE(X509_sign(cert.get(), key.get(), EVP_sha256()));

  bssl::UniquePtr<SSL_CTX> server_ctx(SSL_CTX_new(TLS_method()));
  bssl::UniquePtr<SSL_CTX> client_ctx(SSL_CTX_new(TLS_method()));
  ASSERT_TRUE(SSL_CTX_use_certificate(server_ctx.get(), cert.get()));
  ASSERT_TRUE(SSL_CTX_use_PrivateKey(server_ctx.get(), key.get()));
  bssl::UniquePtr<SSL> server(SSL_new(server_ctx.get()));
  bssl::UniquePtr<SSL> client(SSL_new(client_ctx.get()));
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  ASSERT_TRUE(BIO_new_bio_pair(&server_bio, 0, &client_bio, 0));
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());
  bool client_done = false;
  bool server_done = false;
  for (int round = 0; round < 10 && !(client_done && server_done); ++round) {
    client_done = client_done || SSL_do_handshake(client.get()) == 1;
    server_done = server_done || SSL_do_handshake(server.get()) == 1;
  }
  ASSERT_TRUE(client_done && server_done);
  EXPECT_EQ(SSL_version(client.get()), TLS1_3_VERSION);
  const char message[] = "hello over BoringSSL";
  ASSERT_EQ(SSL_write(client.get(), message, sizeof(message)), int{sizeof(message)});
  char received[sizeof(message)] = {};
  ASSERT_EQ(SSL_read(server.get(), received, sizeof(received)), int{sizeof(message)});
  EXPECT_STREQ(received, message);
}

// 2. http:// and https:// through curl_httpclient.
void CurlFetches() {
  test::PeerServer plain;
  plain.start();
  test::PeerServer tls;
  tls.start({"--certfile", test::runfile("netutil/testdata/localhost.crt"), "--keyfile",
             test::runfile("netutil/testdata/localhost.key")});
  httpclient::HTTPClient client;
  httpclient::HTTPResponse http = client.fetch(absl::StrCat("http://127.0.0.1:", plain.port(), "/hello"));
  EXPECT_EQ(http.body, "Hello world!");
  httpclient::HTTPRequest request(absl::StrCat("https://localhost:", tls.port(), "/hello?name=TLS"));
  request.ca_certs = test::runfile("netutil/testdata/ca.crt");
  httpclient::HTTPResponse https = client.fetch(std::move(request));
  EXPECT_EQ(https.body, "Hello TLS!");
  client.close();
}

TEST(BoringSSLIsolation, HandshakeAndFetchInOneProcess) {
  BoringSSLHandshake();
  CurlFetches();
  // Both ran; now, what is loaded.
  EXPECT_STREQ(OpenSSL_version(OPENSSL_VERSION), "BoringSSL");
  EXPECT_TRUE(libssh2_stub_loaded());
  bool boring_crypto = false, boring_ssl = false, curl = false, gnutls = false;
  for (const std::string& lib : LoadedLibraries()) {
    EXPECT_FALSE(absl::StrContains(lib, "libcrypto.so.3")) << lib;
    EXPECT_FALSE(absl::StrContains(lib, "libssl.so.3")) << lib;
    EXPECT_FALSE(absl::StrContains(lib, "gnutls-openssl")) << lib;
    if (absl::StrContains(lib, "libssh2.so.1")) {
      EXPECT_FALSE(absl::StartsWith(lib, "/lib") || absl::StartsWith(lib, "/usr/lib")) << lib;
    }
    boring_crypto |= absl::StrContains(lib, "/android/libcrypto.so.0");
    boring_ssl |= absl::StrContains(lib, "/android/libssl.so.0");
    curl |= absl::StrContains(lib, "libcurl-gnutls.so.4");
    gnutls |= absl::StrContains(lib, "libgnutls.so.30");
  }
  EXPECT_TRUE(boring_crypto && boring_ssl && curl && gnutls);
  // No loaded object other than BoringSSL defines BoringSSL's names.
  for (const std::string& lib : LoadedLibraries()) {
    if (lib.empty() || IsBoringSSL(lib) || absl::StrContains(lib, "linux-vdso")) continue;
    void* handle = ::dlopen(lib.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (handle == nullptr) continue;
    for (const char* symbol : {"SSL_CTX_new", "SSL_do_handshake", "EVP_sha256", "X509_sign", "ERR_get_error",
                               "OPENSSL_init_crypto", "RAND_bytes", "EVP_DigestInit_ex"}) {
      void* address = ::dlsym(handle, symbol);
      if (address == nullptr) continue;
      Dl_info info{};
      ASSERT_NE(::dladdr(address, &info), 0);
      EXPECT_TRUE(IsBoringSSL(info.dli_fname)) << symbol << " from " << lib << " is defined by " << info.dli_fname;
    }
    ::dlclose(handle);
  }
}

struct Binding {
  std::string from, to, symbol;
};

// Runs this binary's first test again with the dynamic loader tracing every binding
// (LD_BIND_NOW: all of them at startup) and returns them.
std::vector<Binding> TraceBindings(std::string exe, std::vector<std::string> args) {
  // A fresh directory (parallel runs may share /tmp and, in PID namespaces, pids).
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/bindings.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern;
    return {};
  }
  const std::string dir = pattern;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (absl::StartsWith(*e, "LD_DEBUG") || absl::StartsWith(*e, "GTEST_") ||
        absl::StartsWith(*e, "XML_OUTPUT_FILE")) {
      continue;
    }
    env_strings.emplace_back(*e);
  }
  env_strings.push_back("LD_DEBUG=bindings");
  env_strings.push_back("LD_BIND_NOW=1");
  env_strings.push_back("LD_DEBUG_OUTPUT=" + dir + "/ld");
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv = {exe.data()};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  EXPECT_EQ(::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data()), 0);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "traced child failed: " << status;
  std::vector<Binding> bindings;
  // Only the traced process's own file: its children (python3 servers, which load
  // OpenSSL for their ssl module) inherit LD_DEBUG and write ld.<their pid>.
  {
    std::ifstream in(dir + "/ld." + std::to_string(pid));
    EXPECT_TRUE(in.good()) << "no LD_DEBUG output for pid " << pid;
    std::string line;
    while (std::getline(in, line)) {
      // "  1234:\tbinding file A [0] to B [0]: normal symbol `S' [VER]"
      const size_t f = line.find("binding file ");
      const size_t t = line.find(" to ", f);
      const size_t colon = line.find(": ", t);
      const size_t q1 = line.find('`', colon);
      const size_t q2 = line.find('\'', q1);
      if (f == std::string::npos || t == std::string::npos || colon == std::string::npos ||
          q1 == std::string::npos || q2 == std::string::npos) {
        continue;
      }
      auto strip = [](std::string s) { return s.substr(0, s.rfind(" [")); };
      bindings.push_back({strip(line.substr(f + 13, t - f - 13)), strip(line.substr(t + 4, colon - t - 4)),
                          line.substr(q1 + 1, q2 - q1 - 1)});
    }
  }
  std::filesystem::remove_all(dir);
  return bindings;
}

TEST(BoringSSLIsolation, SymbolBindings) {
  const std::vector<Binding> bindings =
      TraceBindings(std::filesystem::read_symlink("/proc/self/exe"),
                    {"--gtest_filter=BoringSSLIsolation.HandshakeAndFetchInOneProcess"});
  ASSERT_GT(bindings.size(), 1000u) << "LD_DEBUG output missing";
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe");
  auto ours = [&](const std::string& file) {
    // The traced child is this same binary, so the name LD_DEBUG prints is ours or
    // Bazel's runfiles path of it.
    return file == exe || absl::EndsWith(file, "/boringssl_isolation_test") || IsBoringSSL(file);
  };
  std::set<std::string> boringssl_names;
  std::map<std::string, int> to_boringssl_from;
  bool saw_curl = false, saw_handshake = false, saw_sha = false;
  for (const Binding& b : bindings) {
    EXPECT_FALSE(absl::StrContains(b.to, "libcrypto.so.3") || absl::StrContains(b.from, "libcrypto.so.3"))
        << b.from << " -> " << b.to << " " << b.symbol;
    EXPECT_FALSE(absl::StrContains(b.to, "libssl.so.3")) << b.from << " -> " << b.to << " " << b.symbol;
    if (IsBoringSSL(b.to)) {
      boringssl_names.insert(b.symbol);
      // Nothing but our binary and BoringSSL itself may bind to BoringSSL.
      EXPECT_TRUE(ours(b.from)) << b.from << " binds " << b.symbol << " to " << b.to;
    }
    if (absl::StrContains(b.to, "libcurl-gnutls.so.4") && b.symbol == "curl_multi_socket_action") saw_curl = true;
    if (b.symbol == "SSL_do_handshake" && absl::StrContains(b.to, "/android/libssl.so.0")) saw_handshake = true;
    if (b.symbol == "EVP_sha256" && absl::StrContains(b.to, "/android/libcrypto.so.0")) saw_sha = true;
  }
  int to_boringssl = 0;
  for (const Binding& b : bindings) to_boringssl += IsBoringSSL(b.to) ? 1 : 0;
  std::printf("%zu bindings traced, %d to BoringSSL (%zu names), none from outside our binary/BoringSSL\n",
              bindings.size(), to_boringssl, boringssl_names.size());
  EXPECT_TRUE(saw_curl) << "curl_multi_socket_action never bound to libcurl: the trace missed curl";
  EXPECT_TRUE(saw_handshake);
  EXPECT_TRUE(saw_sha);
  // Every reference from our code or BoringSSL to a BoringSSL name lands in BoringSSL.
  for (const Binding& b : bindings) {
    if (ours(b.from) && boringssl_names.contains(b.symbol)) {
      EXPECT_TRUE(IsBoringSSL(b.to)) << b.from << ": " << b.symbol << " bound to " << b.to;
    }
  }
}

// The check can fail: clash_demo links BoringSSL and libcurl the naive way (no
// libssh2 stand-in), and the same trace shows OpenSSL's libcrypto.so.3 binding to
// BoringSSL.
TEST(BoringSSLIsolation, TraceDetectsTheClashWithoutTheStandIn) {
  const std::vector<Binding> bindings =
      TraceBindings(test::runfile("curl_httpclient/clash_demo"), {});
  int clashes = 0;
  for (const Binding& b : bindings) {
    if (absl::StrContains(b.from, "libcrypto.so.3") && IsBoringSSL(b.to)) ++clashes;
  }
  std::printf("clash_demo: %d bindings from libcrypto.so.3 to BoringSSL\n", clashes);
  EXPECT_GT(clashes, 100) << "expected libcrypto.so.3 -> BoringSSL bindings in clash_demo";
}

}  // namespace
}  // namespace tornado::curl_httpclient
