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

// Blobs hold floats in the machine's byte order, which must be little-endian
// so that a database file moves between machines (and matches the archive).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the store assumes little-endian floats");

namespace aad {
namespace {

constexpr const char* kSchema[] = {
    R"sql(CREATE TABLE sessions(
      id TEXT PRIMARY KEY NOT NULL,
      created_micros INTEGER NOT NULL,
      options TEXT NOT NULL,
      row_count INTEGER NOT NULL DEFAULT 0,
      feature_count INTEGER NOT NULL DEFAULT 0,
      next_label_seq INTEGER NOT NULL DEFAULT 0,
      next_run_id INTEGER NOT NULL DEFAULT 1))sql",
    // A rowid table: WITHOUT ROWID suits small rows, not 512 KiB blobs.
    R"sql(CREATE TABLE batches(
      session_id TEXT NOT NULL REFERENCES sessions(id),
      first_row_id INTEGER NOT NULL,
      batch_id TEXT NOT NULL,
      row_count INTEGER NOT NULL,
      feature_count INTEGER NOT NULL,
      vals BLOB NOT NULL,
      crc INTEGER NOT NULL,
      PRIMARY KEY(session_id, first_row_id),
      UNIQUE(session_id, batch_id)))sql",
    // Every label submission; current labels are derived on load, so that
    // relabel history and current state can never disagree.
    R"sql(CREATE TABLE labels(
      session_id TEXT NOT NULL REFERENCES sessions(id),
      seq INTEGER NOT NULL,
      row_id INTEGER NOT NULL,
      anomaly INTEGER NOT NULL,
      time_micros INTEGER NOT NULL,
      PRIMARY KEY(session_id, seq)))sql",
    // Only the newest model: it replaces the previous one in the same
    // transaction that writes it.
    R"sql(CREATE TABLE models(
      session_id TEXT PRIMARY KEY NOT NULL REFERENCES sessions(id),
      version INTEGER NOT NULL,
      labels_revision INTEGER NOT NULL,
      created_micros INTEGER NOT NULL,
      bytes BLOB NOT NULL,
      crc INTEGER NOT NULL))sql",
    R"sql(CREATE TABLE training_runs(
      session_id TEXT NOT NULL REFERENCES sessions(id),
      run_id INTEGER NOT NULL,
      kind TEXT NOT NULL,
      started_micros INTEGER NOT NULL,
      finished INTEGER NOT NULL DEFAULT 0,
      outcome TEXT,
      PRIMARY KEY(session_id, run_id)))sql",
};

// Tables holding per-session rows, children first (foreign keys).
constexpr const char* kDeleteSession[] = {
    "DELETE FROM batches WHERE session_id = ?1",
    "DELETE FROM labels WHERE session_id = ?1",
    "DELETE FROM models WHERE session_id = ?1",
    "DELETE FROM training_runs WHERE session_id = ?1",
    "DELETE FROM sessions WHERE id = ?1",
};

bool IsNoSpace(int sys_errno) {
  return sys_errno == ENOSPC || sys_errno == EFBIG || sys_errno == EDQUOT;
}

absl::Status ErrnoStatus(int err, const std::string& message) {
  std::string full = absl::StrCat(message, ": ", std::strerror(err));
  if (IsNoSpace(err)) return absl::ResourceExhaustedError(full);
  if (err == EACCES || err == EPERM || err == EROFS) return absl::UnavailableError(full);
  if (err == ENOTDIR || err == EEXIST) return absl::FailedPreconditionError(full);
  return absl::UnavailableError(full);
}

void BindText(sqlite3_stmt* stmt, int index, const std::string& s) {
  sqlite3_bind_text(stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

std::string ColumnText(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  return text == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, column));
}

}  // namespace

// Resets a cached statement when the scope ends, so that no statement stays
// active (holding a read snapshot) and no binding outlives its data.
class SqliteSessionStore::Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* const stmt_;
};

// BEGIN on construction (Begin()), ROLLBACK unless Commit() succeeded.
class SqliteSessionStore::Transaction {
 public:
  explicit Transaction(SqliteSessionStore* store) ABSL_EXCLUSIVE_LOCKS_REQUIRED(store->mu_)
      : store_(store) {}
  ~Transaction() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    // SQLite rolls back by itself after some errors (SQLITE_FULL, I/O errors
    // during COMMIT); ROLLBACK then would fail, so ask first.
    if (active_ && !sqlite3_get_autocommit(store_->db_)) {
      sqlite3_exec(store_->db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  // `write` takes the write lock at once (BEGIN IMMEDIATE), so a read-then-
  // write transaction cannot fail half-way for want of the lock.
  absl::Status Begin(bool write) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    RETURN_IF_ERROR(store_->Exec(write ? "BEGIN IMMEDIATE" : "BEGIN"));
    active_ = true;
    return absl::OkStatus();
  }
  absl::Status Commit() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    RETURN_IF_ERROR(store_->Exec("COMMIT"));
    active_ = false;
    return absl::OkStatus();
  }

 private:
  SqliteSessionStore* const store_;
  bool active_ = false;
};

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
    for (const char* sql : kSchema) RETURN_IF_ERROR(Exec(sql));
    RETURN_IF_ERROR(Exec(absl::StrCat("PRAGMA application_id=", kApplicationId).c_str()));
    RETURN_IF_ERROR(Exec(absl::StrCat("PRAGMA user_version=", kSchemaVersion).c_str()));
    RETURN_IF_ERROR(txn.Commit());
  } else {
    // An existing store must be writable now, not at the first client's
    // write: take and release the write lock.
    Transaction txn(this);
    RETURN_IF_ERROR(txn.Begin(/*write=*/true));
    RETURN_IF_ERROR(Exec("UPDATE sessions SET id = id WHERE 0"));
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
      if (IsNoSpace(sys_errno)) return absl::ResourceExhaustedError(message);
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

absl::Status SqliteSessionStore::CreateSession(const std::string& id,
                                               const SessionOptions& options,
                                               int64_t created_micros) {
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
                     Prepare("INSERT INTO sessions(id, created_micros, options, feature_count) "
                             "VALUES (?1, ?2, ?3, ?4)"));
    Statement stmt(s);
    BindText(s, 1, id);
    sqlite3_bind_int64(s, 2, created_micros);
    BindText(s, 3, encoded);
    sqlite3_bind_int64(s, 4, options.feature_count);
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
    sqlite3_bind_int(s, 4, label.anomaly ? 1 : 0);
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
                     Prepare("INSERT INTO sessions(id, created_micros, options, feature_count) "
                             "VALUES (?1, ?2, ?3, ?4)"));
    Statement stmt(s);
    BindText(s, 1, record.id);
    sqlite3_bind_int64(s, 2, record.created_micros);
    BindText(s, 3, encoded);
    sqlite3_bind_int64(s, 4, record.options.feature_count);
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
  for (const char* sql : kDeleteSession) {
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
      if (rows != batch.row_count || features != batch.feature_count) {
        return absl::AlreadyExistsError(absl::StrCat(
            "session '", session, "': batch id '", batch.batch_id, "' was stored with ", rows,
            "x", features, " values, now sent with ", batch.row_count, "x",
            batch.feature_count));
      }
      return AppendResult{first, rows, true};
    }
  }
  if (batch.first_row_id != row.row_count) {
    return absl::FailedPreconditionError(
        absl::StrCat("session '", session, "': batch '", batch.batch_id, "' starts at row ",
                     batch.first_row_id, " but the store holds ", row.row_count, " rows"));
  }
  // feature_count is the session's fixed width (options) or the first
  // batch's; 0 until one of them sets it.
  if (row.feature_count != 0 && row.feature_count != batch.feature_count) {
    return absl::InvalidArgumentError(
        absl::StrCat("session '", session, "': batch '", batch.batch_id, "' has ",
                     batch.feature_count, " features, stored rows have ", row.feature_count));
  }
  RETURN_IF_ERROR(InsertBatchLocked(session, batch));
  RETURN_IF_ERROR(txn.Commit());
  return AppendResult{batch.first_row_id, batch.row_count, false};
}

absl::Status SqliteSessionStore::PutLabels(const std::string& session,
                                           absl::Span<const LabelRecord> labels) {
  MutexLock lock(&mu_);
  Transaction txn(this);
  RETURN_IF_ERROR(txn.Begin(/*write=*/true));
  ASSIGN_OR_RETURN(SessionRow row, FindSessionLocked(session));
  for (const LabelRecord& label : labels) {
    if (label.row_id < 0 || label.row_id >= row.row_count) {
      return absl::NotFoundError(absl::StrCat("session '", session, "': label names row ",
                                              label.row_id, ", the store holds ", row.row_count,
                                              " rows"));
    }
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

absl::StatusOr<std::vector<SessionSummary>> SqliteSessionStore::ListSessions() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(sqlite3_stmt * s,
                   Prepare("SELECT s.id, s.created_micros, s.row_count, "
                           "coalesce(m.version, 0) FROM sessions s "
                           "LEFT JOIN models m ON m.session_id = s.id ORDER BY s.id"));
  Statement stmt(s);
  std::vector<SessionSummary> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step(s, "list sessions"));
    if (!row) break;
    out.push_back(SessionSummary{ColumnText(s, 0), sqlite3_column_int64(s, 1),
                                 sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3)});
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
                     Prepare("SELECT created_micros, options FROM sessions WHERE id = ?1"));
    Statement stmt(s);
    BindText(s, 1, id);
    ASSIGN_OR_RETURN(bool row, Step(s, "load session"));
    if (!row) {
      return absl::NotFoundError(absl::StrCat("session '", id, "' is not stored in ", path_));
    }
    out.created_micros = sqlite3_column_int64(s, 0);
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
      out.label_history.push_back(LabelRecord{sqlite3_column_int64(s, 0),
                                              sqlite3_column_int(s, 1) != 0,
                                              sqlite3_column_int64(s, 2)});
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
