// PostgresSessionStore: the SessionStore on a PostgreSQL server, which
// several aadd replicas can share (DESIGN.md, "Durability and scale").
// Each acknowledged write is one transaction, committed (with the server's
// default synchronous_commit, on its WAL on stable storage) before the call
// returns; row batches and models are bytea with a CRC-32 checked on every
// load, as in the SQLite store.
//
// One caveat to "an error changed nothing" (session_store.h): when the
// connection breaks during COMMIT itself, the server may have committed
// what the call reports as UNAVAILABLE (no client of a remote database can
// tell). A retried AppendBatch is then a duplicate by its batch id; a
// retried PutLabels stores the submission a second time in the history,
// which leaves the current labels the same.
//
// Ownership between replicas (leases, epochs, takeover) is not here yet:
// the sessions table has the columns for it, but two aadd processes on one
// database would both write. Run one aadd per database until it comes.
#ifndef AADD_SERVER_STORAGE_POSTGRES_SESSION_STORE_H_
#define AADD_SERVER_STORAGE_POSTGRES_SESSION_STORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/storage/session_store.h"

namespace aad {

class PgConnection;
class PgConnectionPool;

struct PostgresStoreOptions {
  // Connections opened at Open() and shared by all calls: at most this
  // many store calls run at once; the others wait for a free one.
  int connections = 4;
  // A connection found broken (server restarted, backend terminated) is
  // re-established with up to this many attempts, the first at once, then
  // after reconnect_backoff, doubling; then the call fails UNAVAILABLE.
  int reconnect_attempts = 5;
  std::chrono::milliseconds reconnect_backoff{100};
};

class PostgresSessionStore final : public SessionStore {
 public:
  // schema_version.version of the schema this build writes and reads.
  static constexpr int kSchemaVersion = 1;

  // Whether `store` names a PostgreSQL server: it starts with
  // postgresql:// or postgres:// (libpq's URI prefixes).
  static bool IsUri(absl::string_view store);

  // Connects to `uri` (a libpq connection URI; the password from
  // PGPASSWORD or ~/.pgpass as libpq reads them, or the URI) and creates
  // the schema in an empty database, or checks an existing one. Errors name
  // the server (host, port, database; never a password): INVALID_ARGUMENT
  // for a URI of another scheme; UNAVAILABLE when it cannot be reached or
  // refuses; FAILED_PRECONDITION when the database holds tables that are
  // not an aadd store's, or a newer schema.
  static absl::StatusOr<std::unique_ptr<PostgresSessionStore>> Open(
      const std::string& uri, const PostgresStoreOptions& options = {});

  // Closes the connections. No call may be in flight.
  ~PostgresSessionStore() override;

  PostgresSessionStore(const PostgresSessionStore&) = delete;
  PostgresSessionStore& operator=(const PostgresSessionStore&) = delete;

  // "PostgreSQL at HOST:PORT (database 'DB', user 'USER')", for messages.
  const std::string& server() const;

  // Thread-safe; see SessionStore for the contract of each method. Each
  // call takes a connection of the pool for its transaction, so calls run
  // in parallel; writes to one session are serialised by a row lock on
  // its sessions row (SELECT ... FOR UPDATE).
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
  struct SessionRow {
    int64_t row_count = 0;
    int64_t feature_count = 0;
    int64_t next_label_seq = 0;
    int64_t next_run_id = 0;
  };

  explicit PostgresSessionStore(std::unique_ptr<PgConnectionPool> pool);

  absl::Status Initialize();
  absl::Status NotFound(const std::string& id) const;
  // The session's counters, its row locked until the transaction ends.
  absl::StatusOr<SessionRow> LockSession(PgConnection* connection, const std::string& id);
  absl::Status InsertSession(PgConnection* connection, const std::string& id,
                             int64_t created_micros, const SessionOptions& options,
                             const std::string& tenant);
  absl::Status InsertBatch(PgConnection* connection, const std::string& session,
                           const BatchRecord& batch);
  absl::Status InsertLabels(PgConnection* connection, const std::string& session,
                            int64_t first_seq, absl::Span<const LabelRecord> labels);
  absl::Status UpsertModel(PgConnection* connection, const std::string& session,
                           const ModelRecord& model);
  absl::Status LoadBatches(PgConnection* connection, SessionRecord* out);
  absl::Status LoadLabels(PgConnection* connection, SessionRecord* out);
  absl::Status LoadModel(PgConnection* connection, SessionRecord* out);
  absl::Status LoadOpenRuns(PgConnection* connection, SessionRecord* out);

  // Constant after construction; the pool is thread-safe.
  const std::unique_ptr<PgConnectionPool> pool_;
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_POSTGRES_SESSION_STORE_H_
