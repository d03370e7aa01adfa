// What every RPC handler does first: parse its request from the bytes (the
// service takes its methods raw, see request_parsing.h), count itself among
// the calls in flight, find the call's tenant (its bearer token, with
// --auth_tokens) and session (the request's session_id, else the
// x-session-id metadata), or answer at once with an error, on any kind of
// reactor.
#ifndef AADD_SERVER_CALL_ROUTING_H_
#define AADD_SERVER_CALL_ROUTING_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
// SerializationTraits of protobuf messages (what generated code includes).
#include "grpcpp/impl/codegen/proto_utils.h"
#include "server/auth/authenticator.h"
#include "server/calls_in_flight.h"
#include "server/request_parsing.h"
#include "server/session_manager.h"
#include "server/status_mapping.h"

namespace aad {

// The metadata key a session-affine proxy hashes on.
inline constexpr char kSessionMetadata[] = "x-session-id";
// The metadata a client's bearer token comes in ("Bearer TOKEN").
inline constexpr char kAuthorizationMetadata[] = "authorization";

// The tenant a call comes from: "" (the anonymous tenant) when `auth` is
// null (no --auth_tokens), else the tenant of the call's authorization
// metadata, or UNAUTHENTICATED saying what is missing or wrong.
absl::StatusOr<std::string> TenantOf(const Authenticator* auth,
                                     const grpc::CallbackServerContext* context);

// Whom a call acts for and on which session.
struct CallTarget {
  std::string tenant;
  std::string session_id;  // empty when the call names none
};

// TenantOf, then SessionIdOf: every call that names a session starts here.
absl::StatusOr<CallTarget> CallTargetOf(const Authenticator* auth,
                                        const grpc::CallbackServerContext* context,
                                        const std::string& field);

// The request's session id, or the x-session-id metadata when the field is
// empty; empty when neither has one. The metadata may carry any bytes: one
// that is no valid session id (ValidateSessionId) is INVALID_ARGUMENT
// naming the metadata.
absl::StatusOr<std::string> SessionIdOf(const grpc::CallbackServerContext* context,
                                        const std::string& field);

// The session `id` of `tenant`; INVALID_ARGUMENT when empty, NOT_FOUND
// when unknown or another tenant's.
absl::StatusOr<std::shared_ptr<Session>> FindSession(SessionManager* sessions,
                                                     const std::string& tenant,
                                                     const std::string& id);

// SessionIdOf, then FindSession for `tenant`.
absl::StatusOr<std::shared_ptr<Session>> FindCallSession(SessionManager* sessions,
                                                         const grpc::CallbackServerContext* context,
                                                         const std::string& tenant,
                                                         const std::string& field);

// UNAVAILABLE: the server drains or shuts down.
absl::Status DrainingStatus();

// `message` as the bytes of a response or of a stream's message.
template <typename Message>
grpc::Status SerializeTo(const Message& message, grpc::ByteBuffer* bytes) {
  bool own_buffer = false;
  return grpc::SerializationTraits<Message>::Serialize(message, bytes, &own_buffer);
}

// A unary call of the raw service: its request parsed from the bytes, its
// response serialized into them when it answers OK, counted in `calls`
// from its start to its OnDone. Deletes itself when the call is done.
template <typename Request, typename Response>
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  UnaryCall(CallsInFlight* calls, grpc::ByteBuffer* response_bytes)
      : calls_(calls), response_bytes_(response_bytes), open_(calls->Enter()) {}

  // False when the server no longer takes calls (answer DrainingStatus).
  bool open() const { return open_; }

  // Answers the call, with `response` when `status` is OK. Exactly once,
  // from any thread.
  void Reply(const absl::Status& status) {
    grpc::Status s = ToGrpcStatus(status);
    if (s.ok()) s = SerializeTo(response, response_bytes_);
    Finish(std::move(s));
  }

  void OnDone() override {
    calls_->Leave();
    delete this;
  }
  // OnDone (an uncontended lock and a delete) and OnCancel (nothing) may
  // run on the thread that completed the call, as for gRPC's own default
  // reactor: scheduled on an executor instead, each unary call paid a
  // thread hop (single-row Score p50 +11 us in bench/score_bench).
  // gRPC marks this hook as internal; it is stable across its 1.x releases.
  bool InternalInlineable() override { return true; }

  Request request;
  Response response;

 private:
  CallsInFlight* const calls_;
  grpc::ByteBuffer* const response_bytes_;
  const bool open_;
};

// Starts a unary call: UNAVAILABLE at once when the server no longer takes
// calls, INVALID_ARGUMENT when the request does not parse; otherwise
// `handler(call)`, which answers through call->Reply, at once or later.
template <typename Request, typename Response, typename Handler>
grpc::ServerUnaryReactor* ServeUnary(CallsInFlight* calls, const grpc::ByteBuffer* request_bytes,
                                     grpc::ByteBuffer* response_bytes, Handler&& handler) {
  auto* call = new UnaryCall<Request, Response>(calls, response_bytes);
  if (!call->open()) {
    call->Reply(DrainingStatus());
    return call;
  }
  if (absl::Status parsed = ParseRequest(*request_bytes, &call->request); !parsed.ok()) {
    call->Reply(parsed);
    return call;
  }
  handler(call);
  return call;
}

// A server-streaming call that only reports an error; counted in `calls`.
class FailedWriteReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  FailedWriteReactor(CallsInFlight* calls, const absl::Status& status) : calls_(calls) {
    calls_->Enter();
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override {
    calls_->Leave();
    delete this;
  }

 private:
  CallsInFlight* const calls_;
};

// A client-streaming call that only reports an error; counted in `calls`.
class FailedReadReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  FailedReadReactor(CallsInFlight* calls, const absl::Status& status) : calls_(calls) {
    calls_->Enter();
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override {
    calls_->Leave();
    delete this;
  }

 private:
  CallsInFlight* const calls_;
};

}  // namespace aad

#endif  // AADD_SERVER_CALL_ROUTING_H_
