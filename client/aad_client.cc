#include "client/aad_client.h"

#include <algorithm>
#include <future>
#include <thread>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/channel_credentials.h"

namespace aad {
namespace {

constexpr char kSessionMetadata[] = "x-session-id";

std::shared_ptr<grpc::Channel> MakeChannel(const ClientOptions& options,
                                           std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetMaxSendMessageSize(-1);
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  // Null credentials (unreadable TLS files) give a channel whose every
  // call fails.
  return grpc::CreateCustomChannel(options.target, credentials, args);
}

std::shared_ptr<grpc::Channel> MakeChannel(const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ChannelCredentials(options);
  return MakeChannel(options, credentials.ok() ? *credentials : nullptr);
}

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<std::unique_ptr<AadClient>> AadClient::Create(const ClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ChannelCredentials(options);
  if (!credentials.ok()) return credentials.status();
  return std::make_unique<AadClient>(MakeChannel(options, *credentials), options);
}

AadClient::AadClient(const ClientOptions& options) : AadClient(MakeChannel(options), options) {}

AadClient::AadClient(std::shared_ptr<grpc::Channel> channel, const ClientOptions& options)
    : options_(options),
      channel_(std::move(channel)),
      stub_(aad::v1::ActiveAnomalyDetection::NewStub(channel_)) {}

void AadClient::Prepare(grpc::ClientContext* context, const std::string& session_id,
                        std::chrono::milliseconds timeout) const {
  if (timeout.count() > 0) context->set_deadline(std::chrono::system_clock::now() + timeout);
  if (!session_id.empty()) context->AddMetadata(kSessionMetadata, session_id);
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
}

absl::Status AadClient::Retry(const std::function<grpc::Status()>& call) const {
  std::chrono::milliseconds backoff = options_.initial_backoff;
  grpc::Status status;
  for (int attempt = 1;; ++attempt) {
    status = call();
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || attempt >= options_.max_attempts) {
      break;
    }
    // Backoff between attempts of a call the server could not take; this is
    // the client's retry policy, not test synchronisation.
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
  return FromGrpcStatus(status);
}

absl::StatusOr<aad::v1::SessionInfo> AadClient::CreateSession(
    const aad::v1::CreateSessionRequest& request) {
  // The client names the session, and sends the name as x-session-id, so a
  // session-affine proxy creates it on the replica that will serve it. Not
  // retried: a retry after a lost reply would answer ALREADY_EXISTS.
  aad::v1::CreateSessionRequest named = request;
  if (named.session_id().empty()) {
    thread_local absl::BitGen gen;
    named.set_session_id(absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                                         absl::Uniform<uint64_t>(gen)));
  }
  aad::v1::CreateSessionResponse response;
  grpc::ClientContext context;
  Prepare(&context, named.session_id(), options_.timeout);
  absl::Status status = FromGrpcStatus(stub_->CreateSession(&context, named, &response));
  if (!status.ok()) return status;
  return response.session();
}

absl::StatusOr<aad::v1::SessionInfo> AadClient::GetSession(const std::string& session_id) {
  aad::v1::GetSessionRequest request;
  request.set_session_id(session_id);
  aad::v1::GetSessionResponse response;
  absl::Status status = Retry([&] {
    grpc::ClientContext context;
    Prepare(&context, session_id, options_.timeout);
    return stub_->GetSession(&context, request, &response);
  });
  if (!status.ok()) return status;
  return response.session();
}

absl::StatusOr<std::vector<aad::v1::SessionInfo>> AadClient::ListSessions() {
  std::vector<aad::v1::SessionInfo> out;
  aad::v1::ListSessionsRequest request;
  request.set_page_size(100);
  for (;;) {
    aad::v1::ListSessionsResponse response;
    absl::Status status = Retry([&] {
      grpc::ClientContext context;
      Prepare(&context, "", options_.timeout);
      return stub_->ListSessions(&context, request, &response);
    });
    if (!status.ok()) return status;
    out.insert(out.end(), response.sessions().begin(), response.sessions().end());
    if (response.next_page_token().empty()) return out;
    request.set_page_token(response.next_page_token());
  }
}

absl::Status AadClient::DeleteSession(const std::string& session_id) {
  aad::v1::DeleteSessionRequest request;
  request.set_session_id(session_id);
  aad::v1::DeleteSessionResponse response;
  grpc::ClientContext context;
  Prepare(&context, session_id, options_.timeout);
  return FromGrpcStatus(stub_->DeleteSession(&context, request, &response));
}

absl::StatusOr<aad::v1::IngestResponse> AadClient::IngestMessages(
    const std::string& session_id, const std::vector<aad::v1::IngestRequest>& messages) {
  size_t i = 0;
  return IngestStream(session_id, [&]() -> const aad::v1::IngestRequest* {
    return i < messages.size() ? &messages[i++] : nullptr;
  });
}

absl::StatusOr<aad::v1::IngestResponse> AadClient::IngestStream(
    const std::string& session_id, const std::function<const aad::v1::IngestRequest*()>& next) {
  aad::v1::IngestResponse response;
  grpc::ClientContext context;
  Prepare(&context, session_id, options_.timeout);
  auto writer = stub_->Ingest(&context, &response);
  while (const aad::v1::IngestRequest* m = next()) {
    if (!writer->Write(*m)) break;  // the server ended the call: Finish says why
  }
  writer->WritesDone();
  absl::Status status = FromGrpcStatus(writer->Finish());
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<aad::v1::IngestResponse> AadClient::Ingest(
    const std::string& session_id, absl::Span<const float> values, int64_t feature_count,
    std::string batch_prefix, const std::vector<std::string>& feature_names) {
  if (feature_count <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature_count must be > 0, got ", feature_count));
  }
  if (batch_prefix.empty()) {
    absl::BitGen gen;
    batch_prefix = absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
  }
  const int64_t rows = static_cast<int64_t>(values.size()) / feature_count;
  const int64_t per = std::max<int64_t>(1, options_.ingest_batch_rows);
  std::vector<aad::v1::IngestRequest> messages;
  for (int64_t first = 0, n = 0; first < rows; first += per, ++n) {
    const int64_t len = std::min(per, rows - first);
    aad::v1::IngestRequest m;
    m.set_session_id(session_id);
    m.set_batch_id(absl::StrCat(batch_prefix, "-", n));
    m.set_feature_count(static_cast<int32_t>(feature_count));
    m.mutable_values()->Assign(values.begin() + first * feature_count,
                               values.begin() + (first + len) * feature_count);
    // The server takes names in the first message only.
    if (n == 0) m.mutable_feature_names()->Assign(feature_names.begin(), feature_names.end());
    messages.push_back(std::move(m));
  }
  if (messages.empty()) {
    return absl::InvalidArgumentError("nothing to ingest: no rows");
  }
  absl::StatusOr<aad::v1::IngestResponse> result;
  std::chrono::milliseconds backoff = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    result = IngestMessages(session_id, messages);
    if (result.ok() || result.status().code() != absl::StatusCode::kUnavailable ||
        attempt >= options_.max_attempts) {
      return result;
    }
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

absl::StatusOr<int64_t> AadClient::Train(
    const std::string& session_id,
    const std::function<void(const aad::v1::TrainResponse&)>& on_progress,
    const std::function<void(grpc::ClientContext*)>& context_hook,
    std::optional<int> pretrain_epochs) {
  aad::v1::TrainRequest request;
  request.set_session_id(session_id);
  if (pretrain_epochs.has_value()) request.set_pretrain_epochs(*pretrain_epochs);
  grpc::ClientContext context;
  Prepare(&context, session_id, options_.train_timeout);
  if (context_hook) context_hook(&context);
  auto reader = stub_->Train(&context, request);
  aad::v1::TrainResponse message;
  int64_t version = 0;
  while (reader->Read(&message)) {
    if (message.done()) version = message.model_version();
    if (on_progress) on_progress(message);
  }
  absl::Status status = FromGrpcStatus(reader->Finish());
  if (!status.ok()) return status;
  if (version == 0) return absl::InternalError("training stream ended without a model version");
  return version;
}

absl::StatusOr<aad::v1::ScoreResponse> AadClient::Score(const std::string& session_id,
                                                        const aad::v1::ScoreRequest& request) {
  aad::v1::ScoreResponse response;
  absl::Status status = Retry([&] {
    grpc::ClientContext context;
    Prepare(&context, session_id, options_.timeout);
    return stub_->Score(&context, request, &response);
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<aad::v1::ScoreResponse> AadClient::ScoreRows(const std::string& session_id,
                                                            absl::Span<const float> values,
                                                            int64_t feature_count) {
  aad::v1::ScoreRequest request;
  request.set_session_id(session_id);
  request.set_feature_count(static_cast<int32_t>(feature_count));
  request.mutable_values()->Assign(values.begin(), values.end());
  return Score(session_id, request);
}

absl::StatusOr<aad::v1::ScoreResponse> AadClient::ScorePoolRows(
    const std::string& session_id, absl::Span<const int64_t> row_ids) {
  aad::v1::ScoreRequest request;
  request.set_session_id(session_id);
  request.mutable_row_ids()->Assign(row_ids.begin(), row_ids.end());
  return Score(session_id, request);
}

absl::StatusOr<aad::v1::GetQueryCandidatesResponse> AadClient::GetQueryCandidates(
    const std::string& session_id, int k, aad::v1::QueryStrategy strategy,
    std::optional<uint64_t> seed, std::optional<int> explain_top) {
  aad::v1::GetQueryCandidatesRequest request;
  request.set_session_id(session_id);
  request.set_k(k);
  request.set_strategy(strategy);
  if (seed.has_value()) request.set_seed(*seed);
  if (explain_top.has_value()) request.set_explain_top(*explain_top);
  aad::v1::GetQueryCandidatesResponse response;
  absl::Status status = Retry([&] {
    grpc::ClientContext context;
    Prepare(&context, session_id, options_.timeout);
    return stub_->GetQueryCandidates(&context, request, &response);
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<aad::v1::SubmitLabelsResponse> AadClient::SubmitLabels(
    const std::string& session_id, const std::vector<std::pair<int64_t, bool>>& labels,
    bool wait_for_model) {
  std::vector<aad::v1::Label> verdicts(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    verdicts[i].set_row_id(labels[i].first);
    verdicts[i].set_anomaly(labels[i].second);
  }
  return SubmitLabelMessages(session_id, verdicts, wait_for_model);
}

absl::StatusOr<aad::v1::SubmitLabelsResponse> AadClient::SubmitLabelMessages(
    const std::string& session_id, const std::vector<aad::v1::Label>& labels,
    bool wait_for_model) {
  aad::v1::SubmitLabelsRequest request;
  request.set_session_id(session_id);
  request.set_wait_for_model(wait_for_model);
  bool withdraws = false;
  for (const aad::v1::Label& l : labels) {
    *request.add_labels() = l;
    withdraws = withdraws || l.withdraw();
  }
  aad::v1::SubmitLabelsResponse response;
  auto call = [&] {
    grpc::ClientContext context;
    Prepare(&context, session_id, options_.timeout);
    return stub_->SubmitLabels(&context, request, &response);
  };
  absl::Status status = withdraws ? FromGrpcStatus(call()) : Retry(call);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<std::string> AadClient::ExportSession(const std::string& session_id) {
  aad::v1::ExportSessionRequest request;
  request.set_session_id(session_id);
  std::string archive;
  int64_t announced = 0;
  absl::Status status = Retry([&] {
    archive.clear();
    grpc::ClientContext context;
    Prepare(&context, session_id, options_.timeout);
    auto reader = stub_->ExportSession(&context, request);
    aad::v1::ExportSessionResponse message;
    bool first = true;
    while (reader->Read(&message)) {
      if (first) {
        announced = message.total_bytes();
        if (announced > 0) archive.reserve(static_cast<size_t>(announced));
        first = false;
      }
      archive.append(message.chunk());
    }
    return reader->Finish();
  });
  if (!status.ok()) return status;
  if (static_cast<int64_t>(archive.size()) != announced) {
    return absl::DataLossError(absl::StrCat("export of session ", session_id, " ended after ",
                                            archive.size(), " of ", announced, " bytes"));
  }
  return archive;
}

absl::StatusOr<aad::v1::SessionInfo> AadClient::ImportSession(absl::string_view archive,
                                                              const std::string& session_id) {
  constexpr size_t kChunkBytes = size_t{1} << 20;
  aad::v1::ImportSessionResponse response;
  grpc::ClientContext context;
  Prepare(&context, session_id, options_.timeout);
  auto writer = stub_->ImportSession(&context, &response);
  aad::v1::ImportSessionRequest message;
  message.set_session_id(session_id);
  // At least one message, even for empty bytes: the server then names the
  // problem (not an archive) instead of an empty stream.
  size_t sent = 0;
  do {
    const size_t n = std::min(kChunkBytes, archive.size() - sent);
    message.set_chunk(archive.data() + sent, n);
    sent += n;
    if (!writer->Write(message)) break;  // the server ended the call: Finish says why
    message.clear_session_id();
  } while (sent < archive.size());
  writer->WritesDone();
  absl::Status status = FromGrpcStatus(writer->Finish());
  if (!status.ok()) return status;
  return response.session();
}

absl::StatusOr<std::string> AadClient::Health() {
  // grpc.health.v1 through the generic stub: Debian ships no generated
  // health stubs. HealthCheckRequest{service: ""} encodes to zero bytes;
  // the reply is HealthCheckResponse{status = field 1, varint}.
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  Prepare(&context, "", options_.timeout);
  grpc::ByteBuffer request, response;
  {
    grpc::Slice empty;
    request = grpc::ByteBuffer(&empty, 1);
  }
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  absl::Status status = FromGrpcStatus(done.get_future().get());
  if (!status.ok()) return status;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::InternalError("unreadable health reply");
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  int value = 0;  // proto3 omits a zero enum: UNKNOWN
  if (bytes.size() >= 2 && bytes[0] == 0x08) value = static_cast<unsigned char>(bytes[1]);
  switch (value) {
    case 1: return std::string("SERVING");
    case 2: return std::string("NOT_SERVING");
    case 3: return std::string("SERVICE_UNKNOWN");
    default: return std::string("UNKNOWN");
  }
}

}  // namespace aad
