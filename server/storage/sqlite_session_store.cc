// The SQLite store: opening and initialising the database, its error
// mapping and statement cache, and the reads (ListSessions, LoadSession).
// The writes are in sqlite_session_writes.cc.
#include "server/storage/sqlite_session_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "format/crc32.h"
#include "format/session_options_codec.h"
#include "server/storage/errno_status.h"
#include "server/storage/sqlite_schema.h"
#include "server/storage/sqlite_statement.h"

// Blobs hold floats in the machine's byte order, which must be little-endian
// so that a database file moves between machines (and matches the archive).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the store assumes little-endian floats");
namespace aad {

SqliteSessionStore::SqliteSessionStore(std::string path, int lock_fd, sqlite3* db)
    : path_(std::move(path)), lock_fd_(lock_fd), db_(db) {}

SqliteSessionStore::~SqliteSessionStore() {
  MutexLock lock(&mu_);
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  // Closing the last connection checkpoints the WAL into the main file.
  sqlite3_close(db_);
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
}

absl::StatusOr<std::unique_ptr<SqliteSessionStore>> SqliteSessionStore::Open(
    const std::string& dir, const SqliteStoreOptions& options) {
  if (dir.empty()) return absl::InvalidArgumentError("data directory is empty");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return ErrnoStatus(ec.value(), absl::StrCat("cannot create data directory ", dir));
  }
  const std::string lock_path = absl::StrCat(dir, "/", kLockFileName);
  int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    return ErrnoStatus(errno, absl::StrCat("data directory ", dir, " is not usable (open ",
                                           lock_path, ")"));
  }
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    close(lock_fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data directory ", dir, " is in use by another aadd process (", lock_path,
          " is locked)"));
    }
    return ErrnoStatus(err, absl::StrCat("cannot lock ", lock_path));
  }
  const std::string path = absl::StrCat(dir, "/", kFileName);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                     SQLITE_OPEN_NOMUTEX,  // mu_ serialises every call
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string message = absl::StrCat(path, ": cannot open: ",
                                       db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    const int err = db != nullptr ? sqlite3_system_errno(db) : 0;
    sqlite3_close(db);
    close(lock_fd);
    if (err != 0) return ErrnoStatus(err, message);
    return absl::UnavailableError(message);
  }
  std::unique_ptr<SqliteSessionStore> store(new SqliteSessionStore(path, lock_fd, db));
  RETURN_IF_ERROR(store->Initialize(options));
  return store;
}

absl::Status SqliteSessionStore::Initialize(const SqliteStoreOptions& options) {
  MutexLock lock(&mu_);
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  // SQLite silently opens a file it may not write read-only; a store that
  // cannot take writes must fail at start, not at the first client's write.
  if (sqlite3_db_readonly(db_, "main") == 1) {
    return absl::UnavailableError(
        absl::StrCat(path_, " is not writable (opened read-only); check its permissions"));
  }

  // The first read of the file: a file that is not a database fails here
  // with SQLITE_NOTADB (DATA_LOSS).
  int64_t application_id = 0, user_version = 0, tables = 0;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("PRAGMA application_id"));
    Statement stmt(s);
    ASSIGN_OR_RETURN(bool row, Step(s, "read application_id"));
    if (row) application_id = sqlite3_column_int64(s, 0);
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("PRAGMA user_version"));
    Statement stmt(s);
    ASSIGN_OR_RETURN(bool row, Step(s, "read user_version"));
    if (row) user_version = sqlite3_column_int64(s, 0);
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("SELECT count(*) FROM sqlite_schema"));
    Statement stmt(s);
    ASSIGN_OR_RETURN(bool row, Step(s, "read schema"));
    if (row) tables = sqlite3_column_int64(s, 0);
  }
  if (application_id != 0 && application_id != kApplicationId) {
    return absl::FailedPreconditionError(absl::StrCat(
        path_, " is an SQLite database of another application (application_id ",
        application_id, "), not an aadd store"));
  }
  if (application_id == 0 && tables != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " is an SQLite database with ", tables,
                     " schema objects but no aadd marker; not an aadd store"));
  }
  if (user_version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path_, " has schema version ", user_version, "; this aadd reads up to version ",
        kSchemaVersion, ": it was written by a newer aadd, upgrade"));
  }

  // WAL: commits append to the log (one fsync each with synchronous=FULL)
  // and readers never block the writer.
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("PRAGMA journal_mode=WAL"));
    Statement stmt(s);
    ASSIGN_OR_RETURN(bool row, Step(s, "set journal_mode=WAL"));
    const std::string mode = row ? ColumnText(s, 0) : std::string();
    if (mode != "wal") {
      return absl::UnavailableError(
          absl::StrCat(path_, ": cannot switch to WAL mode (journal_mode is '", mode, "')"));
    }
  }
  RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
  RETURN_IF_ERROR(Exec("PRAGMA foreign_keys=ON"));
  // Truncates the WAL after checkpoints so that a burst of ingest does not
  // leave a large log file behind.
  RETURN_IF_ERROR(Exec("PRAGMA journal_size_limit=67108864"));

  if (user_version == 0) {
    Transaction txn(this);
    RETURN_IF_ERROR(txn.Begin(/*write=*/true));
    for (const char* sql : SqliteSchema()) RETURN_IF_ERROR(Exec(sql));
    RETURN_IF_ERROR(Exec(absl::StrCat("PRAGMA application_id=", kApplicationId).c_str()));
    RETURN_IF_ERROR(Exec(absl::StrCat("PRAGMA user_version=", kSchemaVersion).c_str()));
    RETURN_IF_ERROR(txn.Commit());
  } else {
    // An existing store must be writable now, not at the first client's
    // write: take and release the write lock. A version 1 store becomes
    // version 2 here (same tables; see kSchemaVersion), and a version 2
    // store version 3 (its sessions get the anonymous tenant), in the same
    // transaction as the marker.
    Transaction txn(this);
    RETURN_IF_ERROR(txn.Begin(/*write=*/true));
    RETURN_IF_ERROR(Exec("UPDATE sessions SET id = id WHERE 0"));
    if (user_version < 3) RETURN_IF_ERROR(Exec(kSqliteAddTenantColumn));
    if (user_version < kSchemaVersion) {
      RETURN_IF_ERROR(Exec(absl::StrCat("PRAGMA user_version=", kSchemaVersion).c_str()));
    }
    RETURN_IF_ERROR(txn.Commit());
  }

  if (options.verify_on_open) {
    ASSIGN_OR_RETURN(sqlite3_stmt * s, Prepare("PRAGMA quick_check"));
    Statement stmt(s);
    ASSIGN_OR_RETURN(bool row, Step(s, "quick_check"));
    const std::string result = row ? ColumnText(s, 0) : std::string("no result");
    if (result != "ok") {
      return absl::DataLossError(absl::StrCat(path_, " is corrupt: quick_check says: ", result));
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteSessionStore::Error(int rc, absl::string_view what) const {
  const int extended = sqlite3_extended_errcode(db_);
  const int sys_errno = sqlite3_system_errno(db_);
  std::string message = absl::StrCat(path_, ": ", what, ": ", sqlite3_errmsg(db_),
                                     " (SQLite code ", extended);
  // errno is that of the last failed system call, which may be stale for
  // errors that are not about the file system.
  const int primary = rc & 0xff;
  const bool file_error = primary == SQLITE_IOERR || primary == SQLITE_FULL ||
                          primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY ||
                          primary == SQLITE_PERM;
  if (file_error && sys_errno != 0) {
    absl::StrAppend(&message, ", errno ", sys_errno, " ", strerror(sys_errno));
  }
  absl::StrAppend(&message, ")");
  switch (primary) {
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::ResourceExhaustedError(message);
    case SQLITE_IOERR:
      // RLIMIT_FSIZE and quotas surface as write errors, not SQLITE_FULL.
      if (IsNoSpaceErrno(sys_errno)) return absl::ResourceExhaustedError(message);
      return absl::UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_TOOBIG:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status SqliteSessionStore::Exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, sql);
  return absl::OkStatus();
}

absl::StatusOr<sqlite3_stmt*> SqliteSessionStore::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, absl::StrCat("prepare '", sql, "'"));
  statements_[sql] = stmt;
  return stmt;
}

absl::StatusOr<bool> SqliteSessionStore::Step(sqlite3_stmt* stmt, absl::string_view what) {
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(rc, what);
}

absl::Status SqliteSessionStore::StepDone(sqlite3_stmt* stmt, absl::string_view what) {
  ASSIGN_OR_RETURN(bool row, Step(stmt, what));
  if (row) return absl::InternalError(absl::StrCat(path_, ": ", what, " returned a row"));
  return absl::OkStatus();
}

absl::StatusOr<SqliteSessionStore::SessionRow> SqliteSessionStore::FindSessionLocked(
    const std::string& id) {
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("SELECT row_count, feature_count, next_label_seq, next_run_id "
                           "FROM sessions WHERE id = ?1"));
  Statement stmt(s);
  BindText(s, 1, id);
  ASSIGN_OR_RETURN(bool row, Step(s, "find session"));
  if (!row) {
    return absl::NotFoundError(absl::StrCat("session '", id, "' is not stored in ", path_));
  }
  return SessionRow{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                    sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3)};
}

absl::StatusOr<std::vector<SessionSummary>> SqliteSessionStore::ListSessions() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("SELECT s.id, s.created_micros, s.row_count, "
                           "coalesce(m.version, 0), s.tenant FROM sessions s "
                           "LEFT JOIN models m ON m.session_id = s.id ORDER BY s.id"));
  Statement stmt(s);
  std::vector<SessionSummary> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step(s, "list sessions"));
    if (!row) break;
    out.push_back(SessionSummary{ColumnText(s, 0), sqlite3_column_int64(s, 1),
                                 sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
                                 ColumnText(s, 4)});
  }
  return out;
}

absl::StatusOr<SessionRecord> SqliteSessionStore::LoadSession(const std::string& id) {
  MutexLock lock(&mu_);
  // One read transaction: a consistent snapshot across the tables.
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/false));
  SessionRecord out;
  out.id = id;
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT created_micros, options, tenant FROM sessions WHERE id = ?1"));
    Statement stmt(s);
    BindText(s, 1, id);
    ASSIGN_OR_RETURN(bool row, Step(s, "load session"));
    if (!row) {
      return absl::NotFoundError(absl::StrCat("session '", id, "' is not stored in ", path_));
    }
    out.created_micros = sqlite3_column_int64(s, 0);
    out.tenant = ColumnText(s, 2);
    ASSIGN_OR_RETURN(out.options, DecodeSessionOptions(ColumnText(s, 1),
                                                       absl::StrCat(path_, " session '", id, "'")));
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT batch_id, first_row_id, row_count, feature_count, vals, crc "
                             "FROM batches WHERE session_id = ?1 ORDER BY first_row_id"));
    Statement stmt(s);
    BindText(s, 1, id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, Step(s, "load batches"));
      if (!row) break;
      BatchRecord batch;
      batch.batch_id = ColumnText(s, 0);
      batch.first_row_id = sqlite3_column_int64(s, 1);
      batch.row_count = sqlite3_column_int64(s, 2);
      batch.feature_count = sqlite3_column_int64(s, 3);
      const void* blob = sqlite3_column_blob(s, 4);
      const size_t bytes = static_cast<size_t>(sqlite3_column_bytes(s, 4));
      if (batch.row_count <= 0 || batch.feature_count <= 0 ||
          bytes != static_cast<size_t>(batch.row_count) *
                       static_cast<size_t>(batch.feature_count) * sizeof(float)) {
        return absl::DataLossError(absl::StrCat(
            path_, ": session '", id, "' batch '", batch.batch_id, "' holds ", bytes,
            " bytes for ", batch.row_count, " rows x ", batch.feature_count, " features"));
      }
      const uint32_t crc = Crc32(absl::string_view(static_cast<const char*>(blob), bytes));
      if (crc != static_cast<uint32_t>(sqlite3_column_int64(s, 5))) {
        return absl::DataLossError(absl::StrCat(path_, ": session '", id, "' batch '",
                                                batch.batch_id, "' (rows ", batch.first_row_id,
                                                "..) is damaged: checksum mismatch"));
      }
      batch.values.resize(bytes / sizeof(float));
      if (bytes > 0) std::memcpy(batch.values.data(), blob, bytes);
      out.batches.push_back(std::move(batch));
    }
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT row_id, anomaly, time_micros FROM labels "
                             "WHERE session_id = ?1 ORDER BY seq"));
    Statement stmt(s);
    BindText(s, 1, id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, Step(s, "load labels"));
      if (!row) break;
      const int64_t row_id = sqlite3_column_int64(s, 0);
      const int64_t verdict = sqlite3_column_int64(s, 1);
      if (verdict != kSqliteVerdictNominal && verdict != kSqliteVerdictAnomaly &&
          verdict != kSqliteVerdictWithdrawn) {
        return absl::DataLossError(absl::StrCat(path_, ": session '", id, "': the label of row ",
                                                row_id, " has verdict ", verdict,
                                                " (0 nominal, 1 anomaly, 2 withdrawn)"));
      }
      out.label_history.push_back(LabelRecord{row_id, verdict == kSqliteVerdictAnomaly,
                                              sqlite3_column_int64(s, 2),
                                              verdict == kSqliteVerdictWithdrawn});
    }
  }
  out.labels = CurrentLabels(out.label_history);
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT version, labels_revision, created_micros, bytes, crc FROM models "
                             "WHERE session_id = ?1"));
    Statement stmt(s);
    BindText(s, 1, id);
    ASSIGN_OR_RETURN(bool row, Step(s, "load model"));
    if (row) {
      ModelRecord model;
      model.version = sqlite3_column_int64(s, 0);
      model.labels_revision = sqlite3_column_int64(s, 1);
      model.created_micros = sqlite3_column_int64(s, 2);
      const char* blob = static_cast<const char*>(sqlite3_column_blob(s, 3));
      model.bytes.assign(blob == nullptr ? "" : blob,
                         static_cast<size_t>(sqlite3_column_bytes(s, 3)));
      if (Crc32(model.bytes) != static_cast<uint32_t>(sqlite3_column_int64(s, 4))) {
        return absl::DataLossError(absl::StrCat(path_, ": session '", id, "' model version ",
                                                model.version, " is damaged: checksum mismatch"));
      }
      out.model = std::move(model);
    }
  }
  {
    ASSIGN_OR_RETURN(sqlite3_stmt * s,
                     Prepare("SELECT run_id, kind, started_micros FROM training_runs "
                             "WHERE session_id = ?1 AND finished = 0 ORDER BY run_id"));
    Statement stmt(s);
    BindText(s, 1, id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, Step(s, "load training runs"));
      if (!row) break;
      const std::string kind = ColumnText(s, 1);
      out.interrupted_training.push_back(TrainingRunRecord{
          sqlite3_column_int64(s, 0),
          kind == TrainingStateName(TrainingState::kUpdating) ? TrainingState::kUpdating
                                                               : TrainingState::kTraining,
          sqlite3_column_int64(s, 2)});
    }
  }
  RETURN_IF_ERROR(txn.Commit());
  RETURN_IF_ERROR(ValidateSessionRecord(out, path_));
  return out;
}

}  // namespace aad
