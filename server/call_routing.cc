#include "server/call_routing.h"

namespace aad {

std::string SessionIdOf(const grpc::CallbackServerContext* context, const std::string& field) {
  if (!field.empty()) return field;
  const auto& md = context->client_metadata();
  auto it = md.find(kSessionMetadata);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

absl::StatusOr<std::shared_ptr<Session>> FindSession(SessionManager* sessions,
                                                     const std::string& id) {
  if (id.empty()) {
    return absl::InvalidArgumentError(
        "no session id: set session_id or the x-session-id metadata");
  }
  return sessions->Get(id);
}

absl::Status DrainingStatus() {
  return absl::UnavailableError("server is shutting down; retry on another replica");
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace aad
