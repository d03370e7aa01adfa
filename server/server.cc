#include "server/server.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/auth/plaintext_warning.h"
#include "server/log.h"
#include "server/metrics/grpc_metrics_interceptor.h"

namespace aad {
namespace {

// The host part of a gRPC "host:port" address, for the HTTP port to listen
// on the same interface ("[::]:50051" -> "::").
std::string HostOf(const std::string& address) {
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

// The gRPC credentials of `tls`: TLS with its certificate, and client
// certificates required and verified against its client CA when it has one.
std::shared_ptr<grpc::ServerCredentials> Credentials(const std::optional<TlsFiles>& tls) {
  if (!tls.has_value()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls->require_client_certificate()
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({tls->key_pem, tls->cert_pem});
  ssl.pem_root_certs = tls->client_ca_pem;
  return grpc::SslServerCredentials(ssl);
}

void LogTls(const std::optional<TlsFiles>& tls) {
  if (!tls.has_value()) return;
  LogInfo("", absl::StrCat(
      "TLS on (gRPC and HTTPS), certificate ", tls->paths.cert_file, "; client certificates ",
      tls->require_client_certificate()
          ? absl::StrCat("required (mTLS), signed by ", tls->paths.client_ca_file)
          : std::string("not requested")));
}

// The gRPC metrics of every method served (the service's, health
// checking's and reflection's), counted by one interceptor.
void AddMetricsInterceptor(Metrics* metrics, grpc::ServerBuilder* builder) {
  const google::protobuf::DescriptorPool& pool = *google::protobuf::DescriptorPool::generated_pool();
  for (const char* name : {aad::v1::ActiveAnomalyDetection::service_full_name(),
                           "grpc.reflection.v1alpha.ServerReflection"}) {
    if (const auto* service = pool.FindServiceByName(name)) metrics->AddGrpcService(*service);
  }
  // Health checking is not a protobuf service in grpc++ (no descriptor).
  metrics->AddGrpcMethod("grpc.health.v1.Health", "Check", GrpcCallType::UNARY);
  metrics->AddGrpcMethod("grpc.health.v1.Health", "Watch", GrpcCallType::SERVER_STREAMING);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  // On the callback API: aadd's own service and grpc++'s health checking;
  // reflection is synchronous.
  creators.push_back(std::make_unique<GrpcMetricsInterceptorFactory>(
      metrics, std::vector<std::string>{aad::v1::ActiveAnomalyDetection::service_full_name(),
                                        "grpc.health.v1.Health"}));
  builder->experimental().SetInterceptorCreators(std::move(creators));
}

}  // namespace

absl::StatusOr<std::unique_ptr<AaddServer>> AaddServer::Start(const ServerOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<AaddServer> s(new AaddServer());
  // Before the restore, which may take long: a bad token file fails at once.
  if (!options.auth_tokens_file.empty()) {
    absl::StatusOr<std::unique_ptr<Authenticator>> auth =
        Authenticator::Load(options.auth_tokens_file);
    if (!auth.ok()) return auth.status();
    s->auth_ = *std::move(auth);
    LogInfo("", absl::StrCat("auth tokens loaded: ", s->auth_->Describe()));
    WarnIfTokensInPlaintext(/*tls=*/options.tls.has_value());
  }
  SessionManagerOptions sessions = options.sessions;
  if (options.metrics) {
    s->metrics_ = std::make_unique<Metrics>();
    sessions.metrics = s->metrics_.get();
  }
  s->sessions_ = std::make_unique<SessionManager>(sessions);
  // Every stored session is back before the first call is served.
  if (absl::Status restored = s->sessions_->Restore(); !restored.ok()) return restored;
  s->service_ = std::make_unique<AadService>(s->sessions_.get(), s->auth_.get());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, Credentials(options.tls), &s->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(s->service_.get());
  if (s->metrics_ != nullptr) AddMetricsInterceptor(s->metrics_.get(), &builder);
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.address));
  }
  if (options.http_port != 0) {
    HttpGatewayOptions http;
    http.host = HostOf(options.address);
    http.port = options.http_port == -1 ? 0 : options.http_port;  // others < 0: refused
    http.max_body_bytes = options.http_max_body_bytes;
    http.threads = options.http_threads;
    http.tls = options.tls;
    http.metrics = s->metrics_.get();
    http.auth = s->auth_.get();
    auto gateway = HttpGateway::Start(s->service_->calls(), http);
    // ~AaddServer, as `s` goes, shuts the gRPC server down.
    if (!gateway.ok()) return gateway.status();
    s->http_ = *std::move(gateway);
    LogInfo("", absl::StrCat("http listening on port ", s->http_->port()));
  }
  s->tls_enabled_ = options.tls.has_value();
  LogTls(options.tls);
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  // Logged last: the line scripts and tests wait for means everything serves.
  LogInfo("", absl::StrCat("listening on port ", s->port_));
  return s;
}

AaddServer::~AaddServer() {
  if (!shut_down_ && server_ != nullptr) {
    Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  // Join the training threads before the gRPC server is destroyed: a worker
  // that answered a waiting SubmitLabels may still be returning from the
  // reactor's Finish() when Shutdown() returns (ThreadSanitizer saw it).
  sessions_.reset();
}

void AaddServer::StartDraining() {
  if (draining_) return;
  draining_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  // Writes refused on both front doors (UnaryCalls drains for the HTTP
  // gateway too, whose /healthz answers 503 from now on).
  service_->StartDraining();
}

void AaddServer::Shutdown(std::chrono::system_clock::time_point deadline) {
  if (shut_down_) return;
  shut_down_ = true;
  StartDraining();
  CallsInFlight* calls = service_->calls_in_flight();
  // Every new call UNAVAILABLE from here, and the open streams stopped.
  calls->Close();
  // Training answers its callers with CANCELLED: Train streams and label
  // calls waiting for a model end well before the deadline.
  sessions_->CancelAll("server shutting down");
  const int64_t in_flight = calls->count();
  if (in_flight > 0) LogInfo("", absl::StrCat("waiting for ", in_flight, " calls in flight"));
  if (!calls->WaitUntilNone(deadline)) {
    LogWarning("", absl::StrCat(calls->count(),
                                " calls still in flight at the shutdown deadline: cancelled"));
  }
  // No call of the service is left. A deadline in the past makes gRPC
  // cancel what remains (health watches, reflection, calls past the
  // deadline) and drop the connections now; a later one would also wait
  // (up to ~5 s) for idle clients to disconnect.
  server_->Shutdown(std::chrono::system_clock::now());
  // After the gRPC calls: /healthz answered NOT_SERVING meanwhile.
  if (http_ != nullptr) http_->Stop();
  LogInfo("", "shut down");
}

void AaddServer::Wait() { server_->Wait(); }

absl::Status AaddServer::ReloadTokens() {
  if (auth_ == nullptr) {
    return absl::FailedPreconditionError("no token file to reload: aadd runs without --auth_tokens");
  }
  if (absl::Status reloaded = auth_->Reload(); !reloaded.ok()) {
    LogError("", absl::StrCat("auth tokens not reloaded, the previous ones stay: ",
                              reloaded.message()));
    return reloaded;
  }
  LogInfo("", absl::StrCat("auth tokens reloaded: ", auth_->Describe()));
  return absl::OkStatus();
}

}  // namespace aad
