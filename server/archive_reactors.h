// ExportSession and ImportSession: a session archive streamed in chunks of
// at most 1 MiB, out of one server and into another.
#ifndef AADD_SERVER_ARCHIVE_REACTORS_H_
#define AADD_SERVER_ARCHIVE_REACTORS_H_

#include <string>

#include <grpcpp/grpcpp.h>

#include "server/calls_in_flight.h"
#include "server/session_manager.h"

namespace aad {

// Streams `archive` to the client (ExportSessionResponse messages, raw);
// counted in `calls`, it deletes itself when the call is done.
grpc::ServerWriteReactor<grpc::ByteBuffer>* NewExportReactor(CallsInFlight* calls,
                                                             std::string archive);
// Joins the client's chunks (up to the manager's max_import_bytes) and
// imports the session once the client closes its side; the
// ImportSessionResponse's bytes go to `response`. Counted in `calls`; a
// shutdown ends a stream still open with UNAVAILABLE, importing nothing.
// Deletes itself when the call is done. `sessions` and `calls` must outlive
// it. The session belongs to `tenant`, the importer.
grpc::ServerReadReactor<grpc::ByteBuffer>* NewImportReactor(grpc::CallbackServerContext* context,
                                                            SessionManager* sessions,
                                                            std::string tenant,
                                                            CallsInFlight* calls,
                                                            grpc::ByteBuffer* response);

}  // namespace aad

#endif  // AADD_SERVER_ARCHIVE_REACTORS_H_
