#include "server/session_manager.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/util/status_macros.h"
#include "server/log.h"

namespace aadd {
namespace {

std::string NewSessionId() {
  // Unguessable enough to keep sessions apart; not a credential.
  thread_local absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

absl::Status ValidateSessionId(const std::string& id) {
  const bool ok = !id.empty() && id.size() <= 64 &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                           c == '-';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "session id '", id, "' is not 1-64 characters of letters, digits, '_' and '-'"));
}

}  // namespace

SessionManager::SessionManager(const SessionManagerOptions& options)
    : options_(options), pool_(options.training_threads) {}

SessionManager::~SessionManager() {
  CancelAll("server shutting down");
  // Members go in reverse order: sessions_, then pool_, whose destructor
  // runs the queued jobs (they hold their own session references and, being
  // cancelled, only answer their callers) and joins the threads.
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Create(SessionOptions options,
                                                                std::string id) {
  if (!id.empty()) RETURN_IF_ERROR(ValidateSessionId(id));
  RETURN_IF_ERROR(options.config.Validate());
  if (options.feature_count < 0 || options.feature_count > options_.limits.max_features) {
    return absl::InvalidArgumentError(absl::StrCat("feature_count must be in 0..",
                                                   options_.limits.max_features, ", got ",
                                                   options.feature_count));
  }
  if (!options.feature_names.empty()) {
    const int64_t names = static_cast<int64_t>(options.feature_names.size());
    if (options.feature_count != 0 && options.feature_count != names) {
      return absl::InvalidArgumentError(absl::StrCat(names, " feature names given for ",
                                                     options.feature_count, " features"));
    }
    if (names > options_.limits.max_features) {
      return absl::ResourceExhaustedError(absl::StrCat(names, " features, the limit is ",
                                                       options_.limits.max_features,
                                                       " (--max_features)"));
    }
    options.feature_count = names;
  }
  MutexLock lock(&mu_);
  if (static_cast<int64_t>(sessions_.size()) >= options_.max_sessions) {
    return absl::ResourceExhaustedError(absl::StrCat("the server holds ", sessions_.size(),
                                                     " sessions, the limit is ",
                                                     options_.max_sessions, " (--max_sessions)"));
  }
  if (id.empty()) {
    do id = NewSessionId(); while (sessions_.count(id) != 0);
  } else if (sessions_.count(id) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("a session with id '", id, "' exists"));
  }
  auto session = std::make_shared<Session>(id, std::move(options), options_.limits, &pool_);
  sessions_[id] = session;
  LogInfo(id, "created");
  return session;
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Get(const std::string& id) const {
  MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    return absl::NotFoundError(absl::StrCat("no session with id '", id, "'"));
  }
  return it->second;
}

std::vector<std::shared_ptr<Session>> SessionManager::List(const std::string& after,
                                                           int page_size) const {
  std::vector<std::shared_ptr<Session>> out;
  MutexLock lock(&mu_);
  for (auto it = sessions_.upper_bound(after);
       it != sessions_.end() && static_cast<int>(out.size()) < page_size; ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::Status SessionManager::Delete(const std::string& id) {
  std::shared_ptr<Session> session;
  {
    MutexLock lock(&mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) {
      return absl::NotFoundError(absl::StrCat("no session with id '", id, "'"));
    }
    session = std::move(it->second);
    sessions_.erase(it);
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

}  // namespace aadd
