// A fixed set of threads that runs training jobs for every session. The
// number of threads bounds how many models train at once, whatever the
// number of sessions; each session queues at most one job at a time (see
// Session), so the queue is bounded by the number of sessions.
#ifndef AADD_SERVER_TRAINING_POOL_H_
#define AADD_SERVER_TRAINING_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "server/mutex.h"

namespace aad {

class TrainingPool {
 public:
  // Starts `threads` (>= 1) worker threads.
  explicit TrainingPool(int threads);
  // Runs every queued job, then joins the threads.
  ~TrainingPool();
  TrainingPool(const TrainingPool&) = delete;
  TrainingPool& operator=(const TrainingPool&) = delete;

  // Thread-safe. Queues `job`; it runs on one of the pool's threads.
  void Schedule(std::function<void()> job);

 private:
  void Work();
  bool ReadyToWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  CondVar ready_;  // signalled when a job arrives or the pool stops
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Constant after construction.
  std::vector<std::thread> threads_;
};

}  // namespace aad

#endif  // AADD_SERVER_TRAINING_POOL_H_
