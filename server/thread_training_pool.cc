#include "server/thread_training_pool.h"

#include <utility>

namespace aad {

ThreadTrainingPool::ThreadTrainingPool(int threads, SessionMetrics* metrics) : metrics_(metrics) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

ThreadTrainingPool::~ThreadTrainingPool() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  ready_.SignalAll();
  for (std::thread& t : threads_) t.join();
}

void ThreadTrainingPool::Schedule(std::function<void()> job) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(job));
    // Under mu_: the depths reach the gauge in the order they happened.
    if (metrics_ != nullptr) metrics_->TrainingQueueDepth(static_cast<int64_t>(queue_.size()));
  }
  ready_.Signal();
}

bool ThreadTrainingPool::ReadyToWork() const { return stopping_ || !queue_.empty(); }

void ThreadTrainingPool::Work() {
  for (;;) {
    std::function<void()> job;
    {
      MutexLock lock(&mu_);
      while (!ReadyToWork()) ready_.Wait(&mu_);
      // Drain the queue before stopping: a queued job owes its callers an
      // answer (sessions cancelled at shutdown finish quickly).
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      if (metrics_ != nullptr) metrics_->TrainingQueueDepth(static_cast<int64_t>(queue_.size()));
    }
    job();
  }
}

}  // namespace aad
