#pragma once
/// Checks the cluster's TLS files before the actor system starts (API.md §14).
///
/// CAF 0.17's OpenSSL module reads the certificate and key only when the first connection
/// comes: a wrong passphrase or an unreadable key would then terminate the process, or hang
/// `remote_actor` (CLUSTER-NOTES §7). So start-up reads them itself, with the same OpenSSL.

#include "app/config.hpp"

#include <string>

namespace pixelcraft::app {

/// Empty when the certificate chain, the key (with its passphrase) and the CA load, the key
/// matches the certificate, and the certificate is signed by the CA; else `VARIABLE: why`.
std::string check_cluster_tls(const config& cfg);

} // namespace pixelcraft::app
