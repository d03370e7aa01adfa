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
//
// Stop() (a shutdown) may come from another thread at any time: with a
// read pending the call ends at once, with a batch in hand right after it.
// mu_ orders the two; Finish is called once, outside mu_.
class IngestReactor final : public grpc::ServerReadReactor<grpc::ByteBuffer>,
                            public CallsInFlight::Stoppable {
 public:
  IngestReactor(grpc::CallbackServerContext* context, SessionManager* sessions, std::string tenant,
                CallsInFlight* calls, grpc::ByteBuffer* response_bytes)
      : context_(context),
        sessions_(sessions),
        tenant_(std::move(tenant)),
        calls_(calls),
        response_bytes_(response_bytes) {
    const bool open = calls_->Enter(this);
    {
      MutexLock lock(&mu_);
      if (open && !finished_) {
        StartRead(&bytes_);
        return;
      }
      if (finished_) return;  // Stop() came first and finished the call
      finished_ = true;
    }
    Finish(ToGrpcStatus(DrainingStatus()));
  }

  void OnReadDone(bool ok) override {
    {
      MutexLock lock(&mu_);
      // Stopped while the read was pending: the call is answered, and a
      // batch that came meanwhile was never stored nor acknowledged.
      if (finished_) return;
      if (!ok) finished_ = true;
      handling_ = ok;
    }
    if (!ok) {
      Finish(Closed());
      return;
    }
    const absl::Status status = Handle();
    grpc::Status final_status;
    {
      MutexLock lock(&mu_);
      handling_ = false;
      if (status.ok() && !stop_requested_) {
        StartRead(&bytes_);
        return;
      }
      finished_ = true;
      if (status.ok()) final_status = ToGrpcStatus(Stopped());
    }
    if (!status.ok()) {
      LogWarning(session_ ? session_->id() : "", absl::StrCat("ingest: ", status.message()));
      final_status = ToGrpcStatus(status);
    } else {
      LogInfo(session_ ? session_->id() : "",
              absl::StrCat("ingest stream stopped by the shutdown after ", messages_,
                           messages_ == 1 ? " batch" : " batches"));
    }
    Finish(final_status);
  }

  void Stop() override {
    grpc::Status status;
    {
      MutexLock lock(&mu_);
      if (finished_) return;
      if (handling_) {
        stop_requested_ = true;  // OnReadDone finishes after the batch
        return;
      }
      finished_ = true;
      status = ToGrpcStatus(Stopped());
    }
    Finish(status);
  }

  void OnDone() override {
    calls_->Leave(this);
    delete this;
  }

 private:
  // The answer once the client closed its side (or the call was cancelled).
  grpc::Status Closed() {
    if (session_ == nullptr && !context_->IsCancelled()) {
      return ToGrpcStatus(absl::InvalidArgumentError("ingest stream had no batches"));
    }
    if (session_ != nullptr) response_.set_total_rows(session_->Info().rows);
    return SerializeTo(response_, response_bytes_);
  }

  // The answer to a stream the shutdown stopped.
  absl::Status Stopped() const {
    return absl::UnavailableError(absl::StrCat(
        "server is shutting down: this ingest stream was stopped after ", messages_,
        messages_ == 1 ? " batch, which is stored" : " batches, which are stored",
        " (a retry of the stream with the same batch ids stores each batch once); retry on "
        "another replica"));
  }

  absl::Status Handle() {
    ++messages_;
    RETURN_IF_ERROR(ParseRequest(bytes_, &request_, absl::StrCat("ingest message ", messages_)));
    bytes_.Clear();  // the batch is in request_ now; a large one is not held twice
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
  CallsInFlight* const calls_;
  grpc::ByteBuffer* const response_bytes_;
  // Touched by one callback at a time (gRPC runs a reactor's reactions in
  // turn; Stop() reads none of them).
  grpc::ByteBuffer bytes_;  // the message being read
  aad::v1::IngestRequest request_;
  aad::v1::IngestResponse response_;
  std::shared_ptr<Session> session_;
  int64_t messages_ = 0;  // read so far, the current one included

  Mutex mu_;
  bool handling_ ABSL_GUARDED_BY(mu_) = false;        // a batch is being stored
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;  // Stop() came meanwhile
  bool finished_ ABSL_GUARDED_BY(mu_) = false;        // Finish was (or is being) called
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
