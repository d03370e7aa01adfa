#include "server/service.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "server/archive_reactors.h"
#include "server/call_routing.h"
#include "server/ingest_reactor.h"
#include "server/log.h"
#include "server/proto_convert.h"
#include "server/status_mapping.h"
#include "server/train_reactor.h"

namespace aad {
namespace {

void SetScores(const RowScores& scores, aad::v1::ScoreResponse* response) {
  response->mutable_p()->Assign(scores.p.begin(), scores.p.end());
  response->mutable_logit()->Assign(scores.logit.begin(), scores.logit.end());
  response->mutable_s()->Assign(scores.s.begin(), scores.s.end());
  response->set_model_version(scores.model_version);
}

}  // namespace

AadService::AadService(SessionManager* sessions) : sessions_(sessions) {}

grpc::ServerUnaryReactor* AadService::CreateSession(grpc::CallbackServerContext* context,
                                                    const aad::v1::CreateSessionRequest* request,
                                                    aad::v1::CreateSessionResponse* response) {
  if (draining_.load()) return FinishNow(context, DrainingStatus());
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(SessionOptions options, FromProto(*request));
    // The id may come as metadata only: a session-affine proxy routes on it.
    ASSIGN_OR_RETURN(std::shared_ptr<Session> session,
                     sessions_->Create(std::move(options),
                                       SessionIdOf(context, request->session_id())));
    ToProto(session->Info(), response->mutable_session());
    return absl::OkStatus();
  }();
  return FinishNow(context, status);
}

grpc::ServerUnaryReactor* AadService::GetSession(grpc::CallbackServerContext* context,
                                                 const aad::v1::GetSessionRequest* request,
                                                 aad::v1::GetSessionResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto session,
                     FindSession(sessions_, SessionIdOf(context, request->session_id())));
    ToProto(session->Info(), response->mutable_session());
    return absl::OkStatus();
  }();
  return FinishNow(context, status);
}

grpc::ServerUnaryReactor* AadService::ListSessions(grpc::CallbackServerContext* context,
                                                   const aad::v1::ListSessionsRequest* request,
                                                   aad::v1::ListSessionsResponse* response) {
  if (request->page_size() < 0 || request->page_size() > 1000) {
    return FinishNow(context, absl::InvalidArgumentError(absl::StrCat(
                                  "page_size must be in 0..1000, got ", request->page_size())));
  }
  // A page token is the last id of the previous page.
  if (!request->page_token().empty() && !ValidateSessionId(request->page_token()).ok()) {
    return FinishNow(context, absl::InvalidArgumentError(absl::StrCat(
                                  "page_token '", absl::CHexEscape(request->page_token()),
                                  "' is not one this server gave (the last id of a page)")));
  }
  const int page_size = request->page_size() == 0 ? 100 : request->page_size();
  // One more than asked tells whether another page follows.
  auto sessions = sessions_->List(request->page_token(), page_size + 1);
  const bool more = static_cast<int>(sessions.size()) > page_size;
  if (more) sessions.pop_back();
  for (const auto& s : sessions) ToProto(s->Info(), response->add_sessions());
  if (more) response->set_next_page_token(sessions.back()->id());
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* AadService::DeleteSession(grpc::CallbackServerContext* context,
                                                    const aad::v1::DeleteSessionRequest* request,
                                                    aad::v1::DeleteSessionResponse*) {
  const std::string id = SessionIdOf(context, request->session_id());
  if (id.empty()) return FinishNow(context, FindSession(sessions_, id).status());
  return FinishNow(context, sessions_->Delete(id));
}

grpc::ServerReadReactor<aad::v1::IngestRequest>* AadService::Ingest(
    grpc::CallbackServerContext* context, aad::v1::IngestResponse* response) {
  // Draining refuses new rows through the first batch's session lookup.
  if (draining_.load()) return new FailedReadReactor<aad::v1::IngestRequest>(DrainingStatus());
  return NewIngestReactor(context, sessions_, response);
}

grpc::ServerWriteReactor<aad::v1::TrainResponse>* AadService::Train(
    grpc::CallbackServerContext* context, const aad::v1::TrainRequest* request) {
  if (draining_.load()) return new FailedWriteReactor<aad::v1::TrainResponse>(DrainingStatus());
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
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto session,
                     FindSession(sessions_, SessionIdOf(context, request->session_id())));
    if (!request->values().empty() && !request->row_ids().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "score request has both ", request->values_size(), " inline values and ",
          request->row_ids_size(), " row ids; send one or the other"));
    }
    if (request->row_ids().empty()) {
      ASSIGN_OR_RETURN(RowScores scores,
                       session->ScoreRows(request->feature_count(),
                                          absl::MakeConstSpan(request->values().data(),
                                                              request->values().size())));
      SetScores(scores, response);
    } else {
      ASSIGN_OR_RETURN(RowScores scores,
                       session->ScorePoolRows(absl::MakeConstSpan(request->row_ids().data(),
                                                                  request->row_ids().size())));
      SetScores(scores, response);
    }
    return absl::OkStatus();
  }();
  return FinishNow(context, status);
}

grpc::ServerUnaryReactor* AadService::GetQueryCandidates(
    grpc::CallbackServerContext* context, const aad::v1::GetQueryCandidatesRequest* request,
    aad::v1::GetQueryCandidatesResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto session,
                     FindSession(sessions_, SessionIdOf(context, request->session_id())));
    bool has_strategy = false;
    ASSIGN_OR_RETURN(aad::StrategyKind strategy, FromProto(request->strategy(), &has_strategy));
    const uint64_t seed = request->seed();
    ASSIGN_OR_RETURN(Candidates c,
                     session->QueryCandidates(request->k(), has_strategy ? &strategy : nullptr,
                                              request->has_seed() ? &seed : nullptr));
    response->mutable_row_ids()->Assign(c.row_ids.begin(), c.row_ids.end());
    response->set_feature_count(static_cast<int32_t>(c.feature_count));
    response->mutable_values()->Assign(c.values.begin(), c.values.end());
    response->mutable_p()->Assign(c.p.begin(), c.p.end());
    response->mutable_s()->Assign(c.s.begin(), c.s.end());
    response->set_model_version(c.model_version);
    return absl::OkStatus();
  }();
  return FinishNow(context, status);
}

grpc::ServerUnaryReactor* AadService::SubmitLabels(grpc::CallbackServerContext* context,
                                                   const aad::v1::SubmitLabelsRequest* request,
                                                   aad::v1::SubmitLabelsResponse* response) {
  if (draining_.load()) return FinishNow(context, DrainingStatus());
  auto session = FindSession(sessions_, SessionIdOf(context, request->session_id()));
  if (!session.ok()) return FinishNow(context, session.status());
  std::vector<aad::LabelledRow> labels;
  labels.reserve(request->labels_size());
  for (const aad::v1::Label& l : request->labels()) labels.push_back({l.row_id(), l.anomaly()});
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // With wait_for_model the reply comes from a training thread; the
  // reactor and `response` stay valid until Finish.
  (*session)->SubmitLabels(labels, request->wait_for_model(),
                           [reactor, response](absl::StatusOr<LabelResult> result) {
                             if (result.ok()) {
                               response->set_labels(result->labels);
                               response->set_model_version(result->model_version);
                               response->set_update_scheduled(result->update_scheduled);
                             }
                             reactor->Finish(ToGrpcStatus(result.status()));
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
  if (draining_.load()) {
    return new FailedReadReactor<aad::v1::ImportSessionRequest>(DrainingStatus());
  }
  return NewImportReactor(context, sessions_, response);
}

}  // namespace aad
