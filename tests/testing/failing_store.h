// A SessionStore that fails every write while `fail` is set (a full disk,
// a failing device) and otherwise forwards to an in-memory store; reads and
// training-run markers always work. For the tests of what a store error
// does to a session and to the service.
#ifndef AADD_TESTS_TESTING_FAILING_STORE_H_
#define AADD_TESTS_TESTING_FAILING_STORE_H_

#include <atomic>
#include <string>
#include <vector>

#include "server/storage/memory_session_store.h"

namespace aad::testing {

class FailingStore final : public aad::SessionStore {
 public:
  std::atomic<bool> fail{false};

  absl::Status CreateSession(const std::string& id, const aad::SessionOptions& options,
                             int64_t created_micros, const std::string& tenant) override {
    if (fail) return Full();
    return inner_.CreateSession(id, options, created_micros, tenant);
  }
  absl::Status PutSession(const aad::SessionRecord& record) override {
    if (fail) return Full();
    return inner_.PutSession(record);
  }
  absl::Status DeleteSession(const std::string& id) override {
    if (fail) return absl::UnavailableError("test store: device failing");
    return inner_.DeleteSession(id);
  }
  absl::StatusOr<aad::AppendResult> AppendBatch(const std::string& session,
                                                 const aad::BatchRecord& batch) override {
    if (fail) return Full();
    return inner_.AppendBatch(session, batch);
  }
  absl::Status SetFeatureNames(const std::string& session,
                               const std::vector<std::string>& names) override {
    if (fail) return Full();
    return inner_.SetFeatureNames(session, names);
  }
  absl::Status PutLabels(const std::string& session,
                         absl::Span<const aad::LabelRecord> labels) override {
    if (fail) return Full();
    return inner_.PutLabels(session, labels);
  }
  absl::Status PutModel(const std::string& session, const aad::ModelRecord& model,
                        int64_t finished_run) override {
    if (fail) return Full();
    return inner_.PutModel(session, model, finished_run);
  }
  absl::StatusOr<int64_t> BeginTraining(const std::string& session, aad::TrainingState kind,
                                        int64_t started_micros) override {
    return inner_.BeginTraining(session, kind, started_micros);
  }
  absl::Status FinishTraining(const std::string& session, int64_t run_id,
                              const std::string& outcome) override {
    return inner_.FinishTraining(session, run_id, outcome);
  }
  absl::StatusOr<std::vector<aad::SessionSummary>> ListSessions() override {
    return inner_.ListSessions();
  }
  absl::StatusOr<aad::SessionRecord> LoadSession(const std::string& id) override {
    return inner_.LoadSession(id);
  }

 private:
  static absl::Status Full() {
    return absl::ResourceExhaustedError("test store: disk full writing /test/aadd.db");
  }
  aad::MemorySessionStore inner_;
};

}  // namespace aad::testing

#endif  // AADD_TESTS_TESTING_FAILING_STORE_H_
