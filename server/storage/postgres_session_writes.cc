// The PostgreSQL store's writes: each acknowledged write is one
// transaction, checked and checksummed before it is stored. A write locks
// its session's row first, so that writes to one session are serialised
// on the server whichever connection (or replica) they come from.
#include <chrono>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "format/crc32.h"
#include "format/feature_names.h"
#include "format/session_options_codec.h"
#include "server/storage/write_rules.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_connection_pool.h"
#include "server/storage/postgres_schema.h"
#include "server/storage/postgres_session_store.h"

namespace aad {
namespace {

constexpr PgStatement kLockSession = {
    "lock_session",
    "SELECT row_count, feature_count, next_label_seq, next_run_id, owner, epoch FROM sessions "
    "WHERE id = $1 FOR UPDATE"};
// ON CONFLICT: two replicas creating one id race in the server, not here.
// The creator holds the new session at epoch 1 (owner "" without leases).
constexpr PgStatement kInsertSession = {
    "insert_session",
    "INSERT INTO sessions(id, created_micros, options, feature_count, tenant, owner, epoch, "
    "lease_expires_micros) VALUES ($1, $2, $3, $4, $5, $6, 1, "
    "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint + $7) "
    "ON CONFLICT (id) DO NOTHING"};
constexpr PgStatement kDeleteSession = {"delete_session", "DELETE FROM sessions WHERE id = $1"};
constexpr PgStatement kFindBatch = {
    "find_batch",
    "SELECT first_row_id, row_count, feature_count FROM batches "
    "WHERE session_id = $1 AND batch_id = $2"};
constexpr PgStatement kInsertBatch = {
    "insert_batch",
    "INSERT INTO batches(session_id, first_row_id, batch_id, row_count, feature_count, vals, "
    "crc) VALUES ($1, $2, $3, $4, $5, $6, $7)"};
constexpr PgStatement kCountRows = {
    "count_rows", "UPDATE sessions SET row_count = $2, feature_count = $3 WHERE id = $1"};
constexpr PgStatement kReadOptions = {
    "read_options",
    "SELECT options, feature_count, owner, epoch FROM sessions WHERE id = $1 FOR UPDATE"};
constexpr PgStatement kWriteOptions = {
    "write_options", "UPDATE sessions SET options = $2, feature_count = $3 WHERE id = $1"};
constexpr PgStatement kLatestVerdict = {
    "latest_verdict",
    "SELECT anomaly FROM labels WHERE session_id = $1 AND row_id = $2 "
    "ORDER BY seq DESC LIMIT 1"};
constexpr PgStatement kInsertLabel = {
    "insert_label",
    "INSERT INTO labels(session_id, seq, row_id, anomaly, time_micros) "
    "VALUES ($1, $2, $3, $4, $5)"};
constexpr PgStatement kCountLabels = {"count_labels",
                                      "UPDATE sessions SET next_label_seq = $2 WHERE id = $1"};
constexpr PgStatement kModelVersion = {"model_version",
                                       "SELECT version FROM models WHERE session_id = $1"};
constexpr PgStatement kUpsertModel = {
    "upsert_model",
    "INSERT INTO models(session_id, version, labels_revision, created_micros, bytes, crc) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id) DO UPDATE SET "
    "version = excluded.version, labels_revision = excluded.labels_revision, "
    "created_micros = excluded.created_micros, bytes = excluded.bytes, crc = excluded.crc"};
constexpr PgStatement kFinishRunWithModel = {
    "finish_run_with_model",
    "UPDATE training_runs SET finished = true, outcome = 'model' "
    "WHERE session_id = $1 AND run_id = $2 AND NOT finished"};
constexpr PgStatement kInsertRun = {
    "insert_run",
    "INSERT INTO training_runs(session_id, run_id, kind, started_micros) "
    "VALUES ($1, $2, $3, $4)"};
constexpr PgStatement kCountRuns = {"count_runs",
                                    "UPDATE sessions SET next_run_id = $2 WHERE id = $1"};
constexpr PgStatement kFinishRun = {
    "finish_run",
    "UPDATE training_runs SET finished = true, outcome = $3 "
    "WHERE session_id = $1 AND run_id = $2 AND NOT finished"};

absl::string_view Bytes(const std::vector<float>& values) {
  return absl::string_view(reinterpret_cast<const char*>(values.data()),
                           values.size() * sizeof(float));
}

}  // namespace

absl::StatusOr<PostgresSessionStore::SessionRow> PostgresSessionStore::LockSession(
    PgConnection* connection, const std::string& id) {
  ASSIGN_OR_RETURN(PgResult r, connection->Run(kLockSession, PgParams().Text(id),
                                               absl::StrCat("find session '", id, "'")));
  if (r.rows() == 0) return NotFound(id);
  RETURN_IF_ERROR(CheckFence(id, r.Text(0, 4), r.Int(0, 5)));
  return SessionRow{r.Int(0, 0), r.Int(0, 1), r.Int(0, 2), r.Int(0, 3)};
}

absl::Status PostgresSessionStore::InsertSession(PgConnection* connection, const std::string& id,
                                                 int64_t created_micros,
                                                 const SessionOptions& options,
                                                 const std::string& tenant) {
  ASSIGN_OR_RETURN(PgResult r,
                   connection->Run(kInsertSession,
                                   PgParams()
                                       .Text(id)
                                       .Int(created_micros)
                                       .Text(EncodeSessionOptions(options))
                                       .Int(options.feature_count)
                                       .Text(tenant)
                                       .Text(holder_)
                                       .Int(std::chrono::microseconds(lease_).count()),
                                   absl::StrCat("insert session '", id, "'")));
  if (r.affected() != 1) {
    return absl::AlreadyExistsError(absl::StrCat("session '", id, "' is already stored"));
  }
  return absl::OkStatus();
}

absl::Status PostgresSessionStore::InsertBatch(PgConnection* connection,
                                               const std::string& session,
                                               const BatchRecord& batch) {
  const absl::string_view blob = Bytes(batch.values);
  RETURN_IF_ERROR(connection
                      ->Run(kInsertBatch,
                            PgParams()
                                .Text(session)
                                .Int(batch.first_row_id)
                                .Text(batch.batch_id)
                                .Int(batch.row_count)
                                .Int(batch.feature_count)
                                .Bytes(blob)
                                .Int(Crc32(blob)),
                            absl::StrCat("store batch '", batch.batch_id, "' of session '",
                                         session, "'"))
                      .status());
  return connection
      ->Run(kCountRows,
            PgParams()
                .Text(session)
                .Int(batch.first_row_id + batch.row_count)
                .Int(batch.feature_count),
            absl::StrCat("count rows of session '", session, "'"))
      .status();
}

absl::Status PostgresSessionStore::InsertLabels(PgConnection* connection,
                                                const std::string& session, int64_t first_seq,
                                                absl::Span<const LabelRecord> labels) {
  int64_t seq = first_seq;
  for (const LabelRecord& label : labels) {
    const int verdict = label.withdrawn  ? kPostgresVerdictWithdrawn
                        : label.anomaly ? kPostgresVerdictAnomaly
                                        : kPostgresVerdictNominal;
    RETURN_IF_ERROR(connection
                        ->Run(kInsertLabel,
                              PgParams()
                                  .Text(session)
                                  .Int(seq++)
                                  .Int(label.row_id)
                                  .Int(verdict)
                                  .Int(label.time_micros),
                              absl::StrCat("store label of row ", label.row_id, " in session '",
                                           session, "'"))
                        .status());
  }
  return connection
      ->Run(kCountLabels, PgParams().Text(session).Int(seq),
            absl::StrCat("count labels of session '", session, "'"))
      .status();
}

absl::Status PostgresSessionStore::UpsertModel(PgConnection* connection,
                                               const std::string& session,
                                               const ModelRecord& model) {
  return connection
      ->Run(kUpsertModel,
            PgParams()
                .Text(session)
                .Int(model.version)
                .Int(model.labels_revision)
                .Int(model.created_micros)
                .Bytes(model.bytes)
                .Int(Crc32(model.bytes)),
            absl::StrCat("store model version ", model.version, " of session '", session, "'"))
      .status();
}

absl::Status PostgresSessionStore::CreateSession(const std::string& id,
                                                 const SessionOptions& options,
                                                 int64_t created_micros,
                                                 const std::string& tenant) {
  if (id.empty()) return absl::InvalidArgumentError("session id is empty");
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(InsertSession(connection.get(), id, created_micros, options, tenant));
  RETURN_IF_ERROR(txn.Commit());
  Hold(id, 1);
  return absl::OkStatus();
}

absl::Status PostgresSessionStore::PutSession(const SessionRecord& record) {
  RETURN_IF_ERROR(ValidateSessionRecord(record, "imported record"));
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(InsertSession(connection.get(), record.id, record.created_micros,
                                record.options, record.tenant));
  for (const BatchRecord& batch : record.batches) {
    RETURN_IF_ERROR(InsertBatch(connection.get(), record.id, batch));
  }
  RETURN_IF_ERROR(InsertLabels(connection.get(), record.id, 0, record.label_history));
  if (record.model.has_value()) {
    RETURN_IF_ERROR(UpsertModel(connection.get(), record.id, *record.model));
  }
  RETURN_IF_ERROR(txn.Commit());
  Hold(record.id, 1);
  return absl::OkStatus();
}

absl::Status PostgresSessionStore::DeleteSession(const std::string& id) {
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(LockSession(connection.get(), id).status());
  // Batches, labels, the model and training runs go with it (ON DELETE
  // CASCADE).
  RETURN_IF_ERROR(connection
                      ->Run(kDeleteSession, PgParams().Text(id),
                            absl::StrCat("delete session '", id, "'"))
                      .status());
  RETURN_IF_ERROR(txn.Commit());
  Forget(id);
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> PostgresSessionStore::AppendBatch(const std::string& session,
                                                               const BatchRecord& batch) {
  RETURN_IF_ERROR(ValidateBatch(batch));
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  ASSIGN_OR_RETURN(SessionRow row, LockSession(connection.get(), session));
  {
    ASSIGN_OR_RETURN(PgResult r, connection->Run(kFindBatch,
                                                 PgParams().Text(session).Text(batch.batch_id),
                                                 "look up batch id"));
    if (r.rows() > 0) {
      const int64_t first = r.Int(0, 0);
      const int64_t rows = r.Int(0, 1);
      const int64_t features = r.Int(0, 2);
      return AnswerRetriedBatch(session, batch, {first, rows, features});
    }
  }
  RETURN_IF_ERROR(CheckNewBatch(session, batch, row.row_count, row.feature_count));
  RETURN_IF_ERROR(InsertBatch(connection.get(), session, batch));
  RETURN_IF_ERROR(txn.Commit());
  return AppendResult{batch.first_row_id, batch.row_count, false};
}

absl::Status PostgresSessionStore::SetFeatureNames(const std::string& session,
                                                   const std::vector<std::string>& names) {
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("session '", session, "': no feature names given"));
  }
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  SessionOptions options;
  int64_t feature_count = 0;
  {
    ASSIGN_OR_RETURN(PgResult r, connection->Run(kReadOptions, PgParams().Text(session),
                                                 "read session options"));
    if (r.rows() == 0) return NotFound(session);
    RETURN_IF_ERROR(CheckFence(session, r.Text(0, 2), r.Int(0, 3)));
    ASSIGN_OR_RETURN(options,
                     DecodeSessionOptions(r.Text(0, 0),
                                          absl::StrCat(server(), " session '", session, "'")));
    feature_count = r.Int(0, 1);
  }
  absl::Status check = CheckFeatureNamesUpdate(options.feature_names, feature_count, names);
  if (!check.ok()) {
    return absl::Status(check.code(), absl::StrCat("session '", session, "': ", check.message()));
  }
  if (!options.feature_names.empty()) return absl::OkStatus();  // the same: nothing to write
  options.feature_names = names;
  // Fixes the width as CreateSession with names does (see the SQLite store).
  if (feature_count == 0) feature_count = static_cast<int64_t>(names.size());
  if (options.feature_count == 0) options.feature_count = feature_count;
  RETURN_IF_ERROR(connection
                      ->Run(kWriteOptions,
                            PgParams()
                                .Text(session)
                                .Text(EncodeSessionOptions(options))
                                .Int(feature_count),
                            absl::StrCat("store feature names of session '", session, "'"))
                      .status());
  return txn.Commit();
}

absl::Status PostgresSessionStore::PutLabels(const std::string& session,
                                             absl::Span<const LabelRecord> labels) {
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  ASSIGN_OR_RETURN(SessionRow row, LockSession(connection.get(), session));
  RETURN_IF_ERROR(CheckLabelledRows(session, labels, row.row_count));
  // The stored state of each withdrawn row, looked up before the check.
  absl::flat_hash_map<int64_t, bool> labelled;
  for (const LabelRecord& label : labels) {
    if (!label.withdrawn || labelled.contains(label.row_id)) continue;
    ASSIGN_OR_RETURN(PgResult r,
                     connection->Run(kLatestVerdict, PgParams().Text(session).Int(label.row_id),
                                     absl::StrCat("look up the label of row ", label.row_id,
                                                  " in session '", session, "'")));
    labelled[label.row_id] = r.rows() > 0 && r.Int(0, 0) != kPostgresVerdictWithdrawn;
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
  RETURN_IF_ERROR(InsertLabels(connection.get(), session, row.next_label_seq, labels));
  return txn.Commit();
}

absl::Status PostgresSessionStore::PutModel(const std::string& session, const ModelRecord& model,
                                            int64_t finished_run) {
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(LockSession(connection.get(), session).status());
  {
    ASSIGN_OR_RETURN(PgResult r, connection->Run(kModelVersion, PgParams().Text(session),
                                                 "read model version"));
    const int64_t current = r.rows() > 0 ? r.Int(0, 0) : 0;
    if (model.version <= current) {
      return absl::FailedPreconditionError(absl::StrCat("session '", session,
                                                        "': model version ", model.version,
                                                        " is not newer than stored ", current));
    }
  }
  if (finished_run > 0) {
    ASSIGN_OR_RETURN(PgResult r,
                     connection->Run(kFinishRunWithModel,
                                     PgParams().Text(session).Int(finished_run),
                                     "finish training run"));
    if (r.affected() != 1) {
      return absl::NotFoundError(absl::StrCat("session '", session, "': no open training run ",
                                              finished_run));
    }
  }
  RETURN_IF_ERROR(UpsertModel(connection.get(), session, model));
  return txn.Commit();
}

absl::StatusOr<int64_t> PostgresSessionStore::BeginTraining(const std::string& session,
                                                            TrainingState kind,
                                                            int64_t started_micros) {
  RETURN_IF_ERROR(ValidateRunKind(kind));
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  ASSIGN_OR_RETURN(SessionRow row, LockSession(connection.get(), session));
  const int64_t run = row.next_run_id;
  RETURN_IF_ERROR(connection
                      ->Run(kInsertRun,
                            PgParams()
                                .Text(session)
                                .Int(run)
                                .Text(TrainingStateName(kind))
                                .Int(started_micros),
                            "record training start")
                      .status());
  RETURN_IF_ERROR(connection
                      ->Run(kCountRuns, PgParams().Text(session).Int(run + 1),
                            "count training runs")
                      .status());
  RETURN_IF_ERROR(txn.Commit());
  return run;
}

absl::Status PostgresSessionStore::FinishTraining(const std::string& session, int64_t run_id,
                                                  const std::string& outcome) {
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(LockSession(connection.get(), session).status());
  ASSIGN_OR_RETURN(PgResult r, connection->Run(kFinishRun,
                                               PgParams().Text(session).Int(run_id).Text(outcome),
                                               "record training finish"));
  if (r.affected() != 1) {
    return absl::NotFoundError(
        absl::StrCat("session '", session, "': no open training run ", run_id));
  }
  return txn.Commit();
}

}  // namespace aad
