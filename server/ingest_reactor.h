// The Ingest call: a client stream of row batches. Each batch is stored as
// it arrives (so a retry of the whole stream is answered from the batch
// ids); the first bad batch ends the call with its error, and the batches
// before it stay stored. A shutdown ends a stream the client keeps open
// with UNAVAILABLE after the batch in hand.
#ifndef AADD_SERVER_INGEST_REACTOR_H_
#define AADD_SERVER_INGEST_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "server/calls_in_flight.h"
#include "server/session_manager.h"

namespace aad {

// A reactor for one Ingest call (raw: IngestRequest messages in, the
// IngestResponse's bytes into `response`); counted in `calls`, it deletes
// itself when the call is done. `sessions` and `calls` must outlive it.
// Only a session of `tenant` (the authenticated caller) takes rows.
grpc::ServerReadReactor<grpc::ByteBuffer>* NewIngestReactor(grpc::CallbackServerContext* context,
                                                            SessionManager* sessions,
                                                            std::string tenant,
                                                            CallsInFlight* calls,
                                                            grpc::ByteBuffer* response);

}  // namespace aad

#endif  // AADD_SERVER_INGEST_REACTOR_H_
