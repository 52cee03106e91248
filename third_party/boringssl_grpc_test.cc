// Proves one binary can use BoringSSL (a TLS handshake) and gRPC (a health check) at
// once, and that OpenSSL's libssl/libcrypto never get loaded next to BoringSSL.
#include <link.h>

#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/crypto.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifndef OPENSSL_IS_BORINGSSL
#error "@boringssl//:ssl must put BoringSSL's headers first"
#endif

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

bssl::UniquePtr<EVP_PKEY> NewKey() {
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  EXPECT_TRUE(EC_KEY_generate_key(ec.get()));
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  EXPECT_TRUE(EVP_PKEY_assign_EC_KEY(key.get(), ec.release()));
  return key;
}

bssl::UniquePtr<X509> SelfSigned(EVP_PKEY* key) {
  bssl::UniquePtr<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const uint8_t*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  EXPECT_TRUE(X509_sign(cert.get(), key, EVP_sha256()));
  return cert;
}

TEST(BoringSslAndGrpc, LoadedSslIsBoringSsl) {
  EXPECT_STREQ(OpenSSL_version(OPENSSL_VERSION), "BoringSSL");
  for (const std::string& lib : LoadedLibraries()) {
    EXPECT_EQ(lib.find("libssl.so.3"), std::string::npos) << lib;
    EXPECT_EQ(lib.find("libcrypto.so.3"), std::string::npos) << lib;
  }
}

TEST(BoringSslAndGrpc, TlsHandshakeOverMemory) {
  bssl::UniquePtr<EVP_PKEY> key = NewKey();
  bssl::UniquePtr<X509> cert = SelfSigned(key.get());
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

TEST(BoringSslAndGrpc, HealthCheckOverLoopback) {
  grpc::EnableDefaultHealthCheckService(true);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  // With no sync service registered, the built-in health service runs on a queue.
  std::unique_ptr<grpc::ServerCompletionQueue> queue = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);
  std::thread poller([&queue] {
    void* tag = nullptr;
    bool ok = false;
    while (queue->Next(&tag, &ok)) {
    }
  });

  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  grpc::Slice empty_message("");  // An empty HealthCheckRequest: the whole server.
  grpc::ByteBuffer request(&empty_message, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.error_message();

  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  // HealthCheckResponse{status: SERVING}: field 1, varint, value 1.
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
  server->Shutdown();
  queue->Shutdown();
  poller.join();
}

}  // namespace
