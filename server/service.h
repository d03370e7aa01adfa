// The ActiveAnomalyDetection service on gRPC's callback API. Its methods
// are raw (bytes in, bytes out): the service parses each request itself, so
// that one protobuf refuses is INVALID_ARGUMENT naming the field
// (request_parsing.h) rather than gRPC's UNIMPLEMENTED. It finds each
// call's tenant (with --auth_tokens, from its bearer token: UNAUTHENTICATED
// without a valid one, answered as a status like any error, so that an
// interceptor sees every call end) and session id in one place
// (CallTargetOf), runs the unary calls through UnaryCalls (shared with
// the HTTP gateway) and the streaming ones through their reactors, maps
// every absl::Status through ToGrpcStatus, and counts every call in flight
// (CallsInFlight) for the graceful shutdown.
#ifndef AADD_SERVER_SERVICE_H_
#define AADD_SERVER_SERVICE_H_

#include "aad/v1/aad.grpc.pb.h"
#include "server/auth/authenticator.h"
#include "server/calls_in_flight.h"
#include "server/session_manager.h"
#include "server/unary_calls.h"

namespace aad {

namespace service_internal {
using Aad = aad::v1::ActiveAnomalyDetection;
// Every method raw, in the generated code's order.
using RawService = Aad::WithRawCallbackMethod_CreateSession<
    Aad::WithRawCallbackMethod_GetSession<Aad::WithRawCallbackMethod_ListSessions<
        Aad::WithRawCallbackMethod_DeleteSession<Aad::WithRawCallbackMethod_Ingest<
            Aad::WithRawCallbackMethod_Train<Aad::WithRawCallbackMethod_Score<
                Aad::WithRawCallbackMethod_GetQueryCandidates<
                    Aad::WithRawCallbackMethod_SubmitLabels<
                        Aad::WithRawCallbackMethod_ExportSession<
                            Aad::WithRawCallbackMethod_ImportSession<Aad::Service>>>>>>>>>>>;
}  // namespace service_internal

// Thread-safe: gRPC calls every handler from its own threads.
class AadService final : public service_internal::RawService {
 public:
  // `sessions` must outlive the service and every call in flight; so must
  // `auth` (not owned), which checks every call's token; null: no tokens,
  // every call is the anonymous tenant's.
  explicit AadService(SessionManager* sessions, const Authenticator* auth = nullptr);

  // Refuse new work with UNAVAILABLE (graceful shutdown); reads go on.
  void StartDraining() { calls_.StartDraining(); }

  // The unary calls, for the HTTP gateway to share.
  UnaryCalls* calls() { return &calls_; }
  // Every call of the service from its start to its end.
  CallsInFlight* calls_in_flight() { return &in_flight_; }

  grpc::ServerUnaryReactor* CreateSession(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetSession(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListSessions(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeleteSession(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* Ingest(grpc::CallbackServerContext* context,
                                                    grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Train(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* context,
                                  const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetQueryCandidates(grpc::CallbackServerContext* context,
                                               const grpc::ByteBuffer* request,
                                               grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SubmitLabels(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* ExportSession(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* ImportSession(grpc::CallbackServerContext* context,
                                                           grpc::ByteBuffer* response) override;

 private:
  SessionManager* const sessions_;
  const Authenticator* const auth_;
  UnaryCalls calls_;
  CallsInFlight in_flight_;
};

}  // namespace aad

#endif  // AADD_SERVER_SERVICE_H_
