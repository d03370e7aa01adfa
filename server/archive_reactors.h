// ExportSession and ImportSession: a session archive streamed in chunks of
// at most 1 MiB, out of one server and into another.
#ifndef AADD_SERVER_ARCHIVE_REACTORS_H_
#define AADD_SERVER_ARCHIVE_REACTORS_H_

#include <memory>
#include <string>

#include "aad/v1/aad.grpc.pb.h"
#include "server/session_manager.h"

namespace aad {

// Streams `archive` to the client; deletes itself when the call is done.
grpc::ServerWriteReactor<v1::ExportSessionResponse>* NewExportReactor(std::string archive);

// Joins the client's chunks (up to the manager's max_import_bytes) and
// imports the session once the client closes its side; deletes itself when
// the call is done. `sessions` must outlive it.
grpc::ServerReadReactor<v1::ImportSessionRequest>* NewImportReactor(
    grpc::CallbackServerContext* context, SessionManager* sessions,
    v1::ImportSessionResponse* response);

}  // namespace aad

#endif  // AADD_SERVER_ARCHIVE_REACTORS_H_
