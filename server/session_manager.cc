#include "server/session_manager.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/util/status_macros.h"
#include "server/log.h"
#include "server/storage/memory_session_store.h"
#include "format/feature_names.h"
#include "format/session_archive.h"

namespace aad {
namespace {

std::string NewSessionId() {
  // Unguessable enough to keep sessions apart; not a credential.
  thread_local absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

}  // namespace

absl::Status ValidateSessionId(const std::string& id) {
  const bool ok = !id.empty() && id.size() <= 64 &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                           c == '-';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "session id '", absl::CHexEscape(id), "' is not 1-64 characters of letters, digits, '_' and '-'"));
}

SessionManager::SessionManager(const SessionManagerOptions& options)
    : options_(options),
      owned_store_(options.store == nullptr ? std::make_unique<MemorySessionStore>() : nullptr),
      timed_store_(options.metrics == nullptr
                       ? nullptr
                       : std::make_unique<TimedSessionStore>(
                             options.store != nullptr ? options.store : owned_store_.get(),
                             options.metrics)),
      store_(timed_store_ != nullptr    ? timed_store_.get()
             : options.store != nullptr ? options.store
                                        : owned_store_.get()),
      pool_(options.training_threads, options.metrics),
      tenant_rows_(options.max_rows_per_tenant) {
  if (options_.leases != nullptr) {
    renewal_ = std::make_unique<PeriodicTask>(options_.lease_renewal, [this] { RenewLeases(); });
  }
}

absl::Status SessionManager::Restore() {
  if (options_.leases != nullptr) {
    LogInfo("", absl::StrCat("sessions are shared (holder ", options_.leases->holder(),
                             "): each is loaded on its first call"));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<SessionSummary> stored, store_->ListSessions());
  // Sessions are independent and their rebuild (rescoring the pool) is
  // CPU-bound: rebuild them on as many threads as training gets. The store
  // is thread-safe; each session's result goes to its own slot.
  std::vector<absl::Status> results(stored.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < stored.size();) {
      results[i] = RestoreOne(stored[i].id);
    }
  };
  const size_t workers =
      std::min(stored.size(), static_cast<size_t>(std::max(1, options_.training_threads)));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();  // this thread is one of the workers
  for (std::thread& t : threads) t.join();
  for (const absl::Status& result : results) RETURN_IF_ERROR(result);  // the first, in id order
  LogInfo("", absl::StrCat("restored ", stored.size(), " sessions"));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Rebuild(const SessionRecord& record) {
  auto session = Session::Restore(record, options_.limits, &pool_, store_, &tenant_rows_,
                                  options_.metrics);
  if (!session.ok()) {
    return absl::Status(session.status().code(),
                        absl::StrCat("cannot restore session ", record.id, ": ",
                                     session.status().message()));
  }
  if (options_.metrics != nullptr) options_.metrics->SessionAdded((*session)->Info().rows);
  // Held already: a restart never refuses what the store has.
  tenant_rows_.Add(record.tenant, record.row_count());
  return session;
}

std::string SessionManager::DescribeRestored(const SessionInfo& status) {
  return absl::StrCat(status.rows, " rows, ", status.labels, " labels, model version ",
                      status.model_version, status.last_training_error.empty() ? "" : "; ",
                      status.last_training_error);
}

absl::Status SessionManager::RestoreOne(const std::string& id) {
  ASSIGN_OR_RETURN(SessionRecord record, store_->LoadSession(id));
  ASSIGN_OR_RETURN(std::shared_ptr<Session> session, Rebuild(record));
  LogInfo(id, absl::StrCat("restored: ", DescribeRestored(session->Info())));
  MutexLock lock(&mu_);
  sessions_[id] = std::move(session);
  return absl::OkStatus();
}

SessionManager::~SessionManager() {
  renewal_.reset();
  CancelAll("server shutting down");
  if (options_.leases != nullptr) {
    if (absl::Status released = options_.leases->ReleaseAll(); !released.ok()) {
      LogWarning("", absl::StrCat("could not give up the leases (they lapse instead): ",
                                  released.message()));
    }
  }
  // Members go in reverse order: sessions_, then pool_, whose destructor
  // runs the queued jobs (they hold their own session references and, being
  // cancelled, only answer their callers) and joins the threads.
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Create(SessionOptions options,
                                                                std::string id,
                                                                const std::string& tenant) {
  if (!id.empty()) RETURN_IF_ERROR(ValidateSessionId(id));
  RETURN_IF_ERROR(options.config.Validate());
  if (options.feature_count < 0 || options.feature_count > options_.limits.max_features) {
    return absl::InvalidArgumentError(absl::StrCat("feature_count must be in 0..",
                                                   options_.limits.max_features, ", got ",
                                                   options.feature_count));
  }
  if (!options.feature_names.empty()) {
    const int64_t names = static_cast<int64_t>(options.feature_names.size());
    if (names > options_.limits.max_features) {
      return absl::ResourceExhaustedError(absl::StrCat(names, " features, the limit is ",
                                                       options_.limits.max_features,
                                                       " (--max_features)"));
    }
    // The rule an ingest's names pass too; without feature_count the names
    // fix it.
    RETURN_IF_ERROR(ValidateFeatureNames(
        options.feature_names, options.feature_count != 0 ? options.feature_count : names));
    options.feature_count = names;
  }
  ASSIGN_OR_RETURN(id, Reserve(std::move(id), tenant));
  // Stored outside mu_, so that a slow store never stalls other sessions.
  absl::Status stored =
      store_->CreateSession(id, options, absl::ToUnixMicros(absl::Now()), tenant);
  MutexLock lock(&mu_);
  creating_.erase(id);
  RETURN_IF_ERROR(stored);
  auto session = std::make_shared<Session>(id, std::move(options), options_.limits, &pool_,
                                           store_, tenant, &tenant_rows_, options_.metrics);
  sessions_[id] = session;
  TouchLocked(id);
  if (options_.metrics != nullptr) options_.metrics->SessionAdded(0);
  LogInfo(id, tenant.empty() ? std::string("created") : absl::StrCat("created for tenant ", tenant));
  return session;
}

int64_t SessionManager::TenantSessionsLocked(const std::string& tenant) const {
  int64_t held = 0;
  for (const auto& [id, session] : sessions_) held += session->tenant() == tenant ? 1 : 0;
  for (const auto& [id, owner] : creating_) held += owner == tenant ? 1 : 0;
  return held;
}

absl::StatusOr<std::string> SessionManager::Reserve(std::string id, const std::string& tenant) {
  MutexLock lock(&mu_);
  const int64_t held = static_cast<int64_t>(sessions_.size() + creating_.size());
  if (held >= options_.max_sessions) {
    return absl::ResourceExhaustedError(absl::StrCat("the server holds ", held,
                                                     " sessions, the limit is ",
                                                     options_.max_sessions, " (--max_sessions)"));
  }
  if (options_.max_sessions_per_tenant > 0) {
    // The caller's own count only: never another tenant's.
    const int64_t own = TenantSessionsLocked(tenant);
    if (own >= options_.max_sessions_per_tenant) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "tenant '", tenant, "' holds ", own, " sessions, the limit is ",
          options_.max_sessions_per_tenant, " (--max_sessions_per_tenant)"));
    }
  }
  if (id.empty()) {
    do id = NewSessionId(); while (sessions_.count(id) != 0 || creating_.count(id) != 0);
  } else if (sessions_.count(id) != 0 || creating_.count(id) != 0) {
    // Session ids are one namespace per server (a session-affine proxy
    // hashes the id alone), so an id another tenant holds cannot be given
    // again. The answer is the one the caller's own session would get, and
    // names neither the owner nor anything of the session: it says only
    // that the id is taken, which a client choosing ids must learn anyway.
    // NOT_FOUND would not do (the caller asked to create, not to read), and
    // server-chosen ids (128 random bits) leave nothing to probe.
    return absl::AlreadyExistsError(absl::StrCat("a session with id '", id, "' exists"));
  }
  creating_.emplace(id, tenant);
  return id;
}

absl::StatusOr<std::string> SessionManager::Export(const std::string& id,
                                                   const std::string& tenant) {
  // The lookup answers NOT_FOUND in the service's words (another tenant's
  // session too); the store then gives everything acknowledged, in one
  // snapshot. The archive carries no tenant.
  RETURN_IF_ERROR(Get(id, tenant).status());
  ASSIGN_OR_RETURN(SessionRecord record, store_->LoadSession(id));
  record.interrupted_training.clear();  // one process's history, not the session's
  return EncodeSessionArchive(record);
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Import(absl::string_view archive,
                                                                std::string id,
                                                                absl::string_view source,
                                                                const std::string& tenant) {
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(SessionRecord record, DecodeSessionArchive(archive, source));
  const absl::Time decoded = absl::Now();
  if (!id.empty()) record.id = std::move(id);
  record.tenant = tenant;
  RETURN_IF_ERROR(ValidateSessionId(record.id));
  RETURN_IF_ERROR(record.options.config.Validate());
  const int64_t features = record.batches.empty() ? record.options.feature_count
                                                  : record.batches.front().feature_count;
  if (features > options_.limits.max_features) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the archived session has ", features, " features, the limit is ",
        options_.limits.max_features, " (--max_features)"));
  }
  if (!record.options.feature_names.empty()) {
    // Names from another server (or a hand-made archive) pass the rule
    // names from a client do: the outputs print them as they are.
    absl::Status names = ValidateFeatureNames(
        record.options.feature_names,
        features != 0 ? features : static_cast<int64_t>(record.options.feature_names.size()));
    if (!names.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the archived session's ", names.message()));
    }
  }
  if (record.row_count() > options_.limits.max_rows_per_session) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the archived session holds ", record.row_count(), " rows, the limit is ",
        options_.limits.max_rows_per_session, " (--max_rows_per_session)"));
  }
  ASSIGN_OR_RETURN(const std::string reserved, Reserve(record.id, tenant));
  // The importer's rows count before anything is stored.
  if (absl::Status rows = tenant_rows_.Reserve(tenant, record.row_count()); !rows.ok()) {
    MutexLock lock(&mu_);
    creating_.erase(reserved);
    return rows;
  }
  // Stored before it exists in memory, as Create does; a session that
  // cannot be rebuilt is taken out of the store again.
  absl::Status stored = store_->PutSession(record);
  const absl::Time put = absl::Now();
  absl::StatusOr<std::shared_ptr<Session>> session =
      stored.ok() ? Session::Restore(record, options_.limits, &pool_, store_, &tenant_rows_,
                                     options_.metrics)
                  : absl::StatusOr<std::shared_ptr<Session>>(stored);
  if (!session.ok()) tenant_rows_.Release(tenant, record.row_count());
  if (stored.ok() && !session.ok()) {
    const absl::Status undone = store_->DeleteSession(reserved);
    if (!undone.ok()) {
      LogWarning(reserved, absl::StrCat("import failed and its stored copy could not be removed: ",
                                        undone.message()));
    }
  }
  {
    MutexLock lock(&mu_);
    creating_.erase(reserved);
    if (session.ok()) {
      sessions_[reserved] = *session;
      TouchLocked(reserved);
    }
  }
  RETURN_IF_ERROR(session.status());
  const absl::Time end = absl::Now();
  const SessionInfo status = (*session)->Info();
  if (options_.metrics != nullptr) options_.metrics->SessionAdded(status.rows);
  LogInfo(reserved,
          absl::StrCat("imported from ", source, ": ", status.rows, " rows, ", status.labels,
                       " labels, model version ", status.model_version, " in ",
                       absl::FormatDuration(end - start), " (decode ",
                       absl::FormatDuration(decoded - start), ", store ",
                       absl::FormatDuration(put - decoded), ", rebuild ",
                       absl::FormatDuration(end - put), ")"));
  return *std::move(session);
}

void SessionManager::TouchLocked(const std::string& id) {
  if (options_.idle_release.count() > 0) last_used_[id] = std::chrono::steady_clock::now();
}

absl::Status SessionManager::SessionNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("no session with id '", id, "'"));
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Get(const std::string& id,
                                                             const std::string& tenant) {
  {
    MutexLock lock(&mu_);
    // A session being taken over or released here: wait for the outcome.
    while (moving_.contains(id)) moved_.Wait(&mu_);
    auto it = sessions_.find(id);
    if (it != sessions_.end()) {
      // Another tenant's session is an unknown id, word for word.
      if (it->second->tenant() != tenant) return SessionNotFound(id);
      TouchLocked(id);
      return it->second;
    }
    if (options_.leases == nullptr) return SessionNotFound(id);
  }
  return TakeOver(id, tenant);
}

absl::StatusOr<std::vector<SessionInfo>> SessionManager::List(const std::string& after,
                                                              int page_size,
                                                              const std::string& tenant) {
  std::vector<SessionInfo> out;
  if (options_.leases != nullptr) {
    // The shared store knows every replica's sessions; those held here
    // answer for themselves.
    ASSIGN_OR_RETURN(std::vector<SessionSummary> stored, store_->ListSessions());
    MutexLock lock(&mu_);
    for (const SessionSummary& summary : stored) {
      if (static_cast<int>(out.size()) >= page_size) break;
      if (summary.id <= after || summary.tenant != tenant) continue;
      auto it = sessions_.find(summary.id);
      if (it != sessions_.end()) {
        out.push_back(it->second->Info());
        continue;
      }
      SessionInfo info;
      info.id = summary.id;
      info.rows = summary.row_count;
      info.model_version = summary.model_version;
      out.push_back(std::move(info));
    }
    return out;
  }
  MutexLock lock(&mu_);
  // A scan past other tenants' sessions: bounded by max_sessions.
  for (auto it = sessions_.upper_bound(after);
       it != sessions_.end() && static_cast<int>(out.size()) < page_size; ++it) {
    if (it->second->tenant() == tenant) out.push_back(it->second->Info());
  }
  return out;
}

absl::Status SessionManager::Delete(const std::string& id, const std::string& tenant) {
  ASSIGN_OR_RETURN(std::shared_ptr<Session> session, Get(id, tenant));
  // From the store first: a store error leaves the session whole.
  RETURN_IF_ERROR(session->DeleteFromStore());
  // No append can follow DeleteFromStore: the count is final.
  if (options_.metrics != nullptr) options_.metrics->SessionRemoved(session->Info().rows);
  tenant_rows_.Release(session->tenant(), session->Info().rows);
  {
    MutexLock lock(&mu_);
    auto it = sessions_.find(id);
    if (it != sessions_.end() && it->second == session) sessions_.erase(it);
  }
  session->Cancel("session deleted");
  LogInfo(id, "deleted");
  return absl::OkStatus();
}

void SessionManager::CancelAll(const std::string& reason) {
  std::vector<std::shared_ptr<Session>> all;
  {
    MutexLock lock(&mu_);
    for (auto& [id, s] : sessions_) all.push_back(s);
  }
  for (auto& s : all) s->Cancel(reason);
}

}  // namespace aad
