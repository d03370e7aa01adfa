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
// Ownership between replicas: with PostgresStoreOptions::replica set, the
// store is also the replicas' SessionLeases (session_leases.h). Every
// write then locks its session's row, checks that this process holds the
// session at the epoch it took it with, and refuses (UNAVAILABLE, nothing
// stored) when another replica took it over: two replicas never both write
// one session. Without a replica name nothing is fenced: one aadd per
// database (and the store tests that play several processes in turn).
#ifndef AADD_SERVER_STORAGE_POSTGRES_SESSION_STORE_H_
#define AADD_SERVER_STORAGE_POSTGRES_SESSION_STORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/mutex.h"
#include "server/storage/session_leases.h"
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
  // This replica's name (aadd --replica_id); empty: no leases, no fencing.
  // The holder recorded in the store is the name plus "#" and four random
  // hex digits, new for each Open.
  std::string replica;
  // How long a lease lasts after Acquire or RenewAll (aadd --lease_seconds).
  std::chrono::milliseconds lease{10000};
};

class PostgresSessionStore final : public SessionStore, public SessionLeases {
 public:
  // schema_version.version of the schema this build writes (it reads and
  // migrates older ones). 2: sessions.wanted_by, for handing over.
  static constexpr int kSchemaVersion = 2;

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

  // The leases (session_leases.h; postgres_session_leases.cc). Only with
  // options.replica set: FAILED_PRECONDITION otherwise.
  const std::string& holder() const override { return holder_; }
  absl::StatusOr<LeaseGrant> Acquire(const std::string& session,
                                     const std::string& tenant) override;
  absl::StatusOr<LeaseRenewal> RenewAll() override;
  absl::Status Release(const std::string& session) override;
  absl::Status ReleaseAll() override;
  bool leases_enabled() const { return !holder_.empty(); }

 private:
  struct SessionRow {
    int64_t row_count = 0;
    int64_t feature_count = 0;
    int64_t next_label_seq = 0;
    int64_t next_run_id = 0;
  };

  PostgresSessionStore(std::unique_ptr<PgConnectionPool> pool, std::string holder,
                       std::chrono::milliseconds lease);

  absl::Status Initialize();
  absl::Status NotFound(const std::string& id) const;
  // The session's counters, its row locked until the transaction ends.
  // With leases, UNAVAILABLE (and the session forgotten) unless this
  // process holds it at the epoch stored: see CheckFence.
  absl::StatusOr<SessionRow> LockSession(PgConnection* connection, const std::string& id);
  // OK when leases are off, or this process holds `id` and the stored
  // holder and epoch are its own; UNAVAILABLE naming the holder otherwise.
  absl::Status CheckFence(const std::string& id, const std::string& owner, int64_t epoch)
      ABSL_LOCKS_EXCLUDED(held_mu_);
  // Records that this process holds `id` at `epoch` (after a commit).
  void Hold(const std::string& id, int64_t epoch) ABSL_LOCKS_EXCLUDED(held_mu_);
  void Forget(const std::string& id) ABSL_LOCKS_EXCLUDED(held_mu_);
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
  const std::string holder_;  // "" without leases
  const std::chrono::milliseconds lease_;

  // The sessions this process holds, with the epoch it took each at.
  mutable Mutex held_mu_;
  absl::flat_hash_map<std::string, int64_t> held_ ABSL_GUARDED_BY(held_mu_);
  // Sessions a write found taken over since the last RenewAll.
  absl::flat_hash_set<std::string> lost_ ABSL_GUARDED_BY(held_mu_);
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_POSTGRES_SESSION_STORE_H_
