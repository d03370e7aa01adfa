#include "server/service.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/archive_reactors.h"
#include "server/call_routing.h"
#include "server/ingest_reactor.h"
#include "server/log.h"
#include "server/status_mapping.h"
#include "server/train_reactor.h"

namespace aad {

AadService::AadService(SessionManager* sessions) : sessions_(sessions), calls_(sessions) {}

grpc::ServerUnaryReactor* AadService::CreateSession(grpc::CallbackServerContext* context,
                                                    const aad::v1::CreateSessionRequest* request,
                                                    aad::v1::CreateSessionResponse* response) {
  // The id may come as metadata only: a session-affine proxy routes on it.
  return FinishNow(context,
                   calls_.CreateSession(SessionIdOf(context, request->session_id()), *request,
                                        response));
}

grpc::ServerUnaryReactor* AadService::GetSession(grpc::CallbackServerContext* context,
                                                 const aad::v1::GetSessionRequest* request,
                                                 aad::v1::GetSessionResponse* response) {
  return FinishNow(context, calls_.GetSession(SessionIdOf(context, request->session_id()),
                                              response));
}

grpc::ServerUnaryReactor* AadService::ListSessions(grpc::CallbackServerContext* context,
                                                   const aad::v1::ListSessionsRequest* request,
                                                   aad::v1::ListSessionsResponse* response) {
  return FinishNow(context, calls_.ListSessions(*request, response));
}

grpc::ServerUnaryReactor* AadService::DeleteSession(grpc::CallbackServerContext* context,
                                                    const aad::v1::DeleteSessionRequest* request,
                                                    aad::v1::DeleteSessionResponse*) {
  return FinishNow(context, calls_.DeleteSession(SessionIdOf(context, request->session_id())));
}

grpc::ServerReadReactor<aad::v1::IngestRequest>* AadService::Ingest(
    grpc::CallbackServerContext* context, aad::v1::IngestResponse* response) {
  // Draining refuses new rows through the first batch's session lookup.
  if (calls_.draining()) return new FailedReadReactor<aad::v1::IngestRequest>(DrainingStatus());
  return NewIngestReactor(context, sessions_, response);
}

grpc::ServerWriteReactor<aad::v1::TrainResponse>* AadService::Train(
    grpc::CallbackServerContext* context, const aad::v1::TrainRequest* request) {
  if (calls_.draining()) return new FailedWriteReactor<aad::v1::TrainResponse>(DrainingStatus());
  auto session = FindSession(sessions_, SessionIdOf(context, request->session_id()));
  if (!session.ok()) return new FailedWriteReactor<aad::v1::TrainResponse>(session.status());
  if (request->has_pretrain_epochs() && request->pretrain_epochs() < 0) {
    return new FailedWriteReactor<aad::v1::TrainResponse>(absl::InvalidArgumentError(
        absl::StrCat("pretrain_epochs must be >= 0 (unset: the session's setting), got ",
                     request->pretrain_epochs())));
  }
  return StartTrainReactor(context, *std::move(session),
                           request->has_pretrain_epochs() ? request->pretrain_epochs() : -1);
}

grpc::ServerUnaryReactor* AadService::Score(grpc::CallbackServerContext* context,
                                            const aad::v1::ScoreRequest* request,
                                            aad::v1::ScoreResponse* response) {
  return FinishNow(context,
                   calls_.Score(SessionIdOf(context, request->session_id()), *request, response));
}

grpc::ServerUnaryReactor* AadService::GetQueryCandidates(
    grpc::CallbackServerContext* context, const aad::v1::GetQueryCandidatesRequest* request,
    aad::v1::GetQueryCandidatesResponse* response) {
  return FinishNow(context, calls_.GetQueryCandidates(SessionIdOf(context, request->session_id()),
                                                      *request, response));
}

grpc::ServerUnaryReactor* AadService::SubmitLabels(grpc::CallbackServerContext* context,
                                                   const aad::v1::SubmitLabelsRequest* request,
                                                   aad::v1::SubmitLabelsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // With wait_for_model the reply comes from a training thread; the
  // reactor and `response` stay valid until Finish.
  calls_.SubmitLabels(SessionIdOf(context, request->session_id()), *request, response,
                      [reactor](const absl::Status& status) {
                        reactor->Finish(ToGrpcStatus(status));
                      });
  return reactor;
}

grpc::ServerWriteReactor<aad::v1::ExportSessionResponse>* AadService::ExportSession(
    grpc::CallbackServerContext* context, const aad::v1::ExportSessionRequest* request) {
  const std::string id = SessionIdOf(context, request->session_id());
  absl::StatusOr<std::string> archive =
      id.empty() ? FindSession(sessions_, id).status() : sessions_->Export(id);
  if (!archive.ok()) {
    return new FailedWriteReactor<aad::v1::ExportSessionResponse>(archive.status());
  }
  LogInfo(id, absl::StrCat("exporting ", archive->size(), " archive bytes"));
  return NewExportReactor(*std::move(archive));
}

grpc::ServerReadReactor<aad::v1::ImportSessionRequest>* AadService::ImportSession(
    grpc::CallbackServerContext* context, aad::v1::ImportSessionResponse* response) {
  if (calls_.draining()) {
    return new FailedReadReactor<aad::v1::ImportSessionRequest>(DrainingStatus());
  }
  return NewImportReactor(context, sessions_, response);
}

}  // namespace aad
