#include "server/service.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "server/mutex.h"
#include "core/util/status_macros.h"
#include "server/log.h"
#include "server/proto_convert.h"
#include "server/status_mapping.h"

namespace aad {
namespace {

constexpr char kSessionMetadata[] = "x-session-id";

// The request's session id, or the x-session-id metadata when it is empty.
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

absl::Status Unavailable() {
  return absl::UnavailableError("server is shutting down; retry on another replica");
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

void SetScores(const RowScores& scores, aad::v1::ScoreResponse* response) {
  response->mutable_p()->Assign(scores.p.begin(), scores.p.end());
  response->mutable_logit()->Assign(scores.logit.begin(), scores.logit.end());
  response->mutable_s()->Assign(scores.s.begin(), scores.s.end());
  response->set_model_version(scores.model_version);
}

// Client stream of row batches. Each batch is stored as it arrives (so a
// retry of the whole stream is answered from the batch ids); the first bad
// batch ends the call with its error, batches before it stay stored.
class IngestReactor final : public grpc::ServerReadReactor<aad::v1::IngestRequest> {
 public:
  IngestReactor(grpc::CallbackServerContext* context, SessionManager* sessions,
                aad::v1::IngestResponse* response)
      : context_(context), sessions_(sessions), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client closed its side (or the call was cancelled).
      if (session_ != nullptr) response_->set_total_rows(session_->Info().rows);
      if (session_ == nullptr && !context_->IsCancelled()) {
        Finish(ToGrpcStatus(absl::InvalidArgumentError("ingest stream had no batches")));
        return;
      }
      Finish(grpc::Status::OK);
      return;
    }
    absl::Status status = Handle();
    if (!status.ok()) {
      LogWarning(session_ ? session_->id() : "", absl::StrCat("ingest: ", status.message()));
      Finish(ToGrpcStatus(status));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Handle() {
    const std::string id = SessionIdOf(context_, request_.session_id());
    if (session_ == nullptr) {
      ASSIGN_OR_RETURN(session_, FindSession(sessions_, id));
    } else if (!request_.session_id().empty() && request_.session_id() != session_->id()) {
      return absl::InvalidArgumentError(absl::StrCat("ingest stream for session ",
                                                     session_->id(), " got a batch for session ",
                                                     request_.session_id()));
    }
    ASSIGN_OR_RETURN(IngestResult r,
                     session_->Append(request_.batch_id(), request_.feature_count(),
                                      absl::MakeConstSpan(request_.values().data(),
                                                          request_.values().size())));
    aad::v1::IngestedBatch* b = response_->add_batches();
    b->set_batch_id(request_.batch_id());
    b->set_first_row_id(r.first_row_id);
    b->set_row_count(r.row_count);
    b->set_duplicate(r.duplicate);
    response_->set_total_rows(r.total_rows);
    return absl::OkStatus();
  }

  grpc::CallbackServerContext* const context_;
  SessionManager* const sessions_;
  aad::v1::IngestResponse* const response_;
  aad::v1::IngestRequest request_;
  std::shared_ptr<Session> session_;
};

// Server stream of training progress. Training runs on a training thread;
// progress messages are coalesced (only the newest is kept while a write is
// in flight) so a slow client never slows training down. Finish is called
// once the run ended and the last write completed.
class TrainReactor final : public grpc::ServerWriteReactor<aad::v1::TrainResponse>,
                           public TrainObserver {
 public:
  TrainReactor(grpc::CallbackServerContext* context, std::shared_ptr<Session> session,
               int pretrain_epochs)
      : context_(context), session_(std::move(session)), pretrain_epochs_(pretrain_epochs) {}

  // Starts the run; answers at once when it cannot start.
  void Start() {
    absl::Status status = session_->StartTraining(this, pretrain_epochs_);
    if (!status.ok()) {
      {
        MutexLock lock(&mu_);
        finish_pending_ = true;
        final_status_ = ToGrpcStatus(status);
      }
      Step();
    }
  }

  void OnProgress(const aad::TrainProgress& p) override {
    {
      MutexLock lock(&mu_);
      next_.Clear();
      next_.set_epoch(p.epoch);
      next_.set_epochs(p.epochs);
      next_.set_loss(p.loss);
      next_.set_rows_per_second(p.rows_per_second);
      has_next_ = true;
    }
    Step();
  }

  bool ShouldStop() override {
    return cancelled_.load() || std::chrono::system_clock::now() > context_->deadline();
  }

  void OnTrainingDone(const absl::Status& status, int64_t version) override {
    {
      MutexLock lock(&mu_);
      SetOutcomeLocked(status, version);
    }
    Step();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) cancelled_.store(true);
    {
      MutexLock lock(&mu_);
      writing_ = false;
    }
    Step();
  }

  void OnCancel() override { cancelled_.store(true); }

  void OnDone() override { delete this; }

 private:
  void SetOutcomeLocked(const absl::Status& status, int64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (status.ok()) {
      next_.Clear();
      next_.set_done(true);
      next_.set_model_version(version);
      has_next_ = true;
      final_status_ = grpc::Status::OK;
    } else if (status.code() == absl::StatusCode::kCancelled &&
               std::chrono::system_clock::now() > context_->deadline()) {
      final_status_ = ToGrpcStatus(absl::DeadlineExceededError(
          absl::StrCat("training of session ", session_->id(),
                       " passed the call's deadline; the previous model stays")));
    } else {
      final_status_ = ToGrpcStatus(status);
    }
    finish_pending_ = true;
  }

  // Starts the next write, or finishes once the outcome is known and the
  // last write completed. Finish is called outside the lock and is the last
  // touch of `this`: OnDone (which deletes it) may run right after.
  void Step() ABSL_LOCKS_EXCLUDED(mu_) {
    grpc::Status status;
    {
      MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (has_next_) {
        out_ = next_;
        has_next_ = false;
        writing_ = true;
        StartWrite(&out_);
        return;
      }
      if (!finish_pending_) return;
      finished_ = true;
      status = final_status_;
    }
    Finish(status);
  }

  grpc::CallbackServerContext* const context_;
  const std::shared_ptr<Session> session_;
  const int pretrain_epochs_;
  std::atomic<bool> cancelled_{false};
  Mutex mu_;
  aad::v1::TrainResponse next_ ABSL_GUARDED_BY(mu_);
  aad::v1::TrainResponse out_ ABSL_GUARDED_BY(mu_);  // the write in flight
  bool has_next_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

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

// Archive bytes per ExportSession message: well under any message limit.
constexpr size_t kArchiveChunkBytes = size_t{1} << 20;

// Server stream of one session archive, a chunk at a time (one write in
// flight; gRPC's flow control paces it to the client).
class ExportReactor final : public grpc::ServerWriteReactor<aad::v1::ExportSessionResponse> {
 public:
  explicit ExportReactor(std::string archive) : archive_(std::move(archive)) { WriteNext(); }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "export stream closed by the client"));
      return;
    }
    WriteNext();
  }

  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (sent_ == archive_.size()) {
      Finish(grpc::Status::OK);
      return;
    }
    message_.Clear();
    if (sent_ == 0) message_.set_total_bytes(static_cast<int64_t>(archive_.size()));
    const size_t n = std::min(kArchiveChunkBytes, archive_.size() - sent_);
    message_.set_chunk(archive_.data() + sent_, n);
    sent_ += n;
    StartWrite(&message_);
  }

  const std::string archive_;  // never empty: an archive has a header
  size_t sent_ = 0;
  aad::v1::ExportSessionResponse message_;
};

// Client stream of one session archive: the chunks are joined (up to
// max_import_bytes) and imported once the client closes its side.
class ImportReactor final : public grpc::ServerReadReactor<aad::v1::ImportSessionRequest> {
 public:
  ImportReactor(grpc::CallbackServerContext* context, SessionManager* sessions,
                aad::v1::ImportSessionResponse* response)
      : context_(context), sessions_(sessions), response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      if (messages_++ == 0) id_ = SessionIdOf(context_, request_.session_id());
      const int64_t limit = sessions_->options().max_import_bytes;
      const int64_t size = static_cast<int64_t>(archive_.size() + request_.chunk().size());
      if (size > limit) {
        Finish(ToGrpcStatus(absl::ResourceExhaustedError(
            absl::StrCat("the session archive exceeds ", limit,
                         " bytes (--max_import_bytes) after ", messages_, " messages"))));
        return;
      }
      archive_.append(request_.chunk());
      StartRead(&request_);
      return;
    }
    if (context_->IsCancelled()) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "import stream cancelled"));
      return;
    }
    if (messages_ == 0) {
      Finish(ToGrpcStatus(absl::InvalidArgumentError("import stream had no messages")));
      return;
    }
    // Decoding and rebuilding the session (its pool scores) runs here, on a
    // gRPC callback thread: an import is rare and bounded by the limits.
    auto session =
        sessions_->Import(archive_, id_, absl::StrCat("imported archive (", archive_.size(),
                                                      " bytes)"));
    if (!session.ok()) {
      LogWarning(id_, absl::StrCat("import: ", session.status().message()));
      Finish(ToGrpcStatus(session.status()));
      return;
    }
    ToProto((*session)->Info(), response_->mutable_session());
    Finish(grpc::Status::OK);
  }

  void OnDone() override { delete this; }

 private:
  grpc::CallbackServerContext* const context_;
  SessionManager* const sessions_;
  aad::v1::ImportSessionResponse* const response_;
  aad::v1::ImportSessionRequest request_;
  int64_t messages_ = 0;
  std::string id_;  // from the first message (or the metadata); empty: the archive's
  std::string archive_;
};

}  // namespace

AadService::AadService(SessionManager* sessions) : sessions_(sessions) {}

grpc::ServerUnaryReactor* AadService::CreateSession(grpc::CallbackServerContext* context,
                                                    const aad::v1::CreateSessionRequest* request,
                                                    aad::v1::CreateSessionResponse* response) {
  if (draining_.load()) return FinishNow(context, Unavailable());
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
  if (draining_.load()) return new FailedReadReactor<aad::v1::IngestRequest>(Unavailable());
  return new IngestReactor(context, sessions_, response);
}

grpc::ServerWriteReactor<aad::v1::TrainResponse>* AadService::Train(
    grpc::CallbackServerContext* context, const aad::v1::TrainRequest* request) {
  if (draining_.load()) return new FailedWriteReactor<aad::v1::TrainResponse>(Unavailable());
  auto session = FindSession(sessions_, SessionIdOf(context, request->session_id()));
  if (!session.ok()) return new FailedWriteReactor<aad::v1::TrainResponse>(session.status());
  auto* reactor = new TrainReactor(context, *std::move(session),
                                   request->has_pretrain_epochs() ? request->pretrain_epochs() : -1);
  reactor->Start();
  return reactor;
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
  if (draining_.load()) return FinishNow(context, Unavailable());
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
  return new ExportReactor(*std::move(archive));
}

grpc::ServerReadReactor<aad::v1::ImportSessionRequest>* AadService::ImportSession(
    grpc::CallbackServerContext* context, aad::v1::ImportSessionResponse* response) {
  if (draining_.load()) {
    return new FailedReadReactor<aad::v1::ImportSessionRequest>(Unavailable());
  }
  return new ImportReactor(context, sessions_, response);
}

}  // namespace aad
