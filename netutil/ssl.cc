// netutil: TLS contexts over BoringSSL (Tornado's ssl_options_to_context).
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>

#include "netutil/netutil.h"

namespace tornado::netutil {

std::string ssl_error_string(const std::string& what) {
  std::string out = what;
  bool first = true;
  while (uint32_t e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += first ? ": " : "; ";
    out += buf;
    first = false;
  }
  return out;
}

SSLContext::SSLContext(SSL_CTX* ctx, bool server_side, bool check_hostname)
    : ctx_(ctx), server_side_(server_side), check_hostname_(check_hostname) {}

SSLContext::~SSLContext() { SSL_CTX_free(ctx_); }

namespace {

void load_cert_and_key(SSL_CTX* ctx, const std::string& certfile, const std::string& keyfile) {
  if (SSL_CTX_use_certificate_chain_file(ctx, certfile.c_str()) != 1) {
    throw SSLError(ssl_error_string("cannot load certificate " + certfile));
  }
  const std::string& key = keyfile.empty() ? certfile : keyfile;
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw SSLError(ssl_error_string("cannot load private key " + key));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw SSLError(ssl_error_string("private key does not match certificate " + certfile));
  }
}

int alpn_select(SSL*, const uint8_t** out, uint8_t* outlen, const uint8_t* in, unsigned inlen,
                void* arg) {
  const auto* wire = static_cast<const std::string*>(arg);
  uint8_t* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const uint8_t*>(wire->data()),
                            static_cast<unsigned>(wire->size()), in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

SSL_CTX* new_ctx(const SSLOptions& options, bool server_side) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (ctx == nullptr) throw SSLError(ssl_error_string("SSL_CTX_new"));
  try {
    SSL_CTX_set_min_proto_version(ctx, options.minimum_version);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!options.session_tickets) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (server_side) {
      SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const uint8_t*>("tornado"), 7);
    } else {
      SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    }
    if (!options.certfile.empty()) load_cert_and_key(ctx, options.certfile, options.keyfile);
    const std::string ciphers = options.ciphers.empty() ? kDefaultCiphers : options.ciphers;
    if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
      throw SSLError(ssl_error_string("invalid cipher string " + ciphers));
    }
    if (server_side) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    const CertReqs reqs = options.cert_reqs.value_or(server_side ? CertReqs::kNone : CertReqs::kRequired);
    if (reqs != CertReqs::kNone) {
      if (!options.ca_certs.empty()) {
        if (SSL_CTX_load_verify_locations(ctx, options.ca_certs.c_str(), nullptr) != 1) {
          throw SSLError(ssl_error_string("cannot load CA certificates " + options.ca_certs));
        }
      } else {
        SSL_CTX_set_default_verify_paths(ctx);
      }
    }
    int mode = SSL_VERIFY_NONE;
    if (reqs == CertReqs::kOptional) mode = SSL_VERIFY_PEER;
    if (reqs == CertReqs::kRequired) mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
  } catch (...) {
    SSL_CTX_free(ctx);
    throw;
  }
  return ctx;
}

}  // namespace

std::shared_ptr<SSLContext> ssl_options_to_context(const SSLOptions& options, bool server_side) {
  const CertReqs reqs = options.cert_reqs.value_or(server_side ? CertReqs::kNone : CertReqs::kRequired);
  auto context = std::make_shared<SSLContext>(new_ctx(options, server_side), server_side,
                                              !server_side && options.check_hostname &&
                                                  reqs != CertReqs::kNone);
  SSL_CTX* ctx = context->get();
  std::string wire;
  for (const auto& p : options.alpn_protocols) {
    if (p.empty() || p.size() > 255) throw SSLError("invalid ALPN protocol '" + p + "'");
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  context->alpn_wire_ = wire;
  auto set_alpn = [server_side](SSLContext& c) {
    if (c.alpn_wire_.empty()) return;
    if (server_side) {
      SSL_CTX_set_alpn_select_cb(c.get(), alpn_select, &c.alpn_wire_);
    } else {
      SSL_CTX_set_alpn_protos(c.get(), reinterpret_cast<const uint8_t*>(c.alpn_wire_.data()),
                              c.alpn_wire_.size());
    }
  };
  set_alpn(*context);
  if (server_side && !options.sni_certificates.empty()) {
    for (const auto& [name, files] : options.sni_certificates) {
      SSLOptions sub = options;
      sub.certfile = files.first;
      sub.keyfile = files.second;
      sub.sni_certificates.clear();
      auto c = std::make_shared<SSLContext>(new_ctx(sub, true), true, false);
      c->alpn_wire_ = wire;
      set_alpn(*c);
      context->sni_names_.push_back(name);
      context->sni_contexts_.push_back(std::move(c));
    }
    // Switches the connection to the context holding the certificate for the name
    // asked for; verification settings are the same in every context.
    SSL_CTX_set_tlsext_servername_callback(
        ctx, +[](SSL* ssl, int*, void* arg) -> int {
          auto* parent = static_cast<SSLContext*>(arg);
          const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
          if (name == nullptr) return SSL_TLSEXT_ERR_OK;
          for (std::size_t i = 0; i < parent->sni_names_.size(); ++i) {
            if (strcasecmp(parent->sni_names_[i].c_str(), name) == 0) {
              SSL_set_SSL_CTX(ssl, parent->sni_contexts_[i]->get());
              break;
            }
          }
          return SSL_TLSEXT_ERR_OK;
        });
    SSL_CTX_set_tlsext_servername_arg(ctx, context.get());
  }
  return context;
}

}  // namespace tornado::netutil
