// MemorySessionStore: a SessionStore that keeps everything in process
// memory. Nothing survives the process; it serves tests and an aadd started
// without --data_dir, with exactly the SQLite store's semantics (the same
// contract tests run against both).
#ifndef AADD_SERVER_STORAGE_MEMORY_SESSION_STORE_H_
#define AADD_SERVER_STORAGE_MEMORY_SESSION_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "server/mutex.h"
#include "server/storage/batch_index.h"
#include "server/storage/float_blocks.h"
#include "server/storage/session_store.h"

namespace aad {

// Thread-safe; see SessionStore for the contract of each method.
class MemorySessionStore final : public SessionStore {
 public:
  MemorySessionStore() = default;
  MemorySessionStore(const MemorySessionStore&) = delete;
  MemorySessionStore& operator=(const MemorySessionStore&) = delete;

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
  absl::StatusOr<std::vector<SessionSummary>> ListSessions() override;
  absl::StatusOr<SessionRecord> LoadSession(const std::string& id) override;

 private:
  // A session's rows are kept in one FloatBlocks (blocks that never move:
  // no spare capacity or left-behind buffers of a doubling vector) and its
  // batches as a BatchIndex, not as one BatchRecord each: with batches of
  // 1-6 rows a record (its struct, its own values and id allocations and an
  // index entry) cost ~250 bytes a batch on top of the rows. LoadSession
  // cuts the rows back into the batches, ids and order as stored.
  struct Stored {
    // batches and labels are left empty: the rows are in `values`, the
    // batches in `batches`, the labels derived from the history on load.
    SessionRecord record;
    FloatBlocks values;          // every stored row, row-major
    int64_t rows = 0;            // values.size() / feature_count
    int64_t feature_count = 0;   // of the stored rows; 0 before the first batch
    BatchIndex batches;          // batch id -> its rows, in row order
    std::map<int64_t, TrainingRunRecord> open_runs;  // begun, not finished
    int64_t next_run_id = 1;
  };

  // Appends a validated batch at the end of the stored rows.
  static void AppendRows(Stored* stored, const BatchRecord& batch);
  // The session's width: its batches', or the one fixed at creation (0
  // while neither exists).
  static int64_t StoredFeatureCount(const Stored& stored);

  // NOT_FOUND naming the session when unknown.
  absl::StatusOr<Stored*> FindLocked(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  std::map<std::string, Stored> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_MEMORY_SESSION_STORE_H_
