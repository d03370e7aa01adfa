// The Train call: a server stream of training progress. Training runs on a
// training thread; progress messages are coalesced (only the newest is kept
// while a write is in flight) so a slow client never slows training down.
#ifndef AADD_SERVER_TRAIN_REACTOR_H_
#define AADD_SERVER_TRAIN_REACTOR_H_

#include <memory>
#include <string>

#include "aad/v1/aad.grpc.pb.h"
#include "server/session_manager.h"

namespace aad {

// Starts a full training run of `session` and returns the reactor that
// streams it (it answers at once when the run cannot start, and deletes
// itself when the call is done). `pretrain_epochs` < 0: the session's own.
grpc::ServerWriteReactor<v1::TrainResponse>* StartTrainReactor(
    grpc::CallbackServerContext* context, std::shared_ptr<Session> session, int pretrain_epochs);

}  // namespace aad

#endif  // AADD_SERVER_TRAIN_REACTOR_H_
