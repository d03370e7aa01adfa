// The Ingest call: a client stream of row batches. Each batch is stored as
// it arrives (so a retry of the whole stream is answered from the batch
// ids); the first bad batch ends the call with its error, and the batches
// before it stay stored.
#ifndef AADD_SERVER_INGEST_REACTOR_H_
#define AADD_SERVER_INGEST_REACTOR_H_

#include <memory>
#include <string>

#include "aad/v1/aad.grpc.pb.h"
#include "server/session_manager.h"

namespace aad {

// A reactor for one Ingest call; deletes itself when the call is done.
// `sessions` must outlive it.
grpc::ServerReadReactor<v1::IngestRequest>* NewIngestReactor(grpc::CallbackServerContext* context,
                                                             SessionManager* sessions,
                                                             v1::IngestResponse* response);

}  // namespace aad

#endif  // AADD_SERVER_INGEST_REACTOR_H_
