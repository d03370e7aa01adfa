// SessionManager with a shared store (session_leases.h): taking a session
// over on its first call, renewing the leases of the sessions held here,
// dropping the ones lost and handing over or releasing the others.
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/log.h"
#include "server/session_manager.h"

namespace aad {

absl::StatusOr<std::shared_ptr<Session>> SessionManager::TakeOver(const std::string& id,
                                                                  const std::string& tenant) {
  {
    MutexLock lock(&mu_);
    while (moving_.contains(id)) moved_.Wait(&mu_);
    // Another call may have taken it over while this one waited.
    if (auto it = sessions_.find(id); it != sessions_.end()) {
      if (it->second->tenant() != tenant) return SessionNotFound(id);
      return it->second;
    }
    const int64_t held = static_cast<int64_t>(sessions_.size() + creating_.size());
    if (held >= options_.max_sessions) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the server holds ", held, " sessions, the limit is ",
                       options_.max_sessions, " (--max_sessions); session '", id,
                       "' stays with the store for another replica"));
    }
    moving_.insert(id);
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<std::shared_ptr<Session>> result =
      [&]() -> absl::StatusOr<std::shared_ptr<Session>> {
    absl::StatusOr<LeaseGrant> grant = options_.leases->Acquire(id, tenant);
    if (absl::IsNotFound(grant.status())) return SessionNotFound(id);
    if (!grant.ok()) return grant.status();
    absl::StatusOr<SessionRecord> record = store_->LoadSession(id);
    const absl::Time loaded = absl::Now();
    absl::StatusOr<std::shared_ptr<Session>> session =
        record.ok() ? Rebuild(*record) : absl::StatusOr<std::shared_ptr<Session>>(record.status());
    if (!session.ok()) {
      // Not ours to keep: another replica may do better (or report the same).
      if (absl::Status released = options_.leases->Release(id); !released.ok()) {
        LogWarning(id, absl::StrCat("could not give the lease up after a failed load: ",
                                    released.message()));
      }
      return session.status();
    }
    const absl::Time end = absl::Now();
    LogInfo(id, absl::StrCat("took over (epoch ", grant->epoch, ", previous holder '",
                             grant->previous_holder.empty() ? "none" : grant->previous_holder,
                             "') in ", absl::FormatDuration(end - start), " (load ",
                             absl::FormatDuration(loaded - start), ", rebuild ",
                             absl::FormatDuration(end - loaded),
                             "): ", DescribeRestored((*session)->Info())));
    return session;
  }();
  {
    MutexLock lock(&mu_);
    moving_.erase(id);
    if (result.ok()) {
      sessions_[id] = *result;
      TouchLocked(id);
    }
  }
  moved_.SignalAll();
  return result;
}

void SessionManager::RenewLeases() {
  absl::StatusOr<LeaseRenewal> renewal = options_.leases->RenewAll();
  if (!renewal.ok()) {
    LogWarning("", absl::StrCat("could not renew the leases (retrying at the next renewal): ",
                                renewal.status().message()));
    return;
  }
  for (const std::string& id : renewal->lost) {
    Drop(id, /*release=*/false, "dropped: another replica took the session over");
  }
  for (const WantedSession& wanted : renewal->wanted) {
    Drop(wanted.id, /*release=*/true,
         absl::StrCat("released (handed over to '", wanted.by, "', which asked for it)"));
  }
  if (options_.idle_release.count() <= 0) return;
  std::vector<std::string> idle;
  {
    const auto cutoff = std::chrono::steady_clock::now() - options_.idle_release;
    MutexLock lock(&mu_);
    for (const auto& [id, used] : last_used_) {
      if (used < cutoff) idle.push_back(id);
    }
  }
  for (const std::string& id : idle) {
    Drop(id, /*release=*/true,
         absl::StrCat("released (idle for ", options_.idle_release.count(), " s)"));
  }
}

bool SessionManager::Drop(const std::string& id, bool release, const std::string& why) {
  std::shared_ptr<Session> session;
  {
    MutexLock lock(&mu_);
    if (moving_.contains(id)) return false;
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return false;
    // sessions_ holds one reference; any other is a call in flight or
    // training: a session in use is not handed over (it is, next time).
    if (release && it->second.use_count() > 1) return false;
    session = std::move(it->second);
    sessions_.erase(it);
    last_used_.erase(id);
    if (release) moving_.insert(id);
  }
  session->Cancel(why);
  if (release) {
    if (absl::Status released = options_.leases->Release(id); !released.ok()) {
      LogWarning(id, absl::StrCat("could not give the lease up (it lapses instead): ",
                                  released.message()));
    }
    {
      MutexLock lock(&mu_);
      moving_.erase(id);
    }
    moved_.SignalAll();
  }
  const int64_t rows = session->Info().rows;
  if (options_.metrics != nullptr) options_.metrics->SessionRemoved(rows);
  tenant_rows_.Release(session->tenant(), rows);
  LogInfo(id, why);
  return true;
}

}  // namespace aad
