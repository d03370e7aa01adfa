#include "server/stoppable_read_reactor.h"

#include "server/call_routing.h"
#include "server/status_mapping.h"

namespace aad {

void StoppableReadReactor::Begin() {
  const bool open = calls_->Enter(this);
  {
    MutexLock lock(&mu_);
    if (open && !finished_) {
      StartRead(&bytes_);
      return;
    }
    if (finished_) return;  // Stop() came first and finished the call
    finished_ = true;
  }
  Finish(ToGrpcStatus(DrainingStatus()));
}

void StoppableReadReactor::OnReadDone(bool ok) {
  {
    MutexLock lock(&mu_);
    // Stopped while the read was pending: the call is answered, and a
    // message that came meanwhile was never handled nor acknowledged.
    if (finished_) return;
    handling_ = true;
  }
  // The close is handled like a message: a Stop() meanwhile waits for its
  // answer (an import runs here) rather than cutting it.
  const absl::Status handled = ok ? OnMessage() : absl::OkStatus();
  const grpc::Status closed = ok ? grpc::Status::OK : OnClosed();
  bool stopped = false;
  {
    MutexLock lock(&mu_);
    handling_ = false;
    if (ok && handled.ok() && !stop_requested_) {
      StartRead(&bytes_);
      return;
    }
    finished_ = true;
    stopped = ok && handled.ok();
  }
  if (stopped) {
    OnStoppedAfterMessage();
    Finish(ToGrpcStatus(Stopped()));
    return;
  }
  Finish(ok ? ToGrpcStatus(handled) : closed);
}

void StoppableReadReactor::Stop() {
  grpc::Status status;
  {
    MutexLock lock(&mu_);
    if (finished_) return;
    if (handling_) {
      stop_requested_ = true;  // OnReadDone finishes after the message
      return;
    }
    finished_ = true;
    status = ToGrpcStatus(Stopped());
  }
  Finish(status);
}

void StoppableReadReactor::OnDone() {
  calls_->Leave(this);
  delete this;
}

}  // namespace aad
