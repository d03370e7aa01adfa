#include "server/service.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/archive_reactors.h"
#include "server/call_routing.h"
#include "server/ingest_reactor.h"
#include "server/log.h"
#include "server/request_parsing.h"
#include "server/status_mapping.h"
#include "server/train_reactor.h"

namespace aad {
namespace {

// A unary call that runs `run(target, request, response)` at once, with
// the call's tenant and session id (CallTargetOf).
template <typename Request, typename Response, typename Run>
grpc::ServerUnaryReactor* ServeWithId(CallsInFlight* calls, const Authenticator* auth,
                                      grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
                                      Run run) {
  return ServeUnary<Request, Response>(
      calls, request, response, [auth, context, &run](UnaryCall<Request, Response>* call) {
        absl::StatusOr<CallTarget> target =
            CallTargetOf(auth, context, call->request.session_id());
        call->Reply(target.ok() ? run(*target, call->request, &call->response)
                                : target.status());
      });
}

}  // namespace

AadService::AadService(SessionManager* sessions, const Authenticator* auth)
    : sessions_(sessions), auth_(auth), calls_(sessions) {}

grpc::ServerUnaryReactor* AadService::CreateSession(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  // The id may come as metadata only: a session-affine proxy routes on it.
  return ServeWithId<v1::CreateSessionRequest, v1::CreateSessionResponse>(
      &in_flight_, auth_, context, request, response,
      [this](const CallTarget& t, const v1::CreateSessionRequest& r,
             v1::CreateSessionResponse* out) {
        return calls_.CreateSession(t.tenant, t.session_id, r, out);
      });
}

grpc::ServerUnaryReactor* AadService::GetSession(grpc::CallbackServerContext* context,
                                                 const grpc::ByteBuffer* request,
                                                 grpc::ByteBuffer* response) {
  return ServeWithId<v1::GetSessionRequest, v1::GetSessionResponse>(
      &in_flight_, auth_, context, request, response,
      [this](const CallTarget& t, const v1::GetSessionRequest&, v1::GetSessionResponse* out) {
        return calls_.GetSession(t.tenant, t.session_id, out);
      });
}

grpc::ServerUnaryReactor* AadService::ListSessions(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) {
  using Call = UnaryCall<v1::ListSessionsRequest, v1::ListSessionsResponse>;
  return ServeUnary<v1::ListSessionsRequest, v1::ListSessionsResponse>(
      &in_flight_, request, response, [this, context](Call* call) {
        absl::StatusOr<std::string> tenant = TenantOf(auth_, context);
        call->Reply(tenant.ok() ? calls_.ListSessions(*tenant, call->request, &call->response)
                                : tenant.status());
      });
}

grpc::ServerUnaryReactor* AadService::DeleteSession(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  return ServeWithId<v1::DeleteSessionRequest, v1::DeleteSessionResponse>(
      &in_flight_, auth_, context, request, response,
      [this](const CallTarget& t, const v1::DeleteSessionRequest&, v1::DeleteSessionResponse*) {
        return calls_.DeleteSession(t.tenant, t.session_id);
      });
}

grpc::ServerReadReactor<grpc::ByteBuffer>* AadService::Ingest(grpc::CallbackServerContext* context,
                                                              grpc::ByteBuffer* response) {
  // Draining refuses new rows through the first batch's session lookup.
  if (calls_.draining()) return new FailedReadReactor(&in_flight_, DrainingStatus());
  // The session id comes with the first message; the tenant now.
  absl::StatusOr<std::string> tenant = TenantOf(auth_, context);
  if (!tenant.ok()) return new FailedReadReactor(&in_flight_, tenant.status());
  return NewIngestReactor(context, sessions_, *tenant, &in_flight_, response);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* AadService::Train(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* request) {
  if (calls_.draining()) return new FailedWriteReactor(&in_flight_, DrainingStatus());
  v1::TrainRequest train;
  if (absl::Status parsed = ParseRequest(*request, &train); !parsed.ok()) {
    return new FailedWriteReactor(&in_flight_, parsed);
  }
  absl::StatusOr<CallTarget> target = CallTargetOf(auth_, context, train.session_id());
  if (!target.ok()) return new FailedWriteReactor(&in_flight_, target.status());
  auto session = FindSession(sessions_, target->tenant, target->session_id);
  if (!session.ok()) return new FailedWriteReactor(&in_flight_, session.status());
  if (train.has_pretrain_epochs() && train.pretrain_epochs() < 0) {
    return new FailedWriteReactor(
        &in_flight_,
        absl::InvalidArgumentError(
            absl::StrCat("pretrain_epochs must be >= 0 (unset: the session's setting), got ",
                         train.pretrain_epochs())));
  }
  return StartTrainReactor(context, *std::move(session),
                           train.has_pretrain_epochs() ? train.pretrain_epochs() : -1,
                           &in_flight_);
}

grpc::ServerUnaryReactor* AadService::Score(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) {
  return ServeWithId<v1::ScoreRequest, v1::ScoreResponse>(
      &in_flight_, auth_, context, request, response,
      [this](const CallTarget& t, const v1::ScoreRequest& r, v1::ScoreResponse* out) {
        return calls_.Score(t.tenant, t.session_id, r, out);
      });
}

grpc::ServerUnaryReactor* AadService::GetQueryCandidates(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return ServeWithId<v1::GetQueryCandidatesRequest, v1::GetQueryCandidatesResponse>(
      &in_flight_, auth_, context, request, response,
      [this](const CallTarget& t, const v1::GetQueryCandidatesRequest& r,
             v1::GetQueryCandidatesResponse* out) {
        return calls_.GetQueryCandidates(t.tenant, t.session_id, r, out);
      });
}

grpc::ServerUnaryReactor* AadService::SubmitLabels(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) {
  using Call = UnaryCall<v1::SubmitLabelsRequest, v1::SubmitLabelsResponse>;
  return ServeUnary<v1::SubmitLabelsRequest, v1::SubmitLabelsResponse>(
      &in_flight_, request, response, [this, context](Call* call) {
        absl::StatusOr<CallTarget> target =
            CallTargetOf(auth_, context, call->request.session_id());
        if (!target.ok()) return call->Reply(target.status());
        // With wait_for_model the reply comes from a training thread; the
        // call and its response stay valid until Reply.
        calls_.SubmitLabels(target->tenant, target->session_id, call->request, &call->response,
                            [call](const absl::Status& status) { call->Reply(status); });
      });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* AadService::ExportSession(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  if (in_flight_.closed()) return new FailedWriteReactor(&in_flight_, DrainingStatus());
  v1::ExportSessionRequest exported;
  if (absl::Status parsed = ParseRequest(*request, &exported); !parsed.ok()) {
    return new FailedWriteReactor(&in_flight_, parsed);
  }
  absl::StatusOr<CallTarget> target = CallTargetOf(auth_, context, exported.session_id());
  if (!target.ok()) return new FailedWriteReactor(&in_flight_, target.status());
  const std::string& id = target->session_id;
  absl::StatusOr<std::string> archive =
      id.empty() ? FindSession(sessions_, target->tenant, id).status()
                 : sessions_->Export(id, target->tenant);
  if (!archive.ok()) return new FailedWriteReactor(&in_flight_, archive.status());
  LogInfo(id, absl::StrCat("exporting ", archive->size(), " archive bytes"));
  return NewExportReactor(&in_flight_, *std::move(archive));
}

grpc::ServerReadReactor<grpc::ByteBuffer>* AadService::ImportSession(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  if (calls_.draining()) return new FailedReadReactor(&in_flight_, DrainingStatus());
  // The importer owns what it imports.
  absl::StatusOr<std::string> tenant = TenantOf(auth_, context);
  if (!tenant.ok()) return new FailedReadReactor(&in_flight_, tenant.status());
  return NewImportReactor(context, sessions_, *tenant, &in_flight_, response);
}

}  // namespace aad
