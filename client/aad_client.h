// The C++ client of aadd: one class over the generated stub that adds
// deadlines, retries of idempotent calls with exponential backoff, batched
// ingest with batch ids (so a retried stream stores each batch once), the
// `x-session-id` metadata on every session call (for session-affine
// routing), and absl::Status errors carrying the server's message.
#ifndef AADD_CLIENT_AAD_CLIENT_H_
#define AADD_CLIENT_AAD_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>

#include "aad/v1/aad.grpc.pb.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace aad {

struct ClientOptions {
  // host:port of the server.
  std::string target = "localhost:50051";
  // Deadline of every call but Train (which has train_timeout).
  std::chrono::milliseconds timeout{60'000};
  // Deadline of Train; zero = none (cancel by other means).
  std::chrono::milliseconds train_timeout{0};
  // Attempts of an idempotent call that fails with UNAVAILABLE.
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{100};
  // Rows per Ingest message.
  int64_t ingest_batch_rows = 4096;
  // Largest reply accepted (candidates carry rows).
  int max_receive_message_bytes = 256 << 20;

  // TLS (aadd --tls_cert): on when use_tls or any file below is given.
  bool use_tls = false;
  // PEM CA file that signed the server's certificate; empty: the system's roots.
  std::string tls_ca_file;
  // Client certificate and its key (PEM), for a server that requires them
  // (aadd --tls_client_ca, mutual TLS); both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;
  // The name checked against the server's certificate instead of the
  // target's host (e.g. the certificate's DNS name when dialling an IP).
  std::string tls_server_name;
  // Bearer token for a server with --auth_tokens, sent on every call as
  // "authorization: Bearer TOKEN" metadata (gRPC drops call credentials on
  // an insecure channel). Empty: none.
  std::string token;
};

// grpc::Status -> absl::Status, same code and message. Pure.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Thread-safe: the stub and channel are; the class holds no other state.
class AadClient {
 public:
  // Opens a channel to options.target (connects lazily), reading the TLS
  // files first: INVALID_ARGUMENT naming the option and file when one
  // cannot be read, or when tls_cert_file and tls_key_file are not both
  // given or both empty.
  static absl::StatusOr<std::unique_ptr<AadClient>> Create(const ClientOptions& options);
  // Opens a channel to options.target (connects lazily). When the TLS
  // files cannot be read, every call fails (INVALID_ARGUMENT, gRPC's
  // "Invalid credentials"): use Create to learn why.
  explicit AadClient(const ClientOptions& options);
  // Uses an existing channel (tests, in-process servers).
  AadClient(std::shared_ptr<grpc::Channel> channel, const ClientOptions& options);

  absl::StatusOr<aad::v1::SessionInfo> CreateSession(const aad::v1::CreateSessionRequest& request);
  absl::StatusOr<aad::v1::SessionInfo> GetSession(const std::string& session_id);
  // Every session, all pages.
  absl::StatusOr<std::vector<aad::v1::SessionInfo>> ListSessions();
  absl::Status DeleteSession(const std::string& session_id);

  // Streams rows (values: rows x feature_count, row-major) in batches of
  // ingest_batch_rows with ids "<prefix>-<n>" (prefix random unless given),
  // retrying the whole stream on UNAVAILABLE: the server stores each batch
  // once. `feature_names` (a CSV header; empty: none) go in the first
  // message: a session without names takes them, one with names must have
  // the same (INVALID_ARGUMENT otherwise, nothing stored). Returns the
  // server's reply (one entry per batch sent last).
  absl::StatusOr<aad::v1::IngestResponse> Ingest(
      const std::string& session_id, absl::Span<const float> values, int64_t feature_count,
      std::string batch_prefix = "", const std::vector<std::string>& feature_names = {});
  // Sends prepared messages on one stream, once (no retry). For callers that
  // build batches themselves, and for tests.
  absl::StatusOr<aad::v1::IngestResponse> IngestMessages(
      const std::string& session_id, const std::vector<aad::v1::IngestRequest>& messages);
  // Sends the messages `next` returns, each as soon as it returns it, on one
  // stream, once (no retry), until it returns null; the server stores each
  // batch as it arrives. A message is sent before `next` is called again,
  // so the caller may refill the same one (no allocation per batch). For
  // callers that make batches while the stream is open (a CSV file read in
  // chunks: client/csv_ingest.h).
  absl::StatusOr<aad::v1::IngestResponse> IngestStream(
      const std::string& session_id, const std::function<const aad::v1::IngestRequest*()>& next);

  // Full training; `on_progress` (may be empty) sees every progress message;
  // `pretrain_epochs` overrides the session's setting for this run.
  // Returns the new model version. Not retried (training is not idempotent
  // in cost). `context_hook` (may be empty) sees the call's context before
  // it starts, e.g. to cancel it from another thread.
  absl::StatusOr<int64_t> Train(
      const std::string& session_id,
      const std::function<void(const aad::v1::TrainResponse&)>& on_progress = {},
      const std::function<void(grpc::ClientContext*)>& context_hook = {},
      std::optional<int> pretrain_epochs = std::nullopt);

  absl::StatusOr<aad::v1::ScoreResponse> ScoreRows(const std::string& session_id,
                                                   absl::Span<const float> values,
                                                   int64_t feature_count);
  absl::StatusOr<aad::v1::ScoreResponse> ScorePoolRows(const std::string& session_id,
                                                       absl::Span<const int64_t> row_ids);
  absl::StatusOr<aad::v1::GetQueryCandidatesResponse> GetQueryCandidates(
      const std::string& session_id, int k,
      aad::v1::QueryStrategy strategy = aad::v1::QUERY_STRATEGY_UNSPECIFIED,
      std::optional<uint64_t> seed = std::nullopt,
      // Features named in each explanation; unset: the server's default (5).
      std::optional<int> explain_top = std::nullopt);
  // (row id, anomaly) pairs. Retried: a relabel replaces, so resending is safe.
  absl::StatusOr<aad::v1::SubmitLabelsResponse> SubmitLabels(
      const std::string& session_id, const std::vector<std::pair<int64_t, bool>>& labels,
      bool wait_for_model);
  // Labels as sent, withdrawals (Label.withdraw, undo) among them. Retried
  // only when none withdraws: a retry after a lost reply would find the
  // withdrawn row unlabelled and answer NOT_FOUND. (Not an overload of
  // SubmitLabels: {{row, anomaly}} would also match a Label constructor.)
  absl::StatusOr<aad::v1::SubmitLabelsResponse> SubmitLabelMessages(
      const std::string& session_id, const std::vector<aad::v1::Label>& labels,
      bool wait_for_model);

  // The session as one archive (ExportSession's chunks joined; the bytes
  // `aadctl export` writes). Retried on UNAVAILABLE. DATA_LOSS when the
  // stream ends short of the size the server announced.
  absl::StatusOr<std::string> ExportSession(const std::string& session_id);
  // Creates a session from archive bytes, streamed in 1 MiB chunks.
  // `session_id` names it; empty keeps the archive's id, but then no
  // x-session-id travels with the call: behind a session-affine proxy pass
  // the archive's id (aadctl import reads it from the file). Not retried: a
  // retry after a lost reply would answer ALREADY_EXISTS.
  absl::StatusOr<aad::v1::SessionInfo> ImportSession(absl::string_view archive,
                                                     const std::string& session_id);

  // grpc.health.v1 Check of the whole server: "SERVING", "NOT_SERVING"...
  absl::StatusOr<std::string> Health();

  aad::v1::ActiveAnomalyDetection::Stub* stub() { return stub_.get(); }
  const ClientOptions& options() const { return options_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  // One retried Score call (scoring is idempotent).
  absl::StatusOr<aad::v1::ScoreResponse> Score(const std::string& session_id,
                                               const aad::v1::ScoreRequest& request);
  // Fills deadline and x-session-id metadata.
  void Prepare(grpc::ClientContext* context, const std::string& session_id,
               std::chrono::milliseconds timeout) const;
  // Runs `call` until it succeeds, fails with a code other than
  // UNAVAILABLE, or max_attempts is spent.
  absl::Status Retry(const std::function<grpc::Status()>& call) const;

  const ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<aad::v1::ActiveAnomalyDetection::Stub> stub_;
};

}  // namespace aad

#endif  // AADD_CLIENT_AAD_CLIENT_H_
