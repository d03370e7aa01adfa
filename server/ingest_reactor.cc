#include "server/ingest_reactor.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aad/v1/aad.pb.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "server/call_routing.h"
#include "server/log.h"
#include "server/proto_convert.h"
#include "server/status_mapping.h"
#include "server/stoppable_read_reactor.h"

namespace aad {
namespace {

// Client stream of row batches. Each batch is stored as it arrives (so a
// retry of the whole stream is answered from the batch ids); the first bad
// batch ends the call with its error, batches before it stay stored. The
// columns' names may come with the first batch only (a CSV header, sent
// once): the session checks them, and stores them if it has none. A
// shutdown stops it after the batch in hand (StoppableReadReactor).
class IngestReactor final : public StoppableReadReactor {
 public:
  IngestReactor(grpc::CallbackServerContext* context, SessionManager* sessions, std::string tenant,
                CallsInFlight* calls, grpc::ByteBuffer* response_bytes)
      : StoppableReadReactor(calls),
        context_(context),
        sessions_(sessions),
        tenant_(std::move(tenant)),
        response_bytes_(response_bytes) {
    Begin();
  }

 private:
  // The answer once the client closed its side (or the call was cancelled).
  grpc::Status OnClosed() override {
    if (session_ == nullptr && !context_->IsCancelled()) {
      return ToGrpcStatus(absl::InvalidArgumentError("ingest stream had no batches"));
    }
    if (session_ != nullptr) response_.set_total_rows(session_->Info().rows);
    return SerializeTo(response_, response_bytes_);
  }

  // The answer to a stream the shutdown stopped.
  absl::Status Stopped() const override {
    return absl::UnavailableError(absl::StrCat(
        "server is shutting down: this ingest stream was stopped after ", messages_,
        messages_ == 1 ? " batch, which is stored" : " batches, which are stored",
        " (a retry of the stream with the same batch ids stores each batch once); retry on "
        "another replica"));
  }

  void OnStoppedAfterMessage() override {
    LogInfo(session_ ? session_->id() : "",
            absl::StrCat("ingest stream stopped by the shutdown after ", messages_,
                         messages_ == 1 ? " batch" : " batches"));
  }

  absl::Status OnMessage() override {
    absl::Status status = Handle();
    if (!status.ok()) {
      LogWarning(session_ ? session_->id() : "", absl::StrCat("ingest: ", status.message()));
    }
    return status;
  }

  absl::Status Handle() {
    ++messages_;
    RETURN_IF_ERROR(ParseRequest(*bytes(), &request_, absl::StrCat("ingest message ", messages_)));
    bytes()->Clear();  // the batch is in request_ now; a large one is not held twice
    ASSIGN_OR_RETURN(const std::string id, SessionIdOf(context_, request_.session_id()));
    if (session_ == nullptr) {
      ASSIGN_OR_RETURN(session_, FindSession(sessions_, tenant_, id));
    } else if (!request_.session_id().empty() && request_.session_id() != session_->id()) {
      return absl::InvalidArgumentError(absl::StrCat("ingest stream for session ",
                                                     session_->id(), " got a batch for session ",
                                                     request_.session_id()));
    }
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
    aad::v1::IngestedBatch* b = response_.add_batches();
    b->set_batch_id(request_.batch_id());
    b->set_first_row_id(r.first_row_id);
    b->set_row_count(r.row_count);
    b->set_duplicate(r.duplicate);
    response_.set_total_rows(r.total_rows);
    return absl::OkStatus();
  }

  grpc::CallbackServerContext* const context_;
  SessionManager* const sessions_;
  const std::string tenant_;  // the caller, authenticated by the service
  grpc::ByteBuffer* const response_bytes_;
  // Touched by one callback at a time (gRPC runs a reactor's reactions in
  // turn; Stop() reads messages_ only, when none runs).
  aad::v1::IngestRequest request_;
  aad::v1::IngestResponse response_;
  std::shared_ptr<Session> session_;
  int64_t messages_ = 0;  // read so far, the current one included
};

}  // namespace

grpc::ServerReadReactor<grpc::ByteBuffer>* NewIngestReactor(grpc::CallbackServerContext* context,
                                                            SessionManager* sessions,
                                                            std::string tenant,
                                                            CallsInFlight* calls,
                                                            grpc::ByteBuffer* response) {
  return new IngestReactor(context, sessions, std::move(tenant), calls, response);
}

}  // namespace aad
