// Owns every session of the process and the training pool they share.
// Sessions are handed out as std::shared_ptr so that a call in flight keeps
// its session alive while another call deletes it. Every session lives in a
// SessionStore too: created and deleted there first, restored from it at
// start (Restore), or, with a store that several replicas share, taken
// over lazily on a session's first call here (see SessionLeases).
#ifndef AADD_SERVER_SESSION_MANAGER_H_
#define AADD_SERVER_SESSION_MANAGER_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/metrics/session_metrics.h"
#include "server/metrics/timed_session_store.h"
#include "server/mutex.h"
#include "server/periodic_task.h"
#include "server/session.h"
#include "server/storage/session_leases.h"
#include "server/storage/session_store.h"
#include "server/tenant_rows.h"
#include "server/thread_training_pool.h"

namespace aad {

struct SessionManagerOptions {
  int64_t max_sessions = 1000;
  int training_threads = 2;
  SessionLimits limits;
  // Largest session archive ImportSession takes (it is held in memory).
  int64_t max_import_bytes = int64_t{4} << 30;
  // Where sessions are stored; not owned, must outlive the manager. Null: an
  // in-memory store owned by the manager (nothing survives the process).
  SessionStore* store = nullptr;
  // Where sessions, the training pool and the store's writes report (not
  // owned, must outlive the manager); null: no metrics.
  SessionMetrics* metrics = nullptr;
  // Per tenant (issue 14; the anonymous tenant "" counts as one): sessions
  // it may hold, rows all its sessions may hold together. 0: no limit.
  int64_t max_sessions_per_tenant = 0;
  int64_t max_rows_per_tenant = 0;
  // The store's leases, when replicas share it (the PostgreSQL store; not
  // owned, must outlive the manager). Null: this process alone serves the
  // store's sessions and restores all of them at start.
  SessionLeases* leases = nullptr;
  // With leases: how often the held ones are renewed (a third of the lease
  // time, so that two renewals may fail before one lapses).
  std::chrono::milliseconds lease_renewal{3333};
  // With leases: a session without a call for this long is released at a
  // renewal (its memory freed; the next call anywhere loads it). 0: never.
  std::chrono::seconds idle_release{0};
};

// OK for 1-64 characters of [A-Za-z0-9_-]; INVALID_ARGUMENT naming the id
// (escaped) otherwise.
absl::Status ValidateSessionId(const std::string& id);

// Thread-safe.
//
// Tenants: every session belongs to the tenant that created or imported
// it, and every method that names a session takes the calling tenant ("":
// the anonymous one, all there is without --auth_tokens). Another tenant's
// session is answered exactly as an unknown id is (NOT_FOUND, the same
// message), so that no tenant learns which ids another holds, and List
// shows a tenant its own sessions only.
class SessionManager {
 public:
  explicit SessionManager(const SessionManagerOptions& options);
  // Cancels every session's training and waits for the training threads;
  // with leases, gives up every lease, so that other replicas take the
  // sessions over at once rather than when the leases lapse.
  ~SessionManager();

  // Loads every stored session (call once, before serving): rows, labels,
  // the newest model (scores bit-identical to before the restart), and
  // logs each one. Sessions are rebuilt in parallel on training_threads
  // threads. The store's error, or DATA_LOSS naming the session.
  // With leases it loads nothing: each session is taken over on its first
  // call (Get), so a replica never loads the whole shared store.
  absl::Status Restore();

  // Validates `options` (INVALID_ARGUMENT naming the field), stores and
  // creates a session. RESOURCE_EXHAUSTED at max_sessions; the store's
  // error when it cannot store the session.
  // `id` empty: a fresh random id; otherwise the client's choice, which must
  // be 1-64 characters of [A-Za-z0-9_-] (INVALID_ARGUMENT) and unused
  // (ALREADY_EXISTS).
  // RESOURCE_EXHAUSTED at max_sessions_per_tenant too, naming the tenant's
  // count. A client-chosen id another tenant holds is ALREADY_EXISTS, as
  // for one's own: see Reserve.
  absl::StatusOr<std::shared_ptr<Session>> Create(SessionOptions options, std::string id = "",
                                                  const std::string& tenant = "");
  // The session as archive bytes (session_archive.h), read from the store
  // in one consistent snapshot: everything acknowledged so far, the newest
  // published model. NOT_FOUND naming the id; the store's error.
  absl::StatusOr<std::string> Export(const std::string& id, const std::string& tenant = "");
  // Creates a session from archive bytes: stored first (all or nothing),
  // then rebuilt as at a restart, so scores and candidates equal the
  // exported session's bit for bit; labels newer than the archived model
  // schedule an update. `id` empty keeps the archive's id. DATA_LOSS naming
  // `source` for a corrupt archive; INVALID_ARGUMENT for a malformed id;
  // ALREADY_EXISTS when the id is taken; RESOURCE_EXHAUSTED beyond a limit.
  // The archive carries no tenant: the session belongs to `tenant`, the
  // importer.
  absl::StatusOr<std::shared_ptr<Session>> Import(absl::string_view archive, std::string id,
                                                  absl::string_view source,
                                                  const std::string& tenant = "");
  // NOT_FOUND naming the id, for an unknown id and another tenant's alike.
  // With leases, a stored session not held here is taken over: its lease
  // taken (epoch + 1), then loaded and rebuilt as at a restart (scores
  // bit-identical to the previous holder's). UNAVAILABLE naming the holder
  // while another live replica holds it; concurrent calls for one session
  // wait for one load.
  absl::StatusOr<std::shared_ptr<Session>> Get(const std::string& id,
                                               const std::string& tenant = "");
  // Up to page_size of the tenant's sessions with ids after `after`, in id
  // order. With leases, every session of the tenant in the store: those
  // held elsewhere (or nowhere) with id, rows and model version only.
  absl::StatusOr<std::vector<SessionInfo>> List(const std::string& after, int page_size,
                                                const std::string& tenant = "");
  // Removes the session from the store, then from memory, and cancels its
  // training. NOT_FOUND naming the id (as Get); a store error leaves it in
  // place.
  absl::Status Delete(const std::string& id, const std::string& tenant = "");
  // Cancels every session's training (graceful shutdown); sessions stay
  // readable, new training is refused.
  void CancelAll(const std::string& reason);

  const SessionManagerOptions& options() const { return options_; }

 private:
  // Constant after construction.
  const SessionManagerOptions options_;
  std::unique_ptr<SessionStore> owned_store_;  // when options.store is null
  // The store, timed when metrics are on.
  std::unique_ptr<TimedSessionStore> timed_store_;
  SessionStore* const store_;
  // Declared before sessions_: destroyed after them, once its jobs drained.
  ThreadTrainingPool pool_;
  // Every session's rows by tenant (max_rows_per_tenant); outlives them.
  TenantRows tenant_rows_;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
  // Ids being stored by Create or Import (the store write runs outside
  // mu_), with the tenant each is for.
  absl::flat_hash_map<std::string, std::string> creating_ ABSL_GUARDED_BY(mu_);
  // With leases: ids being taken over or released (store calls outside
  // mu_); a Get for one waits on moved_ until it is done.
  absl::flat_hash_set<std::string> moving_ ABSL_GUARDED_BY(mu_);
  CondVar moved_;
  // With idle_release: when each session was last handed out by Get.
  absl::flat_hash_map<std::string, std::chrono::steady_clock::time_point> last_used_
      ABSL_GUARDED_BY(mu_);

  // "no session with id 'ID'": the answer for an unknown id and for
  // another tenant's alike.
  static absl::Status SessionNotFound(const std::string& id);
  // "R rows, L labels, model version V[; error]" for the log.
  static std::string DescribeRestored(const SessionInfo& status);
  // Records a call of `id` now (idle_release).
  void TouchLocked(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Loads, rebuilds and adds one stored session.
  absl::Status RestoreOne(const std::string& id) ABSL_LOCKS_EXCLUDED(mu_);
  // The session in `record`, rebuilt as at a restart and counted (metrics,
  // tenant rows); not added to sessions_.
  absl::StatusOr<std::shared_ptr<Session>> Rebuild(const SessionRecord& record);
  // Get's path for a session not held here (leases only).
  absl::StatusOr<std::shared_ptr<Session>> TakeOver(const std::string& id,
                                                    const std::string& tenant)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Renews the leases; drops the sessions lost, hands over the wanted and
  // releases the idle ones that nothing runs on. Every lease_renewal.
  void RenewLeases() ABSL_LOCKS_EXCLUDED(mu_);
  // Takes `id` out of sessions_ and cancels it; with `release`, gives up
  // its lease first (only when nothing runs on it: false otherwise, and it
  // stays). `why` goes to the log.
  bool Drop(const std::string& id, bool release, const std::string& why)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Reserves `id` (empty: a fresh one) for `tenant` in creating_ under the
  // session limits. RESOURCE_EXHAUSTED at max_sessions or
  // max_sessions_per_tenant, ALREADY_EXISTS when taken.
  absl::StatusOr<std::string> Reserve(std::string id, const std::string& tenant)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Sessions `tenant` holds and is creating.
  int64_t TenantSessionsLocked(const std::string& tenant) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Last: stopped first, before anything it uses goes.
  std::unique_ptr<PeriodicTask> renewal_;
};

}  // namespace aad

#endif  // AADD_SERVER_SESSION_MANAGER_H_
