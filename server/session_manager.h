// Owns every session of the process and the training pool they share.
// Sessions are handed out as std::shared_ptr so that a call in flight keeps
// its session alive while another call deletes it.
#ifndef AADD_SERVER_SESSION_MANAGER_H_
#define AADD_SERVER_SESSION_MANAGER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "server/mutex.h"
#include "server/session.h"
#include "server/training_pool.h"

namespace aadd {

struct SessionManagerOptions {
  int64_t max_sessions = 1000;
  int training_threads = 2;
  SessionLimits limits;
};

// Thread-safe.
class SessionManager {
 public:
  explicit SessionManager(const SessionManagerOptions& options);
  // Cancels every session's training and waits for the training threads.
  ~SessionManager();

  // Validates `options` (INVALID_ARGUMENT naming the field) and creates a
  // session with a fresh random id. RESOURCE_EXHAUSTED at max_sessions.
  // `id` empty: a fresh random id; otherwise the client's choice, which must
  // be 1-64 characters of [A-Za-z0-9_-] (INVALID_ARGUMENT) and unused
  // (ALREADY_EXISTS).
  absl::StatusOr<std::shared_ptr<Session>> Create(SessionOptions options, std::string id = "");
  // NOT_FOUND naming the id.
  absl::StatusOr<std::shared_ptr<Session>> Get(const std::string& id) const;
  // Up to page_size sessions with ids after `after`, in id order.
  std::vector<std::shared_ptr<Session>> List(const std::string& after, int page_size) const;
  // Removes the session and cancels its training. NOT_FOUND naming the id.
  absl::Status Delete(const std::string& id);
  // Cancels every session's training (graceful shutdown); sessions stay
  // readable, new training is refused.
  void CancelAll(const std::string& reason);

  const SessionManagerOptions& options() const { return options_; }

 private:
  // Constant after construction.
  const SessionManagerOptions options_;
  // Declared before sessions_: destroyed after them, once its jobs drained.
  TrainingPool pool_;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aadd

#endif  // AADD_SERVER_SESSION_MANAGER_H_
