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
  // The steady clock: a step of the wall clock (NTP) must not delay a
  // lease renewal past the lease.
  using Clock = std::chrono::steady_clock;
  auto next = Clock::now() + period_;
  while (true) {
    {
      MutexLock lock(&mu_);
      for (auto now = Clock::now(); !stopping_ && now < next; now = Clock::now()) {
        stop_signal_.WaitFor(&mu_, next - now);
      }
      if (stopping_) return;
    }
    run_();
    // From the end of the run: a slow run never piles runs up.
    next = Clock::now() + period_;
  }
}

}  // namespace aad
