// A TrainingPool that runs nothing until the test says so: jobs queue up and
// RunAll() runs them on the test's own thread, so server pieces are tested
// deterministically, without threads or waiting.
#ifndef AADD_TESTS_TESTING_MANUAL_TRAINING_POOL_H_
#define AADD_TESTS_TESTING_MANUAL_TRAINING_POOL_H_

#include <deque>
#include <functional>
#include <utility>

#include "server/training_pool.h"

namespace aad::testing {

class ManualTrainingPool final : public TrainingPool {
 public:
  void Schedule(std::function<void()> job) override { queue_.push_back(std::move(job)); }

  // Runs queued jobs, and those they queue, until none is left; returns how
  // many ran.
  int RunAll() {
    int ran = 0;
    while (!queue_.empty()) {
      std::function<void()> job = std::move(queue_.front());
      queue_.pop_front();
      job();
      ++ran;
    }
    return ran;
  }
  size_t queued() const { return queue_.size(); }

 private:
  std::deque<std::function<void()>> queue_;
};

}  // namespace aad::testing

#endif  // AADD_TESTS_TESTING_MANUAL_TRAINING_POOL_H_
