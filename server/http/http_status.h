// The one place where the service's absl::Status becomes an HTTP status
// code, for the HTTP/JSON gateway (the gRPC service has ToGrpcStatus).
// The mapping is the usual one of gRPC-to-HTTP gateways (google.rpc.Code's
// documented HTTP equivalents), so that a generic HTTP client reads the
// class of an error from the status line alone.
#ifndef AADD_SERVER_HTTP_HTTP_STATUS_H_
#define AADD_SERVER_HTTP_HTTP_STATUS_H_

#include "absl/status/status.h"

namespace aad {

// OK 200, INVALID_ARGUMENT and OUT_OF_RANGE 400, UNAUTHENTICATED 401,
// PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS, FAILED_PRECONDITION
// and ABORTED 409, RESOURCE_EXHAUSTED 429, CANCELLED 499 (the client closed
// the request), UNIMPLEMENTED 501, UNAVAILABLE 503, DEADLINE_EXCEEDED 504,
// everything else 500. (A request body over the limit is 413: the gateway
// answers that one itself, before any call runs.) Pure, thread-safe.
int HttpStatusOf(absl::StatusCode code);

// The canonical code an HTTP status stands for, for the errors the HTTP
// layer finds itself (404 unknown path, 405 wrong method, 413 body too
// large, 400 malformed request): NOT_FOUND, UNIMPLEMENTED,
// RESOURCE_EXHAUSTED, INVALID_ARGUMENT...; UNKNOWN for other statuses.
absl::StatusCode CodeOfHttpStatus(int http_status);

}  // namespace aad

#endif  // AADD_SERVER_HTTP_HTTP_STATUS_H_
