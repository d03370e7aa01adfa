#include "client/channel_credentials.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"

namespace aad {
namespace {

// The file's bytes; INVALID_ARGUMENT "tls_ca_file 'ca.pem': ...".
absl::StatusOr<std::string> ReadPem(const char* option, const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(option, " '", path, "': cannot open: ",
                                                   std::strerror(errno)));
  }
  std::string bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {  // a directory: libstdc++ throws from underflow
    return absl::InvalidArgumentError(absl::StrCat(option, " '", path, "': cannot read: ",
                                                   e.what()));
  }
  if (bytes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(option, " '", path, "': empty"));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const ClientOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls_cert_file and tls_key_file go together (the client's certificate and its key); "
        "got tls_cert_file='", options.tls_cert_file, "' tls_key_file='", options.tls_key_file,
        "'"));
  }
  if (!options.use_tls && options.tls_ca_file.empty() && options.tls_cert_file.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("tls_ca_file", options.tls_ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPem("tls_cert_file", options.tls_cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem("tls_key_file", options.tls_key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace aad
