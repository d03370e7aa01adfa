#include "server/tls/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace aad {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// "--tls_cert 'server.pem'", the prefix of every message about a file.
std::string Named(const char* flag, const std::string& path) {
  return absl::StrCat(flag, " '", path, "'");
}

// OpenSSL's reason for the last failure (and clears its error queue).
std::string OpenSslReason() {
  const unsigned long error = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's type
  ERR_clear_error();
  if (error == 0) return "no PEM block found";
  char text[256];
  ERR_error_string_n(error, text, sizeof text);
  return text;
}

absl::StatusOr<std::string> ReadFile(const char* flag, const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(Named(flag, path), ": cannot open: ", std::strerror(errno)));
  }
  std::string bytes;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // A directory opens but does not read.
      const int error = errno;
      close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(Named(flag, path), ": cannot read: ", std::strerror(error)));
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  if (bytes.empty()) return absl::InvalidArgumentError(absl::StrCat(Named(flag, path), ": empty"));
  return bytes;
}

BioPtr MemoryBio(const std::string& bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// The first certificate in `pem`.
absl::StatusOr<X509Ptr> ParseCertificate(const char* flag, const std::string& path,
                                         const std::string& pem) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        Named(flag, path), ": not a PEM certificate (", OpenSslReason(), ")"));
  }
  return cert;
}

absl::StatusOr<PkeyPtr> ParsePrivateKey(const std::string& path, const std::string& pem) {
  ERR_clear_error();
  BioPtr bio = MemoryBio(pem);
  // No passphrase callback: an encrypted key fails here rather than
  // prompting on a terminal a server does not have.
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr,
                                      [](char*, int, int, void*) { return 0; }, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        Named("--tls_key", path), ": not an unencrypted PEM private key (", OpenSslReason(),
        ")"));
  }
  return key;
}

absl::Status CheckFlagsGoTogether(const TlsPaths& paths) {
  if (paths.cert_file.empty() != paths.key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert and --tls_key go together (the server's certificate and its private key); "
        "got --tls_cert='", paths.cert_file, "' --tls_key='", paths.key_file, "'"));
  }
  if (!paths.client_ca_file.empty() && paths.cert_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_client_ca '", paths.client_ca_file,
        "' needs TLS on: give --tls_cert and --tls_key too"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<TlsFiles>> LoadTlsFiles(const TlsPaths& paths) {
  if (absl::Status together = CheckFlagsGoTogether(paths); !together.ok()) return together;
  if (paths.cert_file.empty()) return std::nullopt;
  TlsFiles files;
  files.paths = paths;
  absl::StatusOr<std::string> cert_pem = ReadFile("--tls_cert", paths.cert_file);
  if (!cert_pem.ok()) return cert_pem.status();
  absl::StatusOr<std::string> key_pem = ReadFile("--tls_key", paths.key_file);
  if (!key_pem.ok()) return key_pem.status();
  absl::StatusOr<X509Ptr> cert = ParseCertificate("--tls_cert", paths.cert_file, *cert_pem);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<PkeyPtr> key = ParsePrivateKey(paths.key_file, *key_pem);
  if (!key.ok()) return key.status();
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        Named("--tls_key", paths.key_file), " does not match the certificate in ",
        Named("--tls_cert", paths.cert_file), " (a key and a certificate of different pairs)"));
  }
  files.cert_pem = *std::move(cert_pem);
  files.key_pem = *std::move(key_pem);
  if (!paths.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca_pem = ReadFile("--tls_client_ca", paths.client_ca_file);
    if (!ca_pem.ok()) return ca_pem.status();
    absl::StatusOr<X509Ptr> ca = ParseCertificate("--tls_client_ca", paths.client_ca_file, *ca_pem);
    if (!ca.ok()) return ca.status();
    files.client_ca_pem = *std::move(ca_pem);
  }
  return files;
}

}  // namespace aad
