// The channel credentials of ClientOptions: plaintext, or TLS with the CA,
// client certificate and key files it names, read here.
#ifndef AADD_CLIENT_CHANNEL_CREDENTIALS_H_
#define AADD_CLIENT_CHANNEL_CREDENTIALS_H_

#include <memory>

#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "client/aad_client.h"

namespace aad {

// Insecure credentials unless options ask for TLS (use_tls or a TLS file);
// then SSL credentials from the files. INVALID_ARGUMENT naming the option
// and the file when one cannot be read (or is empty), or when only one of
// tls_cert_file and tls_key_file is given.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const ClientOptions& options);

}  // namespace aad

#endif  // AADD_CLIENT_CHANNEL_CREDENTIALS_H_
