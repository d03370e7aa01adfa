// The PostgreSQL store: opening and the schema, and the reads
// (ListSessions, LoadSession). The writes are in postgres_session_writes.cc.
#include "server/storage/postgres_session_store.h"

#include <cstring>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "format/crc32.h"
#include "format/session_options_codec.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_connection_pool.h"
#include "server/storage/postgres_schema.h"

// bytea holds floats in the machine's byte order, which must be
// little-endian so that a database serves any replica (and matches the
// archive and the SQLite store).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the store assumes little-endian floats");

namespace aad {
namespace {

// Serialises schema creation and migration between aadd processes opening
// one database at once ("AADD").
constexpr PgStatement kLockSchema = {"lock_schema", "SELECT pg_advisory_xact_lock(1094796356)"};
constexpr PgStatement kHasVersionTable = {
    "has_version_table", "SELECT to_regclass('schema_version') IS NOT NULL"};
constexpr PgStatement kCountTables = {
    "count_tables",
    "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"};
constexpr PgStatement kReadVersion = {"read_version",
                                      "SELECT application, version FROM schema_version"};
constexpr PgStatement kSetVersion = {"set_version", "UPDATE schema_version SET version = $1"};
constexpr PgStatement kWriteVersion = {
    "write_version", "INSERT INTO schema_version(application, version) VALUES ($1, $2)"};

constexpr PgStatement kListSessions = {
    "list_sessions",
    "SELECT s.id, s.created_micros, s.row_count, coalesce(m.version, 0), s.tenant "
    "FROM sessions s LEFT JOIN models m ON m.session_id = s.id ORDER BY s.id"};
constexpr PgStatement kLoadSession = {
    "load_session", "SELECT created_micros, options, tenant FROM sessions WHERE id = $1"};
constexpr PgStatement kLoadBatches = {
    "load_batches",
    "SELECT batch_id, first_row_id, row_count, feature_count, vals, crc FROM batches "
    "WHERE session_id = $1 ORDER BY first_row_id"};
constexpr PgStatement kLoadLabels = {
    "load_labels",
    "SELECT row_id, anomaly, time_micros FROM labels WHERE session_id = $1 ORDER BY seq"};
constexpr PgStatement kLoadModel = {
    "load_model",
    "SELECT version, labels_revision, created_micros, bytes, crc FROM models "
    "WHERE session_id = $1"};
constexpr PgStatement kLoadOpenRuns = {
    "load_open_runs",
    "SELECT run_id, kind, started_micros FROM training_runs "
    "WHERE session_id = $1 AND NOT finished ORDER BY run_id"};

}  // namespace

bool PostgresSessionStore::IsUri(absl::string_view store) {
  return absl::StartsWith(store, "postgresql://") || absl::StartsWith(store, "postgres://");
}

absl::StatusOr<std::unique_ptr<PostgresSessionStore>> PostgresSessionStore::Open(
    const std::string& uri, const PostgresStoreOptions& options) {
  if (!IsUri(uri)) {
    // Not the URI itself: it may hold a password.
    return absl::InvalidArgumentError(absl::StrCat(
        "the store '", uri.substr(0, uri.find(':')),
        ":...' is not a PostgreSQL URI (postgresql://user@host:port/database)"));
  }
  PgReconnectPolicy policy;
  policy.attempts = options.reconnect_attempts;
  policy.initial_backoff = options.reconnect_backoff;
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnectionPool> pool,
                   PgConnectionPool::Open(uri, options.connections, policy));
  std::string holder;
  if (!options.replica.empty()) {
    thread_local absl::BitGen gen;
    holder = absl::StrFormat("%s#%04x", options.replica, absl::Uniform<uint32_t>(gen) & 0xffff);
  }
  std::unique_ptr<PostgresSessionStore> store(
      new PostgresSessionStore(std::move(pool), std::move(holder), options.lease));
  RETURN_IF_ERROR(store->Initialize());
  return store;
}

PostgresSessionStore::PostgresSessionStore(std::unique_ptr<PgConnectionPool> pool,
                                           std::string holder, std::chrono::milliseconds lease)
    : pool_(std::move(pool)), holder_(std::move(holder)), lease_(lease) {}

PostgresSessionStore::~PostgresSessionStore() = default;

const std::string& PostgresSessionStore::server() const { return pool_->server(); }

absl::Status PostgresSessionStore::NotFound(const std::string& id) const {
  return absl::NotFoundError(absl::StrCat("session '", id, "' is not stored in ", server()));
}

absl::Status PostgresSessionStore::Initialize() {
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(connection->Run(kLockSchema, PgParams(), "lock the schema").status());
  ASSIGN_OR_RETURN(PgResult has, connection->Run(kHasVersionTable, PgParams(), "read schema"));
  if (has.Text(0, 0) == "t") {
    ASSIGN_OR_RETURN(PgResult version,
                     connection->Run(kReadVersion, PgParams(), "read schema_version"));
    if (version.rows() != 1 || version.Text(0, 0) != kPostgresApplication) {
      return absl::FailedPreconditionError(absl::StrCat(
          server(), ": its schema_version table is not an aadd store's (",
          version.rows(), " rows, application '",
          version.rows() > 0 ? version.Text(0, 0) : std::string(), "')"));
    }
    const int64_t stored = version.Int(0, 1);
    if (stored > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          server(), " has schema version ", stored, "; this aadd reads up to version ",
          kSchemaVersion, ": it was written by a newer aadd, upgrade"));
    }
    // Migrations, in this transaction (as the SQLite store's): a failure
    // leaves the older schema whole.
    if (stored < 2) {
      for (const char* sql : PostgresMigrationTo2()) {
        RETURN_IF_ERROR(connection->Exec(sql, "migrate the schema to version 2"));
      }
      RETURN_IF_ERROR(connection
                          ->Run(kSetVersion, PgParams().Int(kSchemaVersion),
                                "write schema_version")
                          .status());
    }
    return txn.Commit();
  }
  ASSIGN_OR_RETURN(PgResult tables, connection->Run(kCountTables, PgParams(), "count tables"));
  if (tables.Int(0, 0) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(server(), " holds ", tables.Int(0, 0),
                     " tables but no aadd schema_version table; not an aadd store (give aadd "
                     "a database of its own)"));
  }
  for (const char* sql : PostgresSchema()) RETURN_IF_ERROR(connection->Exec(sql, "create schema"));
  RETURN_IF_ERROR(connection
                      ->Run(kWriteVersion, PgParams().Text(kPostgresApplication).Int(kSchemaVersion),
                            "write schema_version")
                      .status());
  return txn.Commit();
}

absl::StatusOr<std::vector<SessionSummary>> PostgresSessionStore::ListSessions() {
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin(/*read_only_snapshot=*/true));
  ASSIGN_OR_RETURN(PgResult r, connection->Run(kListSessions, PgParams(), "list sessions"));
  std::vector<SessionSummary> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(SessionSummary{r.Text(i, 0), r.Int(i, 1), r.Int(i, 2), r.Int(i, 3),
                                 r.Text(i, 4)});
  }
  RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::StatusOr<SessionRecord> PostgresSessionStore::LoadSession(const std::string& id) {
  PgConnectionPool::Lease connection = pool_->Take();
  // One snapshot across the tables.
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin(/*read_only_snapshot=*/true));
  SessionRecord out;
  out.id = id;
  {
    ASSIGN_OR_RETURN(PgResult r, connection->Run(kLoadSession, PgParams().Text(id),
                                                 absl::StrCat("load session '", id, "'")));
    if (r.rows() == 0) return NotFound(id);
    out.created_micros = r.Int(0, 0);
    out.tenant = r.Text(0, 2);
    ASSIGN_OR_RETURN(out.options, DecodeSessionOptions(r.Text(0, 1), absl::StrCat(
                                                                         server(), " session '",
                                                                         id, "'")));
  }
  RETURN_IF_ERROR(LoadBatches(connection.get(), &out));
  RETURN_IF_ERROR(LoadLabels(connection.get(), &out));
  out.labels = CurrentLabels(out.label_history);
  RETURN_IF_ERROR(LoadModel(connection.get(), &out));
  RETURN_IF_ERROR(LoadOpenRuns(connection.get(), &out));
  RETURN_IF_ERROR(txn.Commit());
  RETURN_IF_ERROR(ValidateSessionRecord(out, server()));
  return out;
}

absl::Status PostgresSessionStore::LoadBatches(PgConnection* connection, SessionRecord* out) {
  const std::string& id = out->id;
  // Binary results: bytea as its bytes, not hex text twice the size.
  ASSIGN_OR_RETURN(PgResult r, connection->Run(kLoadBatches, PgParams().Text(id),
                                               absl::StrCat("load batches of session '", id, "'"),
                                               /*binary_result=*/true));
  out->batches.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    BatchRecord batch;
    batch.batch_id = r.Text(i, 0);
    batch.first_row_id = r.Int(i, 1);
    batch.row_count = r.Int(i, 2);
    batch.feature_count = r.Int(i, 3);
    const absl::string_view blob = r.Bytes(i, 4);
    if (batch.row_count <= 0 || batch.feature_count <= 0 ||
        blob.size() != static_cast<size_t>(batch.row_count) *
                           static_cast<size_t>(batch.feature_count) * sizeof(float)) {
      return absl::DataLossError(absl::StrCat(
          server(), ": session '", id, "' batch '", batch.batch_id, "' holds ", blob.size(),
          " bytes for ", batch.row_count, " rows x ", batch.feature_count, " features"));
    }
    if (Crc32(blob) != static_cast<uint32_t>(r.Int(i, 5))) {
      return absl::DataLossError(absl::StrCat(server(), ": session '", id, "' batch '",
                                              batch.batch_id, "' (rows ", batch.first_row_id,
                                              "..) is damaged: checksum mismatch"));
    }
    batch.values.resize(blob.size() / sizeof(float));
    if (!blob.empty()) std::memcpy(batch.values.data(), blob.data(), blob.size());
    out->batches.push_back(std::move(batch));
  }
  return absl::OkStatus();
}

absl::Status PostgresSessionStore::LoadLabels(PgConnection* connection, SessionRecord* out) {
  const std::string& id = out->id;
  ASSIGN_OR_RETURN(PgResult r, connection->Run(kLoadLabels, PgParams().Text(id),
                                               absl::StrCat("load labels of session '", id, "'")));
  out->label_history.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    const int64_t row_id = r.Int(i, 0);
    const int64_t verdict = r.Int(i, 1);
    if (verdict != kPostgresVerdictNominal && verdict != kPostgresVerdictAnomaly &&
        verdict != kPostgresVerdictWithdrawn) {
      return absl::DataLossError(absl::StrCat(server(), ": session '", id, "': the label of row ",
                                              row_id, " has verdict ", verdict,
                                              " (0 nominal, 1 anomaly, 2 withdrawn)"));
    }
    out->label_history.push_back(LabelRecord{row_id, verdict == kPostgresVerdictAnomaly,
                                             r.Int(i, 2), verdict == kPostgresVerdictWithdrawn});
  }
  return absl::OkStatus();
}

absl::Status PostgresSessionStore::LoadModel(PgConnection* connection, SessionRecord* out) {
  const std::string& id = out->id;
  ASSIGN_OR_RETURN(PgResult r, connection->Run(kLoadModel, PgParams().Text(id),
                                               absl::StrCat("load the model of session '", id, "'"),
                                               /*binary_result=*/true));
  if (r.rows() == 0) return absl::OkStatus();
  ModelRecord model;
  model.version = r.Int(0, 0);
  model.labels_revision = r.Int(0, 1);
  model.created_micros = r.Int(0, 2);
  model.bytes = std::string(r.Bytes(0, 3));
  if (Crc32(model.bytes) != static_cast<uint32_t>(r.Int(0, 4))) {
    return absl::DataLossError(absl::StrCat(server(), ": session '", id, "' model version ",
                                            model.version, " is damaged: checksum mismatch"));
  }
  out->model = std::move(model);
  return absl::OkStatus();
}

absl::Status PostgresSessionStore::LoadOpenRuns(PgConnection* connection, SessionRecord* out) {
  const std::string& id = out->id;
  ASSIGN_OR_RETURN(PgResult r,
                   connection->Run(kLoadOpenRuns, PgParams().Text(id),
                                   absl::StrCat("load training runs of session '", id, "'")));
  for (int i = 0; i < r.rows(); ++i) {
    const std::string kind = r.Text(i, 1);
    out->interrupted_training.push_back(TrainingRunRecord{
        r.Int(i, 0),
        kind == TrainingStateName(TrainingState::kUpdating) ? TrainingState::kUpdating
                                                             : TrainingState::kTraining,
        r.Int(i, 2)});
  }
  return absl::OkStatus();
}

}  // namespace aad
