// How the PostgreSQL store maps libpq failures to the SessionStore's error
// codes (session_store.h), as the SQLite store maps SQLite's: a lost or
// refused connection is UNAVAILABLE, a full disk RESOURCE_EXHAUSTED,
// corruption DATA_LOSS.
#ifndef AADD_SERVER_STORAGE_PG_ERROR_H_
#define AADD_SERVER_STORAGE_PG_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

struct pg_conn;
struct pg_result;

namespace aad {

// The code for a five-character SQLSTATE (e.g. "53100", disk full).
absl::StatusCode PgSqlStateCode(absl::string_view sqlstate);

// The status for a failed statement `what` on `conn`: `result` (may be
// null when libpq returned none) carries the SQLSTATE and the server's
// message. A connection that is no longer CONNECTION_OK is UNAVAILABLE
// whatever the SQLSTATE. The message names `server` (never a password).
absl::Status PgError(pg_conn* conn, const pg_result* result, absl::string_view server,
                     absl::string_view what);

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_PG_ERROR_H_
