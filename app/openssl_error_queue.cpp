// CAF 0.17.6's TLS transport (libcaf_openssl, session.cpp) never clears OpenSSL's per-thread
// error queue, and every cluster connection is read and written on one multiplexer thread. So
// the error a failed connection leaves behind (a handshake from a stranger's certificate, or
// the "unexpected eof" of a peer killed with -9) makes SSL_get_error report SSL_ERROR_SSL for
// the next ordinary "no data yet" read of every healthy connection, which CAF then closes:
// all the node's links dropped at once (seen in cluster_test). OpenSSL asks callers to empty
// the queue before each TLS I/O call; these definitions in the executable come first in symbol
// lookup, so libcaf_openssl's calls reach them, empty the queue and go on to libssl's. libcurl
// and libpq do the same clearing themselves, so for them this changes nothing.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <dlfcn.h>

namespace {

template <class F> F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = next<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = next<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static const auto real = next<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

int SSL_accept(SSL* ssl) {
  static const auto real = next<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"
