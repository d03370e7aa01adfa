// SessionStore: where sessions live across restarts. A narrow, pure
// interface so that the service never knows which store it talks to: the
// embedded SQLite store (sqlite_session_store.h) is the default, the
// in-memory one (memory_session_store.h) serves tests and --data_dir unset,
// and the PostgreSQL store (postgres_session_store.h) is shared by several
// replicas, which take its sessions over from one another by lease
// (session_leases.h).
//
// Contract for every implementation:
// - Thread-safe: any method may be called from any thread concurrently.
// - Durable acknowledgement: a write returns OK only after its transaction
//   has committed (for a durable store: is on stable storage). A write that
//   returns an error has changed nothing: there is never a half-stored
//   batch, label submission or model.
// - Error codes: NOT_FOUND (unknown session or row), ALREADY_EXISTS (session
//   id taken; batch id reused with other sizes), INVALID_ARGUMENT (malformed
//   record), FAILED_PRECONDITION (a write out of order: rows not contiguous,
//   model version not newer), RESOURCE_EXHAUSTED (disk or quota full),
//   UNAVAILABLE (storage read-only, busy or failing), DATA_LOSS (corrupt
//   storage, naming the file). Messages name the session and the value.
// - Callers order writes per session (the Session serialises its own
//   appends); the store checks that order rather than reordering.
#ifndef AADD_SERVER_STORAGE_SESSION_STORE_H_
#define AADD_SERVER_STORAGE_SESSION_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "format/session_record.h"

namespace aad {

struct AppendResult {
  int64_t first_row_id = 0;  // of the stored batch (the earlier one when duplicate)
  int64_t row_count = 0;
  bool duplicate = false;  // the batch id was stored before; nothing written
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // Stores a new, empty session owned by `tenant` ("" the anonymous
  // tenant). ALREADY_EXISTS when `id` is taken.
  virtual absl::Status CreateSession(const std::string& id, const SessionOptions& options,
                                     int64_t created_micros, const std::string& tenant) = 0;

  // Stores a whole session at once (import), owned by record.tenant: all
  // or nothing. ALREADY_EXISTS
  // when record.id is taken; DATA_LOSS/INVALID_ARGUMENT when the record is
  // inconsistent (ValidateSessionRecord). Interrupted-training markers in
  // the record are not stored.
  virtual absl::Status PutSession(const SessionRecord& record) = 0;

  // Removes the session and every row of its data. NOT_FOUND when unknown.
  virtual absl::Status DeleteSession(const std::string& id) = 0;

  // Appends a batch. Idempotent by batch id: a batch id stored before with
  // the same row and feature counts writes nothing and answers the stored
  // first row id with duplicate = true; with other counts, ALREADY_EXISTS.
  // A new batch must start at the session's row count (FAILED_PRECONDITION
  // otherwise, naming both) and have the feature count of earlier batches.
  virtual absl::StatusOr<AppendResult> AppendBatch(const std::string& session,
                                                   const BatchRecord& batch) = 0;

  // Gives a session stored without feature names its names (the first
  // Ingest of a CSV file sends its header), in one transaction: the stored
  // options hold them from then on (restart, export), and a session whose
  // feature count was not fixed yet gets names.size(). Set once: the same
  // names again write nothing (a retried stream), others are
  // FAILED_PRECONDITION naming the first that differs. INVALID_ARGUMENT
  // when they fail ValidateFeatureNames against the stored feature count
  // (names.size() while none is fixed). NOT_FOUND for an unknown session.
  virtual absl::Status SetFeatureNames(const std::string& session,
                                       const std::vector<std::string>& names) = 0;

  // Appends label submissions, in order, to the session's history (one
  // transaction for the whole span), withdrawals included. Every row id
  // must name a stored row, and every withdrawal a row with a label just
  // before it (CheckWithdrawals): NOT_FOUND otherwise, nothing stored, so
  // that a stored history always passes ValidateSessionRecord.
  virtual absl::Status PutLabels(const std::string& session,
                                 absl::Span<const LabelRecord> labels) = 0;

  // Publishes a model: it replaces the stored one in one transaction, so a
  // reader (or a restart) sees the old model or the new one, never a part.
  // model.version must exceed the stored version (FAILED_PRECONDITION).
  // `finished_run` > 0 also marks that training run finished, atomically;
  // 0 names no run.
  virtual absl::Status PutModel(const std::string& session, const ModelRecord& model,
                                int64_t finished_run) = 0;

  // Records that a training run starts; returns its run id (> 0). Until
  // FinishTraining (or a PutModel naming it) the run counts as interrupted
  // in LoadSession, which is how recovery learns that the process died
  // during training. `kind` is kTraining or kUpdating (INVALID_ARGUMENT for
  // kIdle).
  virtual absl::StatusOr<int64_t> BeginTraining(const std::string& session, TrainingState kind,
                                                int64_t started_micros) = 0;
  // Closes a run, whatever its outcome (failed, cancelled, interrupted and
  // reported). `outcome` is kept for diagnosis. NOT_FOUND for an unknown run.
  virtual absl::Status FinishTraining(const std::string& session, int64_t run_id,
                                      const std::string& outcome) = 0;

  // Every stored session, ordered by id, with its tenant.
  virtual absl::StatusOr<std::vector<SessionSummary>> ListSessions() = 0;

  // Everything stored for one session, its tenant too. NOT_FOUND when
  // unknown.
  virtual absl::StatusOr<SessionRecord> LoadSession(const std::string& id) = 0;
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_SESSION_STORE_H_
