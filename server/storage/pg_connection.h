// One libpq connection of the PostgreSQL store, with what a call needs on
// it: prepared statements (prepared on first use, again after a
// reconnect: they live in the server's backend), parameters and results,
// and reconnection with backoff. Private to server/storage.
//
// Not thread-safe: one caller at a time, which PgConnectionPool ensures.
#ifndef AADD_SERVER_STORAGE_PG_CONNECTION_H_
#define AADD_SERVER_STORAGE_PG_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct pg_conn;
struct pg_result;

namespace aad {

// A statement the store prepares: a name unique in the store and its SQL
// ($1, $2... for parameters).
struct PgStatement {
  const char* name;
  const char* sql;
};

// Parameters of one statement: numbers in text format, text and bytea in
// binary (their bytes with a length: no escaping, no hex doubling of a
// 512 KiB batch, no truncation at a NUL). Text() copies; the bytes passed
// to Bytes() must outlive the call.
class PgParams {
 public:
  PgParams& Text(absl::string_view s);
  PgParams& Int(int64_t v);
  PgParams& Bytes(absl::string_view bytes);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::deque<std::string> owned_;  // stable addresses for Int()'s digits
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A statement's result, cleared when it goes out of scope. Reads columns in
// either format (binary results are asked for where bytea comes back).
class PgResult {
 public:
  explicit PgResult(pg_result* result);
  int rows() const;
  // Rows an INSERT, UPDATE or DELETE touched.
  int64_t affected() const;
  int64_t Int(int row, int column) const;
  std::string Text(int row, int column) const;
  absl::string_view Bytes(int row, int column) const;
  bool IsNull(int row, int column) const;

 private:
  struct Clear {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

struct PgReconnectPolicy {
  // Attempts of PQreset after a connection is found broken, the first one
  // at once, then waiting initial_backoff, doubling each time.
  int attempts = 5;
  std::chrono::milliseconds initial_backoff{100};
};

class PgConnection {
 public:
  // Connects to `uri` (a libpq URI or conninfo; the password from it,
  // PGPASSWORD or ~/.pgpass, as libpq does). UNAVAILABLE naming the server
  // when it cannot be reached or refuses.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const std::string& uri,
                                                               PgReconnectPolicy policy);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // "postgresql://user@host:port/db": what messages name (no password).
  const std::string& server() const { return server_; }

  // OK when the connection works or was re-established (PQreset, bounded
  // attempts with doubling backoff); UNAVAILABLE naming the server after
  // the last attempt.
  absl::Status EnsureConnected();
  // Whether the connection is still CONNECTION_OK as far as libpq knows.
  bool ok() const;

  // Runs a statement without parameters (BEGIN, COMMIT, DDL).
  absl::Status Exec(const char* sql, absl::string_view what);
  // Runs `statement`, preparing it first on this connection if needed.
  // `binary_result` asks for every column in binary (for bytea).
  absl::StatusOr<PgResult> Run(const PgStatement& statement, const PgParams& params,
                               absl::string_view what, bool binary_result = false);

 private:
  PgConnection(pg_conn* conn, std::string server, PgReconnectPolicy policy);

  pg_conn* const conn_;
  const std::string server_;
  const PgReconnectPolicy policy_;
  absl::flat_hash_set<std::string> prepared_;  // statement names prepared on this backend
};

// BEGIN in Begin(), ROLLBACK when it ends without Commit(). Begin() is
// where a broken connection is repaired: nothing of the transaction has
// been sent yet, so reconnecting and beginning again cannot repeat a write.
class PgTransaction {
 public:
  explicit PgTransaction(PgConnection* connection) : connection_(connection) {}
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;

  // `read_only_snapshot`: REPEATABLE READ READ ONLY, one snapshot for a
  // read across tables; otherwise READ COMMITTED, the writes locking the
  // session's row first (SELECT ... FOR UPDATE).
  absl::Status Begin(bool read_only_snapshot = false);
  absl::Status Commit();

 private:
  PgConnection* const connection_;
  bool active_ = false;
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_PG_CONNECTION_H_
