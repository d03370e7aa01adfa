// StoppableReadReactor: a client-streaming call that a graceful shutdown
// ends itself (CallsInFlight::Stoppable), the protocol the Ingest and
// ImportSession streams share: read a message, hand it to the call, read
// the next, until the client closes its side, a message fails, or Stop()
// (a shutdown, from another thread at any time) ends the stream: at once
// with a read pending, right after the message in hand otherwise. mu_
// orders Stop() and the reactions; Finish is called once, outside mu_.
#ifndef AADD_SERVER_STOPPABLE_READ_REACTOR_H_
#define AADD_SERVER_STOPPABLE_READ_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "server/calls_in_flight.h"
#include "server/mutex.h"

namespace aad {

class StoppableReadReactor : public grpc::ServerReadReactor<grpc::ByteBuffer>,
                             public CallsInFlight::Stoppable {
 public:
  void OnReadDone(bool ok) final;
  void Stop() final;
  void OnDone() final;

 protected:
  explicit StoppableReadReactor(CallsInFlight* calls) : calls_(calls) {}
  ~StoppableReadReactor() override = default;

  // Enters the call in `calls` and starts reading, or answers UNAVAILABLE
  // when the server is draining. The last statement of the subclass's
  // constructor: the reactions (virtual) may run at once, on another thread.
  void Begin();

  // The message just read is in bytes(): OK to read the next, or the
  // error that ends the call. Nothing else runs meanwhile but Stop().
  virtual absl::Status OnMessage() = 0;
  // The client closed its side (or cancelled): the call's answer.
  virtual grpc::Status OnClosed() = 0;
  // The answer to a stream the shutdown stopped; called when no reaction
  // runs (from Stop(), or once the message in hand is done).
  virtual absl::Status Stopped() const = 0;
  // Told once the stream ends by Stop() after a message (for the log).
  virtual void OnStoppedAfterMessage() {}

  grpc::ByteBuffer* bytes() { return &bytes_; }

 private:
  CallsInFlight* const calls_;
  grpc::ByteBuffer bytes_;  // the message being read

  Mutex mu_;
  bool handling_ ABSL_GUARDED_BY(mu_) = false;        // a message or the close is handled
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;  // Stop() came meanwhile
  bool finished_ ABSL_GUARDED_BY(mu_) = false;        // Finish was (or is being) called
};

}  // namespace aad

#endif  // AADD_SERVER_STOPPABLE_READ_REACTOR_H_
