// What every RPC handler does first: find the call's session (the
// request's session_id, else the x-session-id metadata), or answer at once
// with an error, on any kind of reactor.
#ifndef AADD_SERVER_CALL_ROUTING_H_
#define AADD_SERVER_CALL_ROUTING_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "server/session_manager.h"
#include "server/status_mapping.h"

namespace aad {

// The metadata key a session-affine proxy hashes on.
inline constexpr char kSessionMetadata[] = "x-session-id";

// The request's session id, or the x-session-id metadata when it is empty.
std::string SessionIdOf(const grpc::CallbackServerContext* context, const std::string& field);

// The session `id`; INVALID_ARGUMENT when empty, NOT_FOUND when unknown.
absl::StatusOr<std::shared_ptr<Session>> FindSession(SessionManager* sessions,
                                                     const std::string& id);

// UNAVAILABLE: the server drains (graceful shutdown).
absl::Status DrainingStatus();

// A unary call answered with `status` at once.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const absl::Status& status);

// A write reactor that only reports an error.
template <typename Response>
class FailedWriteReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FailedWriteReactor(const absl::Status& status) {
    this->Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

// A read reactor that only reports an error.
template <typename Request>
class FailedReadReactor final : public grpc::ServerReadReactor<Request> {
 public:
  explicit FailedReadReactor(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

}  // namespace aad

#endif  // AADD_SERVER_CALL_ROUTING_H_
