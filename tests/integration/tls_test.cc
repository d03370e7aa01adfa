// TLS and --listen_address (issue 14), with certificates the test makes
// with openssl (tests/testing/test_certificates.h): the in-process server
// with TLS and with mTLS, reached by the C++ client over gRPC and by
// cpp-httplib's SSLClient over HTTPS; the aadd binary refusing bad
// certificate files; aadctl over TLS and mTLS; the listening interface.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "core/data/synthetic.h"
#include "server/listen_address.h"
#include "server/log.h"
#include "server/server.h"
#include "server/storage/memory_session_store.h"
#include "server/tls/tls_files.h"
#include "tests/integration/aadctl_runner.h"
#include "tests/integration/aadd_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certificates.h"
// Last: through <resolv.h> it defines the macro _res, a parameter name in
// Eigen's headers.
#include <httplib.h>

namespace aad::testing {
namespace {

using ::testing::HasSubstr;

// Calls that are to fail fail fast: no retries, a short deadline.
ClientOptions FastFailing(int port) {
  ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", port);
  options.timeout = std::chrono::seconds(10);
  options.max_attempts = 1;
  return options;
}

// Create, ingest, train, score one row, delete: every kind of call.
void ExpectSessionRoundTrip(AadClient* client) {
  SyntheticOptions so;
  so.rows = 200;
  so.dims = 4;
  auto data = MakeLowDensityAnomalies(so);
  ASSERT_TRUE(data.ok()) << data.status();
  v1::CreateSessionRequest create;
  create.mutable_config()->set_pretrain_epochs(2);
  create.mutable_config()->set_hidden_units(8);
  create.mutable_config()->set_latent_units(2);
  auto info = client->CreateSession(create);
  ASSERT_TRUE(info.ok()) << info.status();
  const std::string id = info->session_id();
  ASSERT_TRUE(client->Ingest(id, absl::MakeConstSpan(data->features), data->dims()).ok());
  ASSERT_TRUE(client->Train(id).ok());
  auto scored = client->ScoreRows(id, absl::MakeConstSpan(data->features.data(), 4), 4);
  ASSERT_TRUE(scored.ok()) << scored.status();
  EXPECT_EQ(scored->p_size(), 1);
  EXPECT_TRUE(client->DeleteSession(id).ok());
}

// The in-process server with TLS on both ports; mTLS when require_client_
// is set before SetUp.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLoggingEnabled(false);
    ASSERT_FALSE(dir_.path().empty());
    auto certs = TestCertificates::Make(dir_.path());
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *std::move(certs);
    auto tls = LoadTlsFiles({certs_.server_cert, certs_.server_key,
                             require_client_ ? certs_.ca_cert : ""});
    ASSERT_TRUE(tls.ok()) << tls.status();
    ServerOptions options;
    options.address = "127.0.0.1:0";
    options.http_port = -1;
    options.sessions.training_threads = 1;
    options.sessions.store = &store_;
    options.tls = *std::move(tls);
    auto server = AaddServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  // Trusts the test CA; with the client certificate when `with_cert`.
  ClientOptions Trusting(bool with_cert) {
    ClientOptions options = FastFailing(server_->port());
    options.tls_ca_file = certs_.ca_cert;
    if (with_cert) {
      options.tls_cert_file = certs_.client_cert;
      options.tls_key_file = certs_.client_key;
    }
    return options;
  }
  std::unique_ptr<AadClient> Client(const ClientOptions& options) {
    auto client = AadClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  // An HTTPS client of the gateway that verifies the server against `ca`.
  std::unique_ptr<httplib::SSLClient> Https(const std::string& ca, bool with_cert) {
    auto client = with_cert ? std::make_unique<httplib::SSLClient>(
                                  "127.0.0.1", server_->http_port(), certs_.client_cert,
                                  certs_.client_key)
                            : std::make_unique<httplib::SSLClient>("127.0.0.1",
                                                                   server_->http_port());
    client->set_ca_cert_path(ca.c_str());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(10);
    return client;
  }

  bool require_client_ = false;
  TempDir dir_;
  TestCertificates certs_;
  MemorySessionStore store_;
  std::unique_ptr<AaddServer> server_;
};

class MtlsTest : public TlsTest {
 protected:
  MtlsTest() { require_client_ = true; }
};

TEST_F(TlsTest, ClientTrustingTheCaDoesASessionRoundTrip) {
  EXPECT_TRUE(server_->tls_enabled());
  auto client = Client(Trusting(false));
  ASSERT_NE(client, nullptr);
  ExpectSessionRoundTrip(client.get());
}

TEST_F(TlsTest, ServerNameOverrideChecksThatName) {
  ClientOptions options = Trusting(false);
  options.tls_server_name = "localhost";  // in the certificate's subjectAltName
  auto client = Client(options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Health().value_or("error"), "SERVING");
  options.tls_server_name = "not-in-the-certificate.example";
  client = Client(options);
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->Health().ok());
}

TEST_F(TlsTest, HttpsWithTheCaWorks) {
  auto https = Https(certs_.ca_cert, false);
  auto reply = https->Get("/healthz");
  ASSERT_TRUE(reply) << httplib::to_string(reply.error());
  EXPECT_EQ(reply->status, 200);
  EXPECT_THAT(reply->body, HasSubstr("SERVING"));
  // The API, not only the probe.
  reply = https->Get("/v1/sessions");
  ASSERT_TRUE(reply) << httplib::to_string(reply.error());
  EXPECT_EQ(reply->status, 200) << reply->body;
}

TEST_F(TlsTest, HttpsKeepsTheGatewayLimits) {
  // server_fixture's default limit, 64 MiB; one byte over it.
  auto https = Https(certs_.ca_cert, false);
  const std::string body((int64_t{64} << 20) + 1, ' ');
  auto reply = https->Post("/v1/sessions", body, "application/json");
  ASSERT_TRUE(reply) << httplib::to_string(reply.error());
  EXPECT_EQ(reply->status, 413);
  EXPECT_THAT(reply->body, HasSubstr("--http_max_body_bytes"));
  // The JSON error of the error handler, over TLS too.
  reply = https->Get("/no/such/route");
  ASSERT_TRUE(reply) << httplib::to_string(reply.error());
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->get_header_value("Content-Type"), "application/json");
}

TEST_F(TlsTest, ASecondServerOnTheHttpsPortIsRefused) {
  // SO_REUSEADDR without cpp-httplib's SO_REUSEPORT, as for plain HTTP.
  auto tls = LoadTlsFiles({certs_.server_cert, certs_.server_key, ""});
  ASSERT_TRUE(tls.ok()) << tls.status();
  MemorySessionStore store;
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.http_port = server_->http_port();
  options.sessions.store = &store;
  options.tls = *std::move(tls);
  auto second = AaddServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr(absl::StrCat(server_->http_port())));
}

TEST_F(TlsTest, ShutdownIsNotHeldByAConnectionThatNeverHandshakes) {
  // A TCP connection that sends nothing holds an HTTPS thread in the
  // handshake until cpp-httplib's read timeout; Shutdown still returns
  // (the test's timeout would catch a hang).
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server_->http_port()));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  close(fd);
  httplib::SSLClient after("127.0.0.1", server_->http_port());
  after.enable_server_certificate_verification(false);
  EXPECT_FALSE(after.Get("/healthz"));
}

TEST_F(TlsTest, PlaintextClientsFail) {
  AadClient plaintext(FastFailing(server_->port()));
  auto health = plaintext.Health();
  EXPECT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();

  httplib::Client http("127.0.0.1", server_->http_port());
  http.set_connection_timeout(10);
  http.set_read_timeout(10);
  auto reply = http.Get("/healthz");
  EXPECT_FALSE(reply && reply->status == 200);
}

TEST_F(TlsTest, ClientNotTrustingTheCaFails) {
  ClientOptions options = FastFailing(server_->port());
  options.tls_ca_file = certs_.other_cert;
  auto client = Client(options);
  ASSERT_NE(client, nullptr);
  auto health = client->Health();
  EXPECT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();

  auto https = Https(certs_.other_cert, false);
  auto reply = https->Get("/healthz");
  EXPECT_FALSE(reply);
  EXPECT_EQ(reply.error(), httplib::Error::SSLServerVerification);
}

TEST_F(TlsTest, UnreadableClientFilesAreNamed) {
  ClientOptions options = Trusting(false);
  options.tls_ca_file = dir_.path() + "/missing-ca.pem";
  auto client = AadClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client.status().message(), HasSubstr("tls_ca_file"));
  EXPECT_THAT(client.status().message(), HasSubstr("missing-ca.pem"));
  options = Trusting(true);
  options.tls_key_file = "";
  client = AadClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("tls_key_file"));
  // The constructor cannot say why, but its calls fail rather than go out
  // in plaintext.
  options = Trusting(false);
  options.tls_ca_file = dir_.path() + "/missing-ca.pem";
  AadClient constructed(options);
  auto health = constructed.Health();
  ASSERT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), absl::StatusCode::kInvalidArgument) << health.status();
}

TEST_F(MtlsTest, WithoutAClientCertificateFails) {
  auto client = Client(Trusting(false));
  ASSERT_NE(client, nullptr);
  auto health = client->Health();
  EXPECT_FALSE(health.ok());
  EXPECT_EQ(health.status().code(), absl::StatusCode::kUnavailable) << health.status();

  auto https = Https(certs_.ca_cert, false);
  auto reply = https->Get("/healthz");
  EXPECT_FALSE(reply && reply->status == 200);
}

TEST_F(MtlsTest, WithAnUntrustedClientCertificateFails) {
  ClientOptions options = Trusting(false);
  options.tls_cert_file = certs_.other_cert;
  options.tls_key_file = certs_.other_key;
  auto client = Client(options);
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->Health().ok());

  httplib::SSLClient https("127.0.0.1", server_->http_port(), certs_.other_cert,
                           certs_.other_key);
  https.set_ca_cert_path(certs_.ca_cert.c_str());
  https.enable_server_certificate_verification(true);
  auto reply = https.Get("/healthz");
  EXPECT_FALSE(reply && reply->status == 200);
}

TEST_F(MtlsTest, WithTheClientCertificateWorks) {
  auto client = Client(Trusting(true));
  ASSERT_NE(client, nullptr);
  ExpectSessionRoundTrip(client.get());

  auto https = Https(certs_.ca_cert, true);
  auto reply = https->Get("/healthz");
  ASSERT_TRUE(reply) << httplib::to_string(reply.error());
  EXPECT_EQ(reply->status, 200);
}

// The aadd binary: bad TLS flags and files stop it (exit 1) naming them.
class AaddTlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto certs = TestCertificates::Make(dir_.path());
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *std::move(certs);
  }

  // Runs aadd with `args`; expects exit status 1 and returns its log.
  std::string ExpectStartFails(std::vector<std::string> args) {
    args.insert(args.end(), {"--in_memory", "--port=0"});
    AaddProcess aadd;
    EXPECT_FALSE(aadd.Start(AADD_BINARY, args).ok());
    const int status = aadd.WaitExit();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << aadd.log();
    return aadd.log();
  }

  TempDir dir_;
  TestCertificates certs_;
};

TEST_F(AaddTlsFilesTest, MissingCertificateFileIsNamed) {
  const std::string missing = dir_.path() + "/missing.pem";
  const std::string log =
      ExpectStartFails({"--tls_cert=" + missing, "--tls_key=" + certs_.server_key});
  EXPECT_THAT(log, HasSubstr("--tls_cert '" + missing + "'"));
  EXPECT_THAT(log, HasSubstr("No such file"));
}

TEST_F(AaddTlsFilesTest, UnreadableKeyFileIsNamed) {
  // Mode 000; root reads any file, so for root a directory, which opens
  // but does not read.
  std::string unreadable = dir_.path() + "/unreadable.key";
  if (geteuid() == 0) {
    ASSERT_EQ(mkdir(unreadable.c_str(), 0700), 0);
  } else {
    std::ofstream(unreadable) << "x";
    ASSERT_EQ(chmod(unreadable.c_str(), 0), 0);
  }
  const std::string log =
      ExpectStartFails({"--tls_cert=" + certs_.server_cert, "--tls_key=" + unreadable});
  EXPECT_THAT(log, HasSubstr("--tls_key '" + unreadable + "': cannot"));
}

TEST_F(AaddTlsFilesTest, NonPemFilesAreNamed) {
  const std::string text = dir_.path() + "/not-pem.txt";
  std::ofstream(text) << "this is no certificate\n";
  std::string log = ExpectStartFails({"--tls_cert=" + text, "--tls_key=" + certs_.server_key});
  EXPECT_THAT(log, HasSubstr("--tls_cert '" + text + "': not a PEM certificate"));
  // A certificate where the key should be.
  log = ExpectStartFails({"--tls_cert=" + certs_.server_cert, "--tls_key=" + certs_.server_cert});
  EXPECT_THAT(log, HasSubstr("--tls_key '" + certs_.server_cert + "': not"));
  log = ExpectStartFails({"--tls_cert=" + certs_.server_cert, "--tls_key=" + certs_.server_key,
                          "--tls_client_ca=" + text});
  EXPECT_THAT(log, HasSubstr("--tls_client_ca '" + text + "': not a PEM certificate"));
}

TEST_F(AaddTlsFilesTest, MismatchedKeyNamesBothFiles) {
  const std::string log =
      ExpectStartFails({"--tls_cert=" + certs_.server_cert, "--tls_key=" + certs_.other_key});
  EXPECT_THAT(log, HasSubstr("--tls_key '" + certs_.other_key + "' does not match"));
  EXPECT_THAT(log, HasSubstr("--tls_cert '" + certs_.server_cert + "'"));
}

TEST_F(AaddTlsFilesTest, FlagsThatGoTogetherAreNamed) {
  std::string log = ExpectStartFails({"--tls_cert=" + certs_.server_cert});
  EXPECT_THAT(log, HasSubstr("--tls_cert and --tls_key go together"));
  log = ExpectStartFails({"--tls_key=" + certs_.server_key});
  EXPECT_THAT(log, HasSubstr("--tls_cert and --tls_key go together"));
  log = ExpectStartFails({"--tls_client_ca=" + certs_.ca_cert});
  EXPECT_THAT(log, HasSubstr("--tls_client_ca '" + certs_.ca_cert + "' needs TLS on"));
}

TEST_F(AaddTlsFilesTest, LogsThatTlsIsOnAndWhetherClientCertificatesAreRequired) {
  AaddProcess tls;
  ASSERT_TRUE(tls.Start(AADD_BINARY, {"--in_memory", "--port=0", "--listen_address=127.0.0.1",
                                      "--tls_cert=" + certs_.server_cert,
                                      "--tls_key=" + certs_.server_key})
                  .ok());
  EXPECT_THAT(tls.log(), HasSubstr("TLS on (gRPC and HTTPS)"));
  EXPECT_THAT(tls.log(), HasSubstr("client certificates not requested"));
  AaddProcess mtls;
  ASSERT_TRUE(mtls.Start(AADD_BINARY, {"--in_memory", "--port=0", "--listen_address=127.0.0.1",
                                       "--tls_cert=" + certs_.server_cert,
                                       "--tls_key=" + certs_.server_key,
                                       "--tls_client_ca=" + certs_.ca_cert})
                   .ok());
  EXPECT_THAT(mtls.log(), HasSubstr("client certificates required (mTLS)"));
}

TEST_F(AaddTlsFilesTest, AadctlOverTlsAndMtls) {
  AaddProcess tls;
  ASSERT_TRUE(tls.Start(AADD_BINARY, {"--in_memory", "--port=0", "--listen_address=127.0.0.1",
                                      "--tls_cert=" + certs_.server_cert,
                                      "--tls_key=" + certs_.server_key})
                  .ok());
  CommandResult r = Aadctl(tls.port(), {"--tls_ca", certs_.ca_cert, "health"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("SERVING"));
  r = Aadctl(tls.port(), {"--tls_ca", certs_.ca_cert, "create"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = Aadctl(tls.port(), {"--timeout_s=10", "health"});  // plaintext
  EXPECT_EQ(r.exit_code, 1) << r.output;
  r = Aadctl(tls.port(), {"--tls_ca", dir_.path() + "/missing.pem", "health"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("missing.pem"));

  AaddProcess mtls;
  ASSERT_TRUE(mtls.Start(AADD_BINARY, {"--in_memory", "--port=0", "--listen_address=127.0.0.1",
                                       "--tls_cert=" + certs_.server_cert,
                                       "--tls_key=" + certs_.server_key,
                                       "--tls_client_ca=" + certs_.ca_cert})
                   .ok());
  r = Aadctl(mtls.port(), {"--tls_ca", certs_.ca_cert, "--tls_cert", certs_.client_cert,
                           "--tls_key", certs_.client_key, "create"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = Aadctl(mtls.port(), {"--tls_ca", certs_.ca_cert, "--tls_cert", certs_.client_cert,
                           "--tls_key", certs_.client_key, "sessions"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = Aadctl(mtls.port(), {"--timeout_s=10", "--tls_ca", certs_.ca_cert, "health"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  r = Aadctl(mtls.port(), {"--tls_ca", certs_.ca_cert, "--tls_cert", certs_.client_cert,
                           "health"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--tls_key"));
}

// Whether a TCP connection to ip:port is accepted.
bool Connects(const char* ip, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &address.sin_addr);
  const bool connected =
      connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return connected;
}

TEST(ListenAddressTest, LoopbackServesOnTheLoopbackAddressOnly) {
  AaddProcess loopback;
  ASSERT_TRUE(loopback.Start(AADD_BINARY, {"--in_memory", "--port=0", "--http_port=-1",
                                           "--listen_address=127.0.0.1"})
                  .ok());
  AadClient client(FastFailing(loopback.port()));
  EXPECT_EQ(client.Health().value_or("error"), "SERVING");
  EXPECT_TRUE(Connects("127.0.0.1", loopback.http_port()));
  // 127.0.0.2 is this machine too (all of 127/8 is), but not the address
  // bound: a server on 0.0.0.0 would take it.
  EXPECT_FALSE(Connects("127.0.0.2", loopback.port()));
  EXPECT_FALSE(Connects("127.0.0.2", loopback.http_port()));

  AaddProcess any;
  ASSERT_TRUE(any.Start(AADD_BINARY, {"--in_memory", "--port=0", "--http_port=-1"}).ok());
  EXPECT_TRUE(Connects("127.0.0.2", any.port()));
  EXPECT_TRUE(Connects("127.0.0.2", any.http_port()));
}

TEST(ListenAddressTest, InvalidAddressFailsStartNamingIt) {
  for (const std::string bad : {"not-a-host.invalid", "300.1.1.1"}) {
    AaddProcess aadd;
    EXPECT_FALSE(aadd.Start(AADD_BINARY, {"--in_memory", "--port=0",
                                          "--listen_address=" + bad}).ok());
    const int status = aadd.WaitExit();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << aadd.log();
    EXPECT_THAT(aadd.log(), HasSubstr("--listen_address '" + bad + "'"));
  }
  // An address, but none of this machine's (TEST-NET-1): the bind fails.
  AaddProcess elsewhere;
  EXPECT_FALSE(elsewhere.Start(AADD_BINARY, {"--in_memory", "--port=0",
                                             "--listen_address=192.0.2.1"}).ok());
  const int status = elsewhere.WaitExit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << elsewhere.log();
  EXPECT_THAT(elsewhere.log(), HasSubstr("cannot listen on 192.0.2.1:0"));
}

TEST(ListenAddressTest, FormsTheGrpcAddress) {
  EXPECT_EQ(ListenAddress("0.0.0.0", 50051).value_or(""), "0.0.0.0:50051");
  EXPECT_EQ(ListenAddress("::", 50051).value_or(""), "[::]:50051");
  EXPECT_EQ(ListenAddress("[::1]", 7).value_or(""), "[::1]:7");
  EXPECT_EQ(ListenAddress("localhost", 0).value_or(""), "localhost:0");
  EXPECT_EQ(ListenAddress("", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ListenAddress("127.0.0.1", 70000).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace aad::testing
