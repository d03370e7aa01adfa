#include "server/archive_reactors.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

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

// Archive bytes per ExportSession message: well under any message limit.
constexpr size_t kArchiveChunkBytes = size_t{1} << 20;

// Server stream of one session archive, a chunk at a time (one write in
// flight; gRPC's flow control paces it to the client).
class ExportReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  ExportReactor(CallsInFlight* calls, std::string archive)
      : calls_(calls), archive_(std::move(archive)) {
    if (!calls_->Enter()) {
      Finish(ToGrpcStatus(DrainingStatus()));
      return;
    }
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "export stream closed by the client"));
      return;
    }
    WriteNext();
  }

  void OnDone() override {
    calls_->Leave();
    delete this;
  }

 private:
  void WriteNext() {
    if (sent_ == archive_.size()) {
      Finish(grpc::Status::OK);
      return;
    }
    aad::v1::ExportSessionResponse message;
    if (sent_ == 0) message.set_total_bytes(static_cast<int64_t>(archive_.size()));
    const size_t n = std::min(kArchiveChunkBytes, archive_.size() - sent_);
    message.set_chunk(archive_.data() + sent_, n);
    sent_ += n;
    if (grpc::Status s = SerializeTo(message, &out_); !s.ok()) {
      Finish(s);
      return;
    }
    StartWrite(&out_);
  }

  CallsInFlight* const calls_;
  const std::string archive_;  // never empty: an archive has a header
  size_t sent_ = 0;
  grpc::ByteBuffer out_;  // the write in flight
};

// Client stream of one session archive: the chunks are joined (up to
// max_import_bytes) and imported once the client closes its side. A
// shutdown (StoppableReadReactor) ends a stream whose read is pending at
// once and one whose chunk is in hand right after it; an import already
// running (the client closed its side) is answered with its result.
class ImportReactor final : public StoppableReadReactor {
 public:
  ImportReactor(grpc::CallbackServerContext* context, SessionManager* sessions, std::string tenant,
                CallsInFlight* calls, grpc::ByteBuffer* response_bytes)
      : StoppableReadReactor(calls),
        context_(context),
        sessions_(sessions),
        tenant_(std::move(tenant)),
        response_bytes_(response_bytes) {
    Begin();
  }

 private:
  absl::Status Stopped() const override {
    return absl::UnavailableError(
        "server is shutting down: this import stream was stopped before its end and imported "
        "nothing; retry on another replica");
  }

  // Takes the chunk just read.
  absl::Status OnMessage() override {
    aad::v1::ImportSessionRequest request;
    ++messages_;
    RETURN_IF_ERROR(
        ParseRequest(*bytes(), &request, absl::StrCat("import message ", messages_)));
    bytes()->Clear();
    if (messages_ == 1) {
      ASSIGN_OR_RETURN(id_, SessionIdOf(context_, request.session_id()));
    }
    const int64_t limit = sessions_->options().max_import_bytes;
    const int64_t size = static_cast<int64_t>(archive_.size() + request.chunk().size());
    if (size > limit) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the session archive exceeds ", limit,
                       " bytes (--max_import_bytes) after ", messages_, " messages"));
    }
    archive_.append(request.chunk());
    return absl::OkStatus();
  }

  // The answer once the client closed its side: the import's (a Stop()
  // meanwhile waits for it).
  grpc::Status OnClosed() override {
    if (context_->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "import stream cancelled");
    }
    if (messages_ == 0) {
      return ToGrpcStatus(absl::InvalidArgumentError("import stream had no messages"));
    }
    // Decoding and rebuilding the session (its pool scores) runs here, on a
    // gRPC callback thread: an import is rare and bounded by the limits.
    auto session =
        sessions_->Import(archive_, id_, absl::StrCat("imported archive (", archive_.size(),
                                                      " bytes)"),
                           tenant_);
    if (!session.ok()) {
      LogWarning(id_, absl::StrCat("import: ", session.status().message()));
      return ToGrpcStatus(session.status());
    }
    aad::v1::ImportSessionResponse response;
    ToProto((*session)->Info(), response.mutable_session());
    return SerializeTo(response, response_bytes_);
  }

  grpc::CallbackServerContext* const context_;
  SessionManager* const sessions_;
  const std::string tenant_;  // the caller, authenticated by the service
  grpc::ByteBuffer* const response_bytes_;
  // Touched by one callback at a time.
  int64_t messages_ = 0;
  std::string id_;  // from the first message (or the metadata); empty: the archive's
  std::string archive_;
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* NewExportReactor(CallsInFlight* calls,
                                                             std::string archive) {
  return new ExportReactor(calls, std::move(archive));
}

grpc::ServerReadReactor<grpc::ByteBuffer>* NewImportReactor(grpc::CallbackServerContext* context,
                                                            SessionManager* sessions,
                                                            std::string tenant,
                                                            CallsInFlight* calls,
                                                            grpc::ByteBuffer* response) {
  return new ImportReactor(context, sessions, std::move(tenant), calls, response);
}

}  // namespace aad
