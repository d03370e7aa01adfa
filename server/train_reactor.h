// The Train call: a server stream of training progress. Training runs on a
// training thread; progress messages are coalesced (only the newest is kept
// while a write is in flight) so a slow client never slows training down.
#ifndef AADD_SERVER_TRAIN_REACTOR_H_
#define AADD_SERVER_TRAIN_REACTOR_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "server/calls_in_flight.h"
#include "server/session_manager.h"

namespace aad {

// Starts a full training run of `session` and returns the reactor that
// streams it (TrainResponse messages, raw). It answers at once when the run
// cannot start, is counted in `calls` (a shutdown stops the run: CANCELLED)
// and deletes itself when the call is done. `pretrain_epochs` < 0: the
// session's own. `calls` must outlive it.
grpc::ServerWriteReactor<grpc::ByteBuffer>* StartTrainReactor(grpc::CallbackServerContext* context,
                                                              std::shared_ptr<Session> session,
                                                              int pretrain_epochs,
                                                              CallsInFlight* calls);

}  // namespace aad

#endif  // AADD_SERVER_TRAIN_REACTOR_H_
