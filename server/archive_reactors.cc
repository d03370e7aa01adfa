#include "server/archive_reactors.h"

#include <algorithm>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "server/call_routing.h"
#include "server/log.h"
#include "server/mutex.h"
#include "server/proto_convert.h"
#include "server/status_mapping.h"

namespace aad {
namespace {

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

grpc::ServerWriteReactor<v1::ExportSessionResponse>* NewExportReactor(std::string archive) {
  return new ExportReactor(std::move(archive));
}

grpc::ServerReadReactor<v1::ImportSessionRequest>* NewImportReactor(
    grpc::CallbackServerContext* context, SessionManager* sessions,
    v1::ImportSessionResponse* response) {
  return new ImportReactor(context, sessions, response);
}

}  // namespace aad
