#include "server/storage/pg_error.h"

#include <libpq-fe.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace aad {

absl::StatusCode PgSqlStateCode(absl::string_view sqlstate) {
  // Exact codes first, then classes (the first two characters).
  if (sqlstate == "53100" || sqlstate == "53200") {  // disk_full, out_of_memory
    return absl::StatusCode::kResourceExhausted;
  }
  if (sqlstate == "54000" || sqlstate == "54001") {  // program_limit_exceeded
    return absl::StatusCode::kResourceExhausted;
  }
  if (sqlstate == "XX001" || sqlstate == "XX002") {  // data_corrupted, index_corrupted
    return absl::StatusCode::kDataLoss;
  }
  if (sqlstate == "40001" || sqlstate == "40P01") {  // serialization failure, deadlock
    return absl::StatusCode::kUnavailable;
  }
  if (sqlstate == "23505") return absl::StatusCode::kAlreadyExists;  // unique_violation
  // Text the database cannot hold (a NUL byte, invalid UTF-8 in an id).
  if (sqlstate == "22021" || sqlstate == "22P05") return absl::StatusCode::kInvalidArgument;
  const absl::string_view cls = sqlstate.substr(0, 2);
  // connection_exception, insufficient_resources (too many connections),
  // operator_intervention (admin shutdown, cancel), system_error (I/O),
  // read-only transaction (a hot standby) and invalid authorization.
  if (cls == "08" || cls == "53" || cls == "57" || cls == "58" || cls == "25" || cls == "28") {
    return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kInternal;
}

absl::Status PgError(pg_conn* conn, const pg_result* result, absl::string_view server,
                     absl::string_view what) {
  std::string detail = result != nullptr ? PQresultErrorMessage(result) : "";
  if (detail.empty() && conn != nullptr) detail = PQerrorMessage(conn);
  const absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(detail);
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = absl::StrCat(server, ": ", what, ": ", trimmed);
  if (state != nullptr) absl::StrAppend(&message, " (SQLSTATE ", state, ")");
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    return absl::UnavailableError(message);
  }
  if (state == nullptr) {
    // libpq's own failures (no result, a lost connection) carry no SQLSTATE.
    return absl::UnavailableError(message);
  }
  return absl::Status(PgSqlStateCode(state), message);
}

}  // namespace aad
