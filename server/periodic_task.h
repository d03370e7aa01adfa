// PeriodicTask: runs a function every `period` on a thread of its own, the
// first time one period after construction, until it is destroyed. The
// destructor wakes the thread at once and joins it, waiting for a run in
// progress to end.
#ifndef AADD_SERVER_PERIODIC_TASK_H_
#define AADD_SERVER_PERIODIC_TASK_H_

#include <chrono>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "server/mutex.h"

namespace aad {

class PeriodicTask {
 public:
  PeriodicTask(std::chrono::milliseconds period, std::function<void()> run);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  void Loop();

  // Constant after construction.
  const std::chrono::milliseconds period_;
  const std::function<void()> run_;

  Mutex mu_;
  CondVar stop_signal_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace aad

#endif  // AADD_SERVER_PERIODIC_TASK_H_
