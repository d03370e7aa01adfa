// The service's calls in flight, counted from the reactor's start to its
// OnDone, so that a graceful shutdown waits for calls and not for
// connections: gRPC's own Shutdown(deadline) also waits (up to ~5 s, or the
// deadline) for idle client connections to go away. And the streams a
// shutdown finishes itself: a client stream left open (Ingest, Import)
// would otherwise hold the exit until the grace deadline.
#ifndef AADD_SERVER_CALLS_IN_FLIGHT_H_
#define AADD_SERVER_CALLS_IN_FLIGHT_H_

#include <chrono>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "server/mutex.h"

namespace aad {

// Thread-safe.
class CallsInFlight {
 public:
  // A call that the server ends itself at shutdown.
  class Stoppable {
   public:
    // Finish the call soon with UNAVAILABLE (after the message in hand, if
    // one is being handled). Called under CallsInFlight's lock, between the
    // call's Enter and Leave: it must not call Enter or Leave, nor wait for
    // another call's callbacks. gRPC runs a stream's OnDone (which calls
    // Leave) on its own thread after Finish, never inside Finish.
    virtual void Stop() = 0;

   protected:
    ~Stoppable() = default;
  };

  // A call started (its reactor exists): counted until Leave. `stream`, if
  // not null, is stopped by Close(). False once Close() was called: the
  // caller then answers UNAVAILABLE at once (the call still counts until
  // its Leave), and `stream` is not kept.
  bool Enter(Stoppable* stream = nullptr);
  // The call ended (its OnDone). `stream` as given to Enter.
  void Leave(Stoppable* stream = nullptr);

  // Refuse every new call from now on and Stop() the streams in flight.
  // Idempotent.
  void Close();
  bool closed() const;

  // Blocks until no call is in flight (true) or `deadline` passed (false).
  bool WaitUntilNone(std::chrono::system_clock::time_point deadline);
  int64_t count() const;

 private:
  mutable Mutex mu_;
  CondVar none_;  // signalled when count_ drops to 0
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<Stoppable*> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aad

#endif  // AADD_SERVER_CALLS_IN_FLIGHT_H_
