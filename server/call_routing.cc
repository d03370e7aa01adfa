#include "server/call_routing.h"

#include "absl/strings/str_cat.h"

namespace aad {

absl::StatusOr<std::string> SessionIdOf(const grpc::CallbackServerContext* context,
                                        const std::string& field) {
  if (!field.empty()) return field;
  const auto& md = context->client_metadata();
  auto it = md.find(kSessionMetadata);
  if (it == md.end() || it->second.empty()) return std::string();
  std::string id(it->second.data(), it->second.size());
  // Whatever bytes a client put there; the field, being a proto3 string,
  // is UTF-8 at least (request_parsing.h).
  if (absl::Status valid = ValidateSessionId(id); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", kSessionMetadata, " metadata: ", valid.message()));
  }
  return id;
}

absl::StatusOr<std::string> TenantOf(const Authenticator* auth,
                                     const grpc::CallbackServerContext* context) {
  if (auth == nullptr) return std::string();
  const auto& md = context->client_metadata();
  auto it = md.find(kAuthorizationMetadata);
  if (it == md.end()) return auth->Authenticate(std::nullopt);
  return auth->Authenticate(absl::string_view(it->second.data(), it->second.size()));
}

absl::StatusOr<CallTarget> CallTargetOf(const Authenticator* auth,
                                        const grpc::CallbackServerContext* context,
                                        const std::string& field) {
  // Who first: an unauthenticated caller learns nothing, not even that its
  // session id is malformed.
  absl::StatusOr<std::string> tenant = TenantOf(auth, context);
  if (!tenant.ok()) return tenant.status();
  absl::StatusOr<std::string> id = SessionIdOf(context, field);
  if (!id.ok()) return id.status();
  return CallTarget{*std::move(tenant), *std::move(id)};
}

absl::StatusOr<std::shared_ptr<Session>> FindSession(SessionManager* sessions,
                                                     const std::string& tenant,
                                                     const std::string& id) {
  if (id.empty()) {
    return absl::InvalidArgumentError(
        "no session id: set session_id or the x-session-id metadata");
  }
  return sessions->Get(id, tenant);
}

absl::StatusOr<std::shared_ptr<Session>> FindCallSession(SessionManager* sessions,
                                                         const grpc::CallbackServerContext* context,
                                                         const std::string& tenant,
                                                         const std::string& field) {
  absl::StatusOr<std::string> id = SessionIdOf(context, field);
  if (!id.ok()) return id.status();
  return FindSession(sessions, tenant, *id);
}

absl::Status DrainingStatus() {
  return absl::UnavailableError("server is shutting down; retry on another replica");
}

}  // namespace aad
