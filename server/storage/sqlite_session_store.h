// SqliteSessionStore: the embedded, durable SessionStore. One SQLite
// database file, DIR/aadd.db, in WAL mode with synchronous=FULL, so that a
// write acknowledged (committed) survives a crash of the process and of the
// machine. Row batches and models are blobs; options are the versioned text
// of session_options_codec.h.
//
// The data directory is locked (flock on DIR/LOCK) for the store's lifetime:
// a second aadd on the same directory fails at Open() instead of corrupting
// the first one's view of its sessions.
//
// Not fork-safe: a child process must not use a store its parent opened.
#ifndef AADD_SERVER_STORAGE_SQLITE_SESSION_STORE_H_
#define AADD_SERVER_STORAGE_SQLITE_SESSION_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/mutex.h"
#include "server/storage/session_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace aad {

struct SqliteStoreOptions {
  // Runs PRAGMA quick_check at Open(): finds corruption anywhere in the file
  // at start, at the cost of reading the whole file (bench/README.md).
  // Without it, corruption surfaces as DATA_LOSS when the damaged pages are
  // read (a full restore at start reads every session anyway).
  bool verify_on_open = false;
  // How long a statement waits for a lock held by another connection (an
  // operator's sqlite3 shell, a backup) before failing with UNAVAILABLE.
  int busy_timeout_ms = 5000;
};

class SqliteSessionStore final : public SessionStore {
 public:
  static constexpr absl::string_view kFileName = "aadd.db";
  static constexpr absl::string_view kLockFileName = "LOCK";
  // PRAGMA user_version of the schema this build writes and reads.
  // Version 2 lets labels.anomaly hold 2, a withdrawal; its tables are
  // version 1's, so Open() upgrades a version 1 file by its marker alone.
  // The marker matters: an aadd that reads version 1 would take a
  // withdrawal for an anomaly, and so must refuse the file instead.
  // Version 3 adds sessions.tenant (issue 14); Open() migrates a version 1
  // or 2 file by adding the column, every existing session getting the
  // anonymous tenant "" (what a server without --auth_tokens serves). An
  // older aadd refuses a version 3 file: it would show every tenant's
  // sessions to anyone.
  static constexpr int kSchemaVersion = 3;
  // PRAGMA application_id marking a file as an aadd store ("AADD").
  static constexpr int kApplicationId = 0x41414444;

  // Opens (creating when missing) the store in `dir`, creating `dir` too.
  // Errors name the path: FAILED_PRECONDITION when `dir` is not a directory,
  // is locked by another process, or the file is not an aadd store or has a
  // newer schema; UNAVAILABLE when it is not writable; DATA_LOSS when the
  // file is corrupt; RESOURCE_EXHAUSTED when the disk is full.
  static absl::StatusOr<std::unique_ptr<SqliteSessionStore>> Open(
      const std::string& dir, const SqliteStoreOptions& options = {});

  // Closes the database and releases the directory lock. No call may be in
  // flight.
  ~SqliteSessionStore() override;

  SqliteSessionStore(const SqliteSessionStore&) = delete;
  SqliteSessionStore& operator=(const SqliteSessionStore&) = delete;

  // The database file, for messages and tests.
  const std::string& path() const { return path_; }

  // Thread-safe; see SessionStore for the contract of each method. Calls are
  // serialised on one connection: SQLite commits one writer at a time
  // anyway, and the fsync of a commit dominates the cost of a write.
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
  class Statement;
  class Transaction;
  struct SessionRow {
    int64_t row_count = 0;
    int64_t feature_count = 0;
    int64_t next_label_seq = 0;
    int64_t next_run_id = 0;
  };

  SqliteSessionStore(std::string path, int lock_fd, sqlite3* db);

  absl::Status Initialize(const SqliteStoreOptions& options) ABSL_LOCKS_EXCLUDED(mu_);
  // The status for SQLite result `rc` from `what`, naming the file.
  absl::Status Error(int rc, absl::string_view what) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The cached prepared statement for `sql` (a string literal: the cache is
  // keyed by its address), reset and with bindings cleared.
  absl::StatusOr<sqlite3_stmt*> Prepare(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Steps a statement: true with a row, false when done.
  absl::StatusOr<bool> Step(sqlite3_stmt* stmt, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StepDone(sqlite3_stmt* stmt, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<SessionRow> FindSessionLocked(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertBatchLocked(const std::string& session, const BatchRecord& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the row's latest stored submission is a verdict (not a
  // withdrawal, and not none).
  absl::StatusOr<bool> RowLabelledLocked(const std::string& session, int64_t row)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertLabelsLocked(const std::string& session, int64_t first_seq,
                                  absl::Span<const LabelRecord> labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status UpsertModelLocked(const std::string& session, const ModelRecord& model)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const std::string path_;
  const int lock_fd_;

  mutable Mutex mu_;
  sqlite3* const db_ ABSL_PT_GUARDED_BY(mu_);
  absl::flat_hash_map<const char*, sqlite3_stmt*> statements_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_SQLITE_SESSION_STORE_H_
