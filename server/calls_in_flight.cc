#include "server/calls_in_flight.h"

namespace aad {

bool CallsInFlight::Enter(Stoppable* stream) {
  MutexLock lock(&mu_);
  ++count_;
  if (closed_) return false;
  if (stream != nullptr) streams_.insert(stream);
  return true;
}

void CallsInFlight::Leave(Stoppable* stream) {
  MutexLock lock(&mu_);
  if (stream != nullptr) streams_.erase(stream);
  if (--count_ == 0) none_.SignalAll();
}

void CallsInFlight::Close() {
  MutexLock lock(&mu_);
  if (closed_) return;
  closed_ = true;
  // Under the lock: a stream's Leave (in its OnDone) waits for it, so none
  // is deleted while it is being stopped.
  for (Stoppable* stream : streams_) stream->Stop();
}

bool CallsInFlight::closed() const {
  MutexLock lock(&mu_);
  return closed_;
}

bool CallsInFlight::WaitUntilNone(std::chrono::system_clock::time_point deadline) {
  MutexLock lock(&mu_);
  while (count_ > 0) {
    if (!none_.WaitUntil(&mu_, deadline) && count_ > 0 &&
        std::chrono::system_clock::now() >= deadline) {
      return false;
    }
  }
  return true;
}

int64_t CallsInFlight::count() const {
  MutexLock lock(&mu_);
  return count_;
}

}  // namespace aad
