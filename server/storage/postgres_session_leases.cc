// The PostgreSQL store as the replicas' SessionLeases (session_leases.h):
// each lease is three columns of the session's row (owner, epoch,
// lease_expires_micros), changed by one UPDATE under the row's lock, with
// the server's clock for every time, so that replicas' clocks never meet.
#include <chrono>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_connection_pool.h"
#include "server/storage/postgres_session_store.h"

namespace aad {
namespace {

#define AADD_PG_NOW "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"

// The previous holder comes from the row as locked before the UPDATE.
constexpr PgStatement kAcquire = {
    "acquire_lease",
    "WITH prev AS (SELECT id, owner FROM sessions WHERE id = $1 AND tenant = $4 FOR UPDATE) "
    "UPDATE sessions s SET owner = $2, epoch = s.epoch + 1, wanted_by = '', "
    "lease_expires_micros = " AADD_PG_NOW " + $3 FROM prev "
    "WHERE s.id = prev.id AND (s.owner = '' OR s.owner = $2 OR "
    "s.lease_expires_micros <= " AADD_PG_NOW ") RETURNING s.epoch, prev.owner"};
constexpr PgStatement kReadLease = {
    "read_lease", "SELECT owner, lease_expires_micros - " AADD_PG_NOW
                  " FROM sessions WHERE id = $1 AND tenant = $2"};
constexpr PgStatement kWant = {
    "want_session", "UPDATE sessions SET wanted_by = $2 WHERE id = $1 AND owner <> $2"};
// $3: the ids held, comma-separated (session ids hold no comma).
constexpr PgStatement kRenew = {
    "renew_leases",
    "UPDATE sessions SET lease_expires_micros = " AADD_PG_NOW " + $2 "
    "WHERE owner = $1 AND id = ANY(string_to_array($3, ',')) RETURNING id, epoch, wanted_by"};
constexpr PgStatement kRelease = {
    "release_lease",
    "UPDATE sessions SET owner = '', lease_expires_micros = 0 "
    "WHERE id = $1 AND owner = $2 AND epoch = $3"};
constexpr PgStatement kReleaseAll = {
    "release_all_leases",
    "UPDATE sessions SET owner = '', lease_expires_micros = 0 WHERE owner = $1"};

#undef AADD_PG_NOW

absl::Status NoLeases() {
  return absl::FailedPreconditionError(
      "this PostgreSQL store was opened without a replica name: it has no leases");
}

}  // namespace

void PostgresSessionStore::Hold(const std::string& id, int64_t epoch) {
  if (!leases_enabled()) return;
  MutexLock lock(&held_mu_);
  held_[id] = epoch;
  lost_.erase(id);
}

void PostgresSessionStore::Forget(const std::string& id) {
  if (!leases_enabled()) return;
  MutexLock lock(&held_mu_);
  held_.erase(id);
}

absl::Status PostgresSessionStore::CheckFence(const std::string& id, const std::string& owner,
                                              int64_t epoch) {
  if (!leases_enabled()) return absl::OkStatus();
  MutexLock lock(&held_mu_);
  auto it = held_.find(id);
  if (it != held_.end() && owner == holder_ && epoch == it->second) return absl::OkStatus();
  const std::string held =
      it == held_.end() ? std::string("does not hold it")
                        : absl::StrCat("held it at epoch ", it->second);
  // Once lost, lost for good: only a new Acquire (a takeover) holds it
  // again. The next RenewAll reports it, for the replica to drop it.
  if (it != held_.end()) {
    held_.erase(it);
    lost_.insert(id);
  }
  return absl::UnavailableError(absl::StrCat(
      "session '", id, "' was taken over by replica '", owner.empty() ? "(none)" : owner,
      "' (epoch ", epoch, "; this replica, ", holder_, ", ", held, "): nothing stored; retry"));
}

absl::StatusOr<LeaseGrant> PostgresSessionStore::Acquire(const std::string& session,
                                                         const std::string& tenant) {
  if (!leases_enabled()) return NoLeases();
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  const int64_t lease_micros = std::chrono::microseconds(lease_).count();
  ASSIGN_OR_RETURN(PgResult taken,
                   connection->Run(kAcquire,
                                   PgParams().Text(session).Text(holder_).Int(lease_micros).Text(
                                       tenant),
                                   absl::StrCat("take the lease of session '", session, "'")));
  if (taken.rows() == 1) {
    LeaseGrant grant{taken.Int(0, 0), taken.Text(0, 1)};
    RETURN_IF_ERROR(txn.Commit());
    Hold(session, grant.epoch);
    return grant;
  }
  ASSIGN_OR_RETURN(PgResult lease,
                   connection->Run(kReadLease, PgParams().Text(session).Text(tenant),
                                   absl::StrCat("read the lease of session '", session, "'")));
  if (lease.rows() == 0) return NotFound(session);
  const std::string owner = lease.Text(0, 0);
  const double left_seconds = static_cast<double>(lease.Int(0, 1)) / 1e6;
  RETURN_IF_ERROR(connection
                      ->Run(kWant, PgParams().Text(session).Text(holder_),
                            absl::StrCat("ask for session '", session, "'"))
                      .status());
  RETURN_IF_ERROR(txn.Commit());
  return absl::UnavailableError(absl::StrFormat(
      "session '%s' is held by replica '%s' (lease for another %.1f s); it was asked to hand "
      "the session over: retry",
      session, owner, left_seconds));
}

absl::StatusOr<LeaseRenewal> PostgresSessionStore::RenewAll() {
  if (!leases_enabled()) return NoLeases();
  absl::flat_hash_map<std::string, int64_t> held;
  LeaseRenewal out;
  {
    MutexLock lock(&held_mu_);
    held = held_;
    out.lost.assign(lost_.begin(), lost_.end());
    lost_.clear();
  }
  if (held.empty()) return out;
  std::vector<std::string> ids;
  ids.reserve(held.size());
  for (const auto& [id, epoch] : held) ids.push_back(id);
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  ASSIGN_OR_RETURN(PgResult r,
                   connection->Run(kRenew,
                                   PgParams()
                                       .Text(holder_)
                                       .Int(std::chrono::microseconds(lease_).count())
                                       .Text(absl::StrJoin(ids, ",")),
                                   "renew leases"));
  RETURN_IF_ERROR(txn.Commit());
  absl::flat_hash_set<std::string> kept;
  for (int i = 0; i < r.rows(); ++i) {
    const std::string id = r.Text(i, 0);
    auto it = held.find(id);
    // The same holder name at another epoch cannot happen (a holder
    // name is one process's), but it would be another's takeover.
    if (it == held.end() || it->second != r.Int(i, 1)) continue;
    kept.insert(id);
    const std::string wanted_by = r.Text(i, 2);
    if (!wanted_by.empty() && wanted_by != holder_) out.wanted.push_back({id, wanted_by});
  }
  MutexLock lock(&held_mu_);
  for (const auto& [id, epoch] : held) {
    if (kept.contains(id)) continue;
    auto it = held_.find(id);
    // Taken again meanwhile (a newer epoch of ours) is not lost.
    if (it != held_.end() && it->second != epoch) continue;
    held_.erase(id);
    out.lost.push_back(id);
  }
  return out;
}

absl::Status PostgresSessionStore::Release(const std::string& session) {
  if (!leases_enabled()) return NoLeases();
  int64_t epoch = 0;
  {
    MutexLock lock(&held_mu_);
    auto it = held_.find(session);
    if (it == held_.end()) return absl::OkStatus();
    epoch = it->second;
    // Forgotten first: no write of ours passes the fence from here on.
    held_.erase(it);
  }
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());  // its Begin repairs a broken connection
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(connection
                      ->Run(kRelease, PgParams().Text(session).Text(holder_).Int(epoch),
                            absl::StrCat("release session '", session, "'"))
                      .status());
  return txn.Commit();
}

absl::Status PostgresSessionStore::ReleaseAll() {
  if (!leases_enabled()) return NoLeases();
  {
    MutexLock lock(&held_mu_);
    held_.clear();
  }
  PgConnectionPool::Lease connection = pool_->Take();
  PgTransaction txn(connection.get());
  RETURN_IF_ERROR(txn.Begin());
  RETURN_IF_ERROR(
      connection->Run(kReleaseAll, PgParams().Text(holder_), "release every lease").status());
  return txn.Commit();
}

}  // namespace aad
