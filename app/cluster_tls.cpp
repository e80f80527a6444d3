#include "app/cluster_tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cstring>
#include <memory>

namespace pixelcraft::app {

namespace {

std::string openssl_error() {
  char buf[256] = {0};
  auto e = ERR_get_error();
  ERR_clear_error();
  if (e == 0)
    return "unknown OpenSSL error";
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

int passphrase_cb(char* buf, int size, int, void* user) {
  const auto* pass = static_cast<const std::string*>(user);
  if (!pass || pass->empty() || static_cast<int>(pass->size()) >= size)
    return 0;
  std::memcpy(buf, pass->data(), pass->size());
  return static_cast<int>(pass->size());
}

} // namespace

std::string check_cluster_tls(const config& cfg) {
  if (cfg.cluster_port == 0)
    return {};
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()), SSL_CTX_free};
  if (!ctx)
    return "CLUSTER_TLS_CERT: " + openssl_error();
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cfg.cluster_tls_cert.c_str()) != 1)
    return "CLUSTER_TLS_CERT: cannot load " + cfg.cluster_tls_cert + " (" + openssl_error() + ")";
  SSL_CTX_set_default_passwd_cb(ctx.get(), passphrase_cb);
  SSL_CTX_set_default_passwd_cb_userdata(ctx.get(),
                                         const_cast<std::string*>(&cfg.cluster_tls_passphrase));
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), cfg.cluster_tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    auto why = openssl_error();
    if (why.find("key values mismatch") != std::string::npos)
      return "CLUSTER_TLS_KEY: does not match CLUSTER_TLS_CERT";
    return "CLUSTER_TLS_KEY: cannot load " + cfg.cluster_tls_key +
           " (unreadable, not PEM, or a wrong CLUSTER_TLS_PASSPHRASE: " + why + ")";
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return "CLUSTER_TLS_KEY: does not match CLUSTER_TLS_CERT";
  if (SSL_CTX_load_verify_locations(ctx.get(), cfg.cluster_tls_ca.c_str(), nullptr) != 1)
    return "CLUSTER_TLS_CA: cannot load " + cfg.cluster_tls_ca + " (" + openssl_error() + ")";
  // Our own certificate must chain to the cluster CA, or every peer would refuse us.
  X509* leaf = SSL_CTX_get0_certificate(ctx.get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> vctx{X509_STORE_CTX_new(),
                                                                       X509_STORE_CTX_free};
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx.get(), &chain);
  if (!leaf || !vctx ||
      X509_STORE_CTX_init(vctx.get(), SSL_CTX_get_cert_store(ctx.get()), leaf, chain) != 1)
    return "CLUSTER_TLS_CERT: cannot be checked (" + openssl_error() + ")";
  if (X509_verify_cert(vctx.get()) != 1)
    return std::string{"CLUSTER_TLS_CERT: not valid under CLUSTER_TLS_CA ("} +
           X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx.get())) + ")";
  return {};
}

} // namespace pixelcraft::app
