#include "server/periodic_task.h"

#include <utility>

namespace aad {

PeriodicTask::PeriodicTask(std::chrono::milliseconds period, std::function<void()> run)
    : period_(period), run_(std::move(run)), thread_([this] { Loop(); }) {}

PeriodicTask::~PeriodicTask() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  stop_signal_.SignalAll();
  thread_.join();
}

void PeriodicTask::Loop() {
  auto next = std::chrono::system_clock::now() + period_;
  while (true) {
    {
      MutexLock lock(&mu_);
      while (!stopping_ && std::chrono::system_clock::now() < next) {
        stop_signal_.WaitUntil(&mu_, next);
      }
      if (stopping_) return;
    }
    run_();
    // From the end of the run: a slow run never piles runs up.
    next = std::chrono::system_clock::now() + period_;
  }
}

}  // namespace aad
