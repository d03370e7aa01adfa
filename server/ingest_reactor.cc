#include "server/ingest_reactor.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "server/call_routing.h"
#include "server/log.h"
#include "server/mutex.h"
#include "server/proto_convert.h"
#include "server/status_mapping.h"

namespace aad {
namespace {

// Client stream of row batches. Each batch is stored as it arrives (so a
// retry of the whole stream is answered from the batch ids); the first bad
// batch ends the call with its error, batches before it stay stored. The
// columns' names may come with the first batch only (a CSV header, sent
// once): the session checks them, and stores them if it has none.
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
    ++messages_;
    std::vector<std::string> names;
    if (request_.feature_names_size() > 0) {
      if (messages_ > 1) {
        // One header per stream: names in a later message would either
        // repeat the first (useless) or rename columns mid-stream.
        return absl::InvalidArgumentError(absl::StrCat(
            "ingest message ", messages_, " of the stream for session ", session_->id(),
            " sends ", request_.feature_names_size(),
            " feature names: they may come in the first message only"));
      }
      names.assign(request_.feature_names().begin(), request_.feature_names().end());
    }
    ASSIGN_OR_RETURN(IngestResult r,
                     session_->Append(request_.batch_id(), request_.feature_count(),
                                      absl::MakeConstSpan(request_.values().data(),
                                                          request_.values().size()),
                                      names));
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
  int64_t messages_ = 0;  // read so far, the current one included
};

}  // namespace

grpc::ServerReadReactor<v1::IngestRequest>* NewIngestReactor(grpc::CallbackServerContext* context,
                                                             SessionManager* sessions,
                                                             v1::IngestResponse* response) {
  return new IngestReactor(context, sessions, response);
}

}  // namespace aad
