#include "server/training_pool.h"

#include <utility>

namespace aad {

TrainingPool::TrainingPool(int threads) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

TrainingPool::~TrainingPool() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  ready_.SignalAll();
  for (std::thread& t : threads_) t.join();
}

void TrainingPool::Schedule(std::function<void()> job) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(job));
  }
  ready_.Signal();
}

bool TrainingPool::ReadyToWork() const { return stopping_ || !queue_.empty(); }

void TrainingPool::Work() {
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
    }
    job();
  }
}

}  // namespace aad
