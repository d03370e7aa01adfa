// The SQLite store's writes: each acknowledged write is one transaction
// (synchronous=FULL), checked and checksummed before it is stored.
#include <sqlite3.h>

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "format/crc32.h"
#include "format/feature_names.h"
#include "format/session_options_codec.h"
#include "server/storage/write_rules.h"
#include "server/storage/sqlite_schema.h"
#include "server/storage/sqlite_session_store.h"
#include "server/storage/sqlite_statement.h"

namespace aad {

absl::Status SqliteSessionStore::CreateSession(const std::string& id,
                                               const SessionOptions& options,
                                               int64_t created_micros,
                                               const std::string& tenant) {
  if (id.empty()) return absl::InvalidArgumentError("session id is empty");
  const std::string encoded = EncodeSessionOptions(options);
  MutexLock lock(&mu_);
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT 1 FROM sessions WHERE id = ?1"));
    Statement stmt(s);
    BindText(s, 1, id);
    ASSIGN_OR_RETURN(bool exists, Step(s, "look up session"));
    if (exists) {
      return absl::AlreadyExistsError(absl::StrCat("session '", id, "' is already stored"));
    }
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO sessions(id, created_micros, options, feature_count, "
                             "tenant) VALUES (?1, ?2, ?3, ?4, ?5)"));
    Statement stmt(s);
    BindText(s, 1, id);
    sqlite3_bind_int64(s, 2, created_micros);
    BindText(s, 3, encoded);
    sqlite3_bind_int64(s, 4, options.feature_count);
    BindText(s, 5, tenant);
    RETURN_IF_ERROR(StepDone(s, absl::StrCat("insert session '", id, "'")));
  }
  return txn.Commit();
}

absl::Status SqliteSessionStore::InsertBatchLocked(const std::string& session,
                                                   const BatchRecord& batch) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("INSERT INTO batches(session_id, first_row_id, batch_id, row_count, "
                           "feature_count, vals, crc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  Statement stmt(s);
  BindText(s, 1, session);
  sqlite3_bind_int64(s, 2, batch.first_row_id);
  BindText(s, 3, batch.batch_id);
  sqlite3_bind_int64(s, 4, batch.row_count);
  sqlite3_bind_int64(s, 5, batch.feature_count);
  const absl::string_view blob(reinterpret_cast<const char*>(batch.values.data()),
                               batch.values.size() * sizeof(float));
  sqlite3_bind_blob64(s, 6, blob.data(), blob.size(), SQLITE_STATIC);
  sqlite3_bind_int64(s, 7, Crc32(blob));
  RETURN_IF_ERROR(StepDone(s, absl::StrCat("store batch '", batch.batch_id, "' of session '",
                                           session, "'")));
  ASSIGN_OR_RETURN(sqlite3_stmt * u,
                   Prepare("UPDATE sessions SET row_count = ?2, feature_count = ?3 WHERE id = ?1"));
  Statement update(u);
  BindText(u, 1, session);
  sqlite3_bind_int64(u, 2, batch.first_row_id + batch.row_count);
  sqlite3_bind_int64(u, 3, batch.feature_count);
  return StepDone(u, absl::StrCat("count rows of session '", session, "'"));
}

absl::StatusOr<bool> SqliteSessionStore::RowLabelledLocked(const std::string& session,
                                                           int64_t row) {
  // No index on row_id: this scans the session's labels, which only an undo
  // asks for, and a session holds thousands of labels, not millions.
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("SELECT anomaly FROM labels WHERE session_id = ?1 AND row_id = ?2 "
                           "ORDER BY seq DESC LIMIT 1"));
  Statement stmt(s);
  BindText(s, 1, session);
  sqlite3_bind_int64(s, 2, row);
  ASSIGN_OR_RETURN(bool found, Step(s, absl::StrCat("look up the label of row ", row,
                                                    " in session '", session, "'")));
  return found && sqlite3_column_int(s, 0) != kSqliteVerdictWithdrawn;
}

absl::Status SqliteSessionStore::InsertLabelsLocked(const std::string& session,
                                                    int64_t first_seq,
                                                    absl::Span<const LabelRecord> labels) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("INSERT INTO labels(session_id, seq, row_id, anomaly, time_micros) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)"));
  int64_t seq = first_seq;
  for (const LabelRecord& label : labels) {
    Statement stmt(s);
    BindText(s, 1, session);
    sqlite3_bind_int64(s, 2, seq++);
    sqlite3_bind_int64(s, 3, label.row_id);
    sqlite3_bind_int(s, 4,
                     label.withdrawn  ? kSqliteVerdictWithdrawn
                     : label.anomaly ? kSqliteVerdictAnomaly
                                     : kSqliteVerdictNominal);
    sqlite3_bind_int64(s, 5, label.time_micros);
    RETURN_IF_ERROR(StepDone(s, absl::StrCat("store label of row ", label.row_id,
                                             " in session '", session, "'")));
  }
  ASSIGN_OR_RETURN(sqlite3_stmt * u,
                   Prepare("UPDATE sessions SET next_label_seq = ?2 WHERE id = ?1"));
  Statement update(u);
  BindText(u, 1, session);
  sqlite3_bind_int64(u, 2, seq);
  return StepDone(u, absl::StrCat("count labels of session '", session, "'"));
}

absl::Status SqliteSessionStore::UpsertModelLocked(const std::string& session,
                                                   const ModelRecord& model) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("INSERT INTO models(session_id, version, labels_revision, "
                           "created_micros, bytes, crc) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                           "ON CONFLICT(session_id) DO UPDATE SET version = excluded.version, "
                           "labels_revision = excluded.labels_revision, "
                           "created_micros = excluded.created_micros, bytes = excluded.bytes, "
                           "crc = excluded.crc"));
  Statement stmt(s);
  BindText(s, 1, session);
  sqlite3_bind_int64(s, 2, model.version);
  sqlite3_bind_int64(s, 3, model.labels_revision);
  sqlite3_bind_int64(s, 4, model.created_micros);
  sqlite3_bind_blob64(s, 5, model.bytes.data(), model.bytes.size(), SQLITE_STATIC);
  sqlite3_bind_int64(s, 6, Crc32(model.bytes));
  return StepDone(s, absl::StrCat("store model version ", model.version, " of session '",
                                  session, "'"));
}

absl::Status SqliteSessionStore::PutSession(const SessionRecord& record) {
  RETURN_IF_ERROR(ValidateSessionRecord(record, "imported record"));
  const std::string encoded = EncodeSessionOptions(record.options);
  MutexLock lock(&mu_);
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT 1 FROM sessions WHERE id = ?1"));
    Statement stmt(s);
    BindText(s, 1, record.id);
    ASSIGN_OR_RETURN(bool exists, Step(s, "look up session"));
    if (exists) {
      return absl::AlreadyExistsError(
          absl::StrCat("session '", record.id, "' is already stored"));
    }
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO sessions(id, created_micros, options, feature_count, "
                             "tenant) VALUES (?1, ?2, ?3, ?4, ?5)"));
    Statement stmt(s);
    BindText(s, 1, record.id);
    sqlite3_bind_int64(s, 2, record.created_micros);
    BindText(s, 3, encoded);
    sqlite3_bind_int64(s, 4, record.options.feature_count);
    BindText(s, 5, record.tenant);
    RETURN_IF_ERROR(StepDone(s, absl::StrCat("insert session '", record.id, "'")));
  }
  for (const BatchRecord& batch : record.batches) {
    RETURN_IF_ERROR(InsertBatchLocked(record.id, batch));
  }
  RETURN_IF_ERROR(InsertLabelsLocked(record.id, 0, record.label_history));
  if (record.model.has_value()) RETURN_IF_ERROR(UpsertModelLocked(record.id, *record.model));
  return txn.Commit();
}

absl::Status SqliteSessionStore::DeleteSession(const std::string& id) {
  MutexLock lock(&mu_);
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  RETURN_IF_ERROR(FindSessionLocked(id).status());
  for (const char* sql : SqliteDeleteSession()) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare(sql));
    Statement stmt(s);
    BindText(s, 1, id);
    RETURN_IF_ERROR(StepDone(s, absl::StrCat("delete session '", id, "'")));
  }
  return txn.Commit();
}

absl::StatusOr<AppendResult> SqliteSessionStore::AppendBatch(const std::string& session,
                                                             const BatchRecord& batch) {
  RETURN_IF_ERROR(ValidateBatch(batch));
  MutexLock lock(&mu_);
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  ASSIGN_OR_RETURN(SessionRow row, FindSessionLocked(session));
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT first_row_id, row_count, feature_count FROM batches "
                             "WHERE session_id = ?1 AND batch_id = ?2"));
    Statement stmt(s);
    BindText(s, 1, session);
    BindText(s, 2, batch.batch_id);
    ASSIGN_OR_RETURN(bool found, Step(s, "look up batch id"));
    if (found) {
      const int64_t first = sqlite3_column_int64(s, 0);
      const int64_t rows = sqlite3_column_int64(s, 1);
      const int64_t features = sqlite3_column_int64(s, 2);
      return AnswerRetriedBatch(session, batch, {first, rows, features});
    }
  }
  RETURN_IF_ERROR(CheckNewBatch(session, batch, row.row_count, row.feature_count));
  RETURN_IF_ERROR(InsertBatchLocked(session, batch));
  RETURN_IF_ERROR(txn.Commit());
  return AppendResult{batch.first_row_id, batch.row_count, false};
}

absl::Status SqliteSessionStore::SetFeatureNames(const std::string& session,
                                                 const std::vector<std::string>& names) {
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("session '", session, "': no feature names given"));
  }
  MutexLock lock(&mu_);
  // One write transaction from the read of the options to their update: no
  // other write can slip in between (the session serialises its own, but
  // the store does not rely on it).
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  SessionOptions options;
  int64_t feature_count = 0;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT options, feature_count FROM sessions WHERE id = ?1"));
    Statement stmt(s);
    BindText(s, 1, session);
    ASSIGN_OR_RETURN(bool row, Step(s, "read session options"));
    if (!row) {
      return absl::NotFoundError(absl::StrCat("session '", session, "' is not stored in ", path_));
    }
    ASSIGN_OR_RETURN(options, DecodeSessionOptions(ColumnText(s, 0), absl::StrCat(
                                                                         path_, " session '",
                                                                         session, "'")));
    feature_count = sqlite3_column_int64(s, 1);
  }
  absl::Status check = CheckFeatureNamesUpdate(options.feature_names, feature_count, names);
  if (!check.ok()) {
    return absl::Status(check.code(), absl::StrCat("session '", session, "': ", check.message()));
  }
  if (!options.feature_names.empty()) return absl::OkStatus();  // the same: nothing to write
  options.feature_names = names;
  // Fixes the width as CreateSession with names does, so that a batch of
  // another width is refused even before the first batch is stored.
  if (feature_count == 0) feature_count = static_cast<int64_t>(names.size());
  if (options.feature_count == 0) options.feature_count = feature_count;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("UPDATE sessions SET options = ?2, feature_count = ?3 WHERE id = ?1"));
    Statement stmt(s);
    BindText(s, 1, session);
    const std::string encoded = EncodeSessionOptions(options);
    BindText(s, 2, encoded);
    sqlite3_bind_int64(s, 3, feature_count);
    RETURN_IF_ERROR(StepDone(s, absl::StrCat("store feature names of session '", session, "'")));
  }
  return txn.Commit();
}

absl::Status SqliteSessionStore::PutLabels(const std::string& session,
                                           absl::Span<const LabelRecord> labels) {
  MutexLock lock(&mu_);
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  ASSIGN_OR_RETURN(SessionRow row, FindSessionLocked(session));
  RETURN_IF_ERROR(CheckLabelledRows(session, labels, row.row_count));
  // The stored state of each withdrawn row, looked up before the check (the
  // check's callback cannot hold mu_ for the thread-safety analysis).
  absl::flat_hash_map<int64_t, bool> labelled;
  for (const LabelRecord& label : labels) {
    if (!label.withdrawn || labelled.contains(label.row_id)) continue;
    ASSIGN_OR_RETURN(bool has_label, RowLabelledLocked(session, label.row_id));
    labelled[label.row_id] = has_label;
  }
  absl::Status withdrawals =
      CheckWithdrawals(labels, [&labelled](int64_t r) -> absl::StatusOr<bool> {
        auto it = labelled.find(r);
        return it != labelled.end() && it->second;
      });
  if (!withdrawals.ok()) {
    return absl::NotFoundError(absl::StrCat("session '", session, "': ", withdrawals.message(),
                                            "; nothing stored"));
  }
  RETURN_IF_ERROR(InsertLabelsLocked(session, row.next_label_seq, labels));
  return txn.Commit();
}

absl::Status SqliteSessionStore::PutModel(const std::string& session, const ModelRecord& model,
                                          int64_t finished_run) {
  MutexLock lock(&mu_);
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  RETURN_IF_ERROR(FindSessionLocked(session).status());
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT version FROM models WHERE session_id = ?1"));
    Statement stmt(s);
    BindText(s, 1, session);
    ASSIGN_OR_RETURN(bool found, Step(s, "read model version"));
    const int64_t current = found ? sqlite3_column_int64(s, 0) : 0;
    if (model.version <= current) {
      return absl::FailedPreconditionError(absl::StrCat("session '", session,
                                                        "': model version ", model.version,
                                                        " is not newer than stored ", current));
    }
  }
  if (finished_run > 0) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("UPDATE training_runs SET finished = 1, outcome = 'model' "
                             "WHERE session_id = ?1 AND run_id = ?2 AND finished = 0"));
    Statement stmt(s);
    BindText(s, 1, session);
    sqlite3_bind_int64(s, 2, finished_run);
    RETURN_IF_ERROR(StepDone(s, "finish training run"));
    if (sqlite3_changes(db_) != 1) {
      return absl::NotFoundError(absl::StrCat("session '", session, "': no open training run ",
                                              finished_run));
    }
  }
  RETURN_IF_ERROR(UpsertModelLocked(session, model));
  return txn.Commit();
}

absl::StatusOr<int64_t> SqliteSessionStore::BeginTraining(const std::string& session,
                                                          TrainingState kind,
                                                          int64_t started_micros) {
  RETURN_IF_ERROR(ValidateRunKind(kind));
  MutexLock lock(&mu_);
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  ASSIGN_OR_RETURN(SessionRow row, FindSessionLocked(session));
  const int64_t run = row.next_run_id;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("INSERT INTO training_runs(session_id, run_id, kind, "
                             "started_micros) VALUES (?1, ?2, ?3, ?4)"));
    Statement stmt(s);
    BindText(s, 1, session);
    sqlite3_bind_int64(s, 2, run);
    const std::string kind_name(TrainingStateName(kind));
    BindText(s, 3, kind_name);
    sqlite3_bind_int64(s, 4, started_micros);
    RETURN_IF_ERROR(StepDone(s, "record training start"));
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("UPDATE sessions SET next_run_id = ?2 WHERE id = ?1"));
    Statement stmt(s);
    BindText(s, 1, session);
    sqlite3_bind_int64(s, 2, run + 1);
    RETURN_IF_ERROR(StepDone(s, "count training runs"));
  }
  RETURN_IF_ERROR(txn.Commit());
  return run;
}

absl::Status SqliteSessionStore::FinishTraining(const std::string& session, int64_t run_id,
                                                const std::string& outcome) {
  MutexLock lock(&mu_);
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  RETURN_IF_ERROR(FindSessionLocked(session).status());
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("UPDATE training_runs SET finished = 1, outcome = ?3 "
                           "WHERE session_id = ?1 AND run_id = ?2 AND finished = 0"));
  {
    Statement stmt(s);
    BindText(s, 1, session);
    sqlite3_bind_int64(s, 2, run_id);
    BindText(s, 3, outcome);
    RETURN_IF_ERROR(StepDone(s, "record training finish"));
  }
  if (sqlite3_changes(db_) != 1) {
    return absl::NotFoundError(
        absl::StrCat("session '", session, "': no open training run ", run_id));
  }
  return txn.Commit();
}

}  // namespace aad
