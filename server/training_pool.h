// Where sessions run their training jobs. Each session queues at most one
// job at a time (see Session), so a pool's queue is bounded by the number of
// sessions; an implementation bounds how many run at once.
#ifndef AADD_SERVER_TRAINING_POOL_H_
#define AADD_SERVER_TRAINING_POOL_H_

#include <functional>

namespace aad {

class TrainingPool {
 public:
  virtual ~TrainingPool() = default;
  // Thread-safe. Queues `job` to run later on a thread of the pool's
  // choosing; never runs it inside the call (callers hold locks).
  virtual void Schedule(std::function<void()> job) = 0;
};

}  // namespace aad

#endif  // AADD_SERVER_TRAINING_POOL_H_
