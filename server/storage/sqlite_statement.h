// Private to the SQLite store's sources: RAII for its cached statements
// and transactions, and binding helpers.
#ifndef AADD_SERVER_STORAGE_SQLITE_STATEMENT_H_
#define AADD_SERVER_STORAGE_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <string>

#include "core/util/status_macros.h"
#include "server/storage/sqlite_session_store.h"

namespace aad {

inline void BindText(sqlite3_stmt* stmt, int index, const std::string& s) {
  sqlite3_bind_text(stmt, index, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

inline std::string ColumnText(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  return text == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, column));
}

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

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_SQLITE_STATEMENT_H_
