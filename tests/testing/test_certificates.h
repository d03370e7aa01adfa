// Certificates for the TLS tests, made at run time by the openssl command
// in a directory of the test's (no key material is checked in): a CA, a
// server certificate it signed for 127.0.0.1 and localhost
// (subjectAltName), a client certificate it signed, and an unrelated
// self-signed pair that nothing trusts. EC P-256 keys: quick to make.
#ifndef AADD_TESTS_TESTING_TEST_CERTIFICATES_H_
#define AADD_TESTS_TESTING_TEST_CERTIFICATES_H_

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace aad::testing {

struct TestCertificates {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string other_cert;  // self-signed, CN=other: trusted by no one
  std::string other_key;

  // Makes them all in `dir` (which must exist). The openssl log when a
  // command fails.
  static absl::StatusOr<TestCertificates> Make(const std::string& dir) {
    TestCertificates c;
    c.ca_cert = dir + "/ca.pem";
    c.server_cert = dir + "/server.pem";
    c.server_key = dir + "/server.key";
    c.client_cert = dir + "/client.pem";
    c.client_key = dir + "/client.key";
    c.other_cert = dir + "/other.pem";
    c.other_key = dir + "/other.key";
    const std::string ca_key = dir + "/ca.key";
    const std::string log = dir + "/openssl.log";
    const std::string ext = dir + "/server.ext";
    std::ofstream(ext) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2";
    const std::string sign = absl::StrCat("-CA ", c.ca_cert, " -CAkey ", ca_key,
                                          " -CAcreateserial -days 2");
    const std::string commands[] = {
        absl::StrCat("req -x509 ", key, " -subj /CN=aadd-test-ca -keyout ", ca_key, " -out ",
                     c.ca_cert),
        absl::StrCat("req -new ", key, " -subj /CN=localhost -keyout ", c.server_key, " -out ",
                     dir, "/server.csr"),
        absl::StrCat("x509 -req -in ", dir, "/server.csr ", sign, " -extfile ", ext, " -out ",
                     c.server_cert),
        absl::StrCat("req -new ", key, " -subj /CN=aadd-test-client -keyout ", c.client_key,
                     " -out ", dir, "/client.csr"),
        absl::StrCat("x509 -req -in ", dir, "/client.csr ", sign, " -out ", c.client_cert),
        absl::StrCat("req -x509 ", key, " -subj /CN=other -keyout ", c.other_key, " -out ",
                     c.other_cert),
    };
    for (const std::string& command : commands) {
      const std::string line = absl::StrCat("openssl ", command, " >>", log, " 2>&1");
      if (std::system(line.c_str()) != 0) {
        std::ifstream in(log);
        return absl::InternalError(absl::StrCat(
            "'", line, "' failed:\n",
            std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())));
      }
    }
    return c;
  }
};

}  // namespace aad::testing

#endif  // AADD_TESTS_TESTING_TEST_CERTIFICATES_H_
