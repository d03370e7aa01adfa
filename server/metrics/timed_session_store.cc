#include "server/metrics/timed_session_store.h"

#include <chrono>

namespace aad {

template <typename Write>
auto TimedSessionStore::Timed(Write write) {
  const auto start = std::chrono::steady_clock::now();
  auto result = write();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  metrics_->StoreCommit(elapsed.count());
  return result;
}

absl::Status TimedSessionStore::CreateSession(const std::string& id,
                                              const SessionOptions& options,
                                              int64_t created_micros,
                                              const std::string& tenant) {
  return Timed([&] { return store_->CreateSession(id, options, created_micros, tenant); });
}

absl::Status TimedSessionStore::PutSession(const SessionRecord& record) {
  return Timed([&] { return store_->PutSession(record); });
}

absl::Status TimedSessionStore::DeleteSession(const std::string& id) {
  return Timed([&] { return store_->DeleteSession(id); });
}

absl::StatusOr<AppendResult> TimedSessionStore::AppendBatch(const std::string& session,
                                                            const BatchRecord& batch) {
  return Timed([&] { return store_->AppendBatch(session, batch); });
}

absl::Status TimedSessionStore::SetFeatureNames(const std::string& session,
                                                const std::vector<std::string>& names) {
  return Timed([&] { return store_->SetFeatureNames(session, names); });
}

absl::Status TimedSessionStore::PutLabels(const std::string& session,
                                          absl::Span<const LabelRecord> labels) {
  return Timed([&] { return store_->PutLabels(session, labels); });
}

absl::Status TimedSessionStore::PutModel(const std::string& session, const ModelRecord& model,
                                         int64_t finished_run) {
  return Timed([&] { return store_->PutModel(session, model, finished_run); });
}

absl::StatusOr<int64_t> TimedSessionStore::BeginTraining(const std::string& session,
                                                         TrainingState kind,
                                                         int64_t started_micros) {
  return Timed([&] { return store_->BeginTraining(session, kind, started_micros); });
}

absl::Status TimedSessionStore::FinishTraining(const std::string& session, int64_t run_id,
                                               const std::string& outcome) {
  return Timed([&] { return store_->FinishTraining(session, run_id, outcome); });
}

}  // namespace aad
