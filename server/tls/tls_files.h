// aadd's TLS material (--tls_cert, --tls_key, --tls_client_ca), read and
// checked once at start, so that a missing, unreadable or mismatched file
// stops the server with a message naming it instead of failing the first
// handshake. The gRPC server takes the PEMs; the HTTPS gateway (cpp-httplib
// loads files itself) takes the paths of the same, checked files.
#ifndef AADD_SERVER_TLS_TLS_FILES_H_
#define AADD_SERVER_TLS_TLS_FILES_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace aad {

// The flags as given; empty = not given.
struct TlsPaths {
  std::string cert_file;       // --tls_cert: PEM certificate (chain), leaf first
  std::string key_file;        // --tls_key: PEM private key of that certificate
  std::string client_ca_file;  // --tls_client_ca: PEM CA(s) client certificates must chain to
};

struct TlsFiles {
  TlsPaths paths;
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // empty: no client certificate asked for

  // mTLS: every client must present a certificate the client CA signed.
  bool require_client_certificate() const { return !client_ca_pem.empty(); }
};

// Reads and checks the files: nullopt when no flag is given (plaintext).
// INVALID_ARGUMENT naming the flags when they do not go together
// (--tls_cert without --tls_key or the reverse, --tls_client_ca without
// --tls_cert), and naming the flag and file when a file is missing,
// unreadable, holds no PEM certificate (key) or when the key does not
// match the certificate (both files named).
absl::StatusOr<std::optional<TlsFiles>> LoadTlsFiles(const TlsPaths& paths);

}  // namespace aad

#endif  // AADD_SERVER_TLS_TLS_FILES_H_
