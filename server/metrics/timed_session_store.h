// A SessionStore that times every durable write transaction of another
// (aadd_store_commit_seconds) and forwards everything unchanged: the
// stores stay free of metrics, and any store, SQLite or in memory, is
// timed the same way. Reads are not timed.
#ifndef AADD_SERVER_METRICS_TIMED_SESSION_STORE_H_
#define AADD_SERVER_METRICS_TIMED_SESSION_STORE_H_

#include <string>
#include <vector>

#include "server/metrics/session_metrics.h"
#include "server/storage/session_store.h"

namespace aad {

class TimedSessionStore final : public SessionStore {
 public:
  // Neither is owned; both must outlive this store.
  TimedSessionStore(SessionStore* store, SessionMetrics* metrics)
      : store_(store), metrics_(metrics) {}

  absl::Status CreateSession(const std::string& id, const SessionOptions& options,
                             int64_t created_micros, const std::string& tenant) override;
  absl::Status PutSession(const SessionRecord& record) override;
  absl::Status DeleteSession(const std::string& id) override;
  absl::StatusOr<AppendResult> AppendBatch(const std::string& session,
                                           const BatchRecord& batch) override;
  absl::Status SetFeatureNames(const std::string& session,
                               const std::vector<std::string>& names) override;
  absl::Status PutLabels(const std::string& session,
                         absl::Span<const LabelRecord> labels) override;
  absl::Status PutModel(const std::string& session, const ModelRecord& model,
                        int64_t finished_run) override;
  absl::StatusOr<int64_t> BeginTraining(const std::string& session, TrainingState kind,
                                        int64_t started_micros) override;
  absl::Status FinishTraining(const std::string& session, int64_t run_id,
                              const std::string& outcome) override;
  absl::StatusOr<std::vector<SessionSummary>> ListSessions() override {
    return store_->ListSessions();
  }
  absl::StatusOr<SessionRecord> LoadSession(const std::string& id) override {
    return store_->LoadSession(id);
  }

 private:
  // Runs `write` and reports how long it took, whatever its outcome.
  template <typename Write>
  auto Timed(Write write);

  SessionStore* const store_;
  SessionMetrics* const metrics_;
};

}  // namespace aad

#endif  // AADD_SERVER_METRICS_TIMED_SESSION_STORE_H_
