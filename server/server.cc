#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "server/log.h"

namespace aad {

absl::StatusOr<std::unique_ptr<AaddServer>> AaddServer::Start(const ServerOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<AaddServer> s(new AaddServer());
  s->sessions_ = std::make_unique<SessionManager>(options.sessions);
  // Every stored session is back before the first call is served.
  if (absl::Status restored = s->sessions_->Restore(); !restored.ok()) return restored;
  s->service_ = std::make_unique<AadService>(s->sessions_.get());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &s->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(-1);
  builder.RegisterService(s->service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.address));
  }
  s->server_->GetHealthCheckService()->SetServingStatus(true);
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

void AaddServer::Shutdown(std::chrono::system_clock::time_point deadline) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  service_->StartDraining();
  // Training answers its callers with CANCELLED, so open Train streams end
  // well before the deadline.
  sessions_->CancelAll("server shutting down");
  server_->Shutdown(deadline);
  LogInfo("", "shut down");
}

void AaddServer::Wait() { server_->Wait(); }

}  // namespace aad
