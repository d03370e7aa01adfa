// The ActiveAnomalyDetection service on gRPC's callback API: it finds each
// call's session id, runs the unary calls through UnaryCalls (shared with
// the HTTP gateway) and the streaming ones through their reactors, and maps
// every absl::Status through ToGrpcStatus.
#ifndef AADD_SERVER_SERVICE_H_
#define AADD_SERVER_SERVICE_H_

#include <atomic>

#include "aad/v1/aad.grpc.pb.h"
#include "server/session_manager.h"
#include "server/unary_calls.h"

namespace aad {

// Thread-safe: gRPC calls every handler from its own threads.
class AadService final : public aad::v1::ActiveAnomalyDetection::CallbackService {
 public:
  // `sessions` must outlive the service and every call in flight.
  explicit AadService(SessionManager* sessions);

  // Refuse new work with UNAVAILABLE (graceful shutdown).
  void StartDraining() { calls_.StartDraining(); }

  // The unary calls, for the HTTP gateway to share.
  UnaryCalls* calls() { return &calls_; }

  grpc::ServerUnaryReactor* CreateSession(grpc::CallbackServerContext* context,
                                          const aad::v1::CreateSessionRequest* request,
                                          aad::v1::CreateSessionResponse* response) override;
  grpc::ServerUnaryReactor* GetSession(grpc::CallbackServerContext* context,
                                       const aad::v1::GetSessionRequest* request,
                                       aad::v1::GetSessionResponse* response) override;
  grpc::ServerUnaryReactor* ListSessions(grpc::CallbackServerContext* context,
                                         const aad::v1::ListSessionsRequest* request,
                                         aad::v1::ListSessionsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteSession(grpc::CallbackServerContext* context,
                                          const aad::v1::DeleteSessionRequest* request,
                                          aad::v1::DeleteSessionResponse* response) override;
  grpc::ServerReadReactor<aad::v1::IngestRequest>* Ingest(
      grpc::CallbackServerContext* context, aad::v1::IngestResponse* response) override;
  grpc::ServerWriteReactor<aad::v1::TrainResponse>* Train(
      grpc::CallbackServerContext* context, const aad::v1::TrainRequest* request) override;
  grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* context,
                                  const aad::v1::ScoreRequest* request,
                                  aad::v1::ScoreResponse* response) override;
  grpc::ServerUnaryReactor* GetQueryCandidates(
      grpc::CallbackServerContext* context, const aad::v1::GetQueryCandidatesRequest* request,
      aad::v1::GetQueryCandidatesResponse* response) override;
  grpc::ServerUnaryReactor* SubmitLabels(grpc::CallbackServerContext* context,
                                         const aad::v1::SubmitLabelsRequest* request,
                                         aad::v1::SubmitLabelsResponse* response) override;
  grpc::ServerWriteReactor<aad::v1::ExportSessionResponse>* ExportSession(
      grpc::CallbackServerContext* context,
      const aad::v1::ExportSessionRequest* request) override;
  grpc::ServerReadReactor<aad::v1::ImportSessionRequest>* ImportSession(
      grpc::CallbackServerContext* context, aad::v1::ImportSessionResponse* response) override;

 private:
  SessionManager* const sessions_;
  UnaryCalls calls_;
};

}  // namespace aad

#endif  // AADD_SERVER_SERVICE_H_
