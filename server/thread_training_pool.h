// The server's TrainingPool: a fixed set of threads that runs training jobs
// for every session. The number of threads bounds how many models train at
// once, whatever the number of sessions.
#ifndef AADD_SERVER_THREAD_TRAINING_POOL_H_
#define AADD_SERVER_THREAD_TRAINING_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "server/metrics/session_metrics.h"
#include "server/mutex.h"
#include "server/training_pool.h"

namespace aad {

class ThreadTrainingPool final : public TrainingPool {
 public:
  // Starts `threads` (at least 1) worker threads. `metrics` (not owned;
  // null: none) is told the queue's depth whenever it changes.
  explicit ThreadTrainingPool(int threads, SessionMetrics* metrics = nullptr);
  // Runs every queued job, then joins the threads.
  ~ThreadTrainingPool() override;
  ThreadTrainingPool(const ThreadTrainingPool&) = delete;
  ThreadTrainingPool& operator=(const ThreadTrainingPool&) = delete;

  void Schedule(std::function<void()> job) override;

 private:
  void Work();
  bool ReadyToWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  CondVar ready_;  // signalled when a job arrives or the pool stops
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Constant after construction.
  SessionMetrics* const metrics_;
  std::vector<std::thread> threads_;
};

}  // namespace aad

#endif  // AADD_SERVER_THREAD_TRAINING_POOL_H_
