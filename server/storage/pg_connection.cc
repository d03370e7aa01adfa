#include "server/storage/pg_connection.h"

#include <endian.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "server/storage/pg_error.h"

namespace aad {
namespace {

std::string ServerName(pg_conn* conn) {
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  const char* db = PQdb(conn);
  const char* user = PQuser(conn);
  return absl::StrCat("PostgreSQL at ", host != nullptr ? host : "", ":",
                      port != nullptr ? port : "", " (database '", db != nullptr ? db : "",
                      "', user '", user != nullptr ? user : "", "')");
}

// The same from the URI alone, for a connection that failed (libpq may
// then know no current host); libpq's defaults where it names none.
std::string ServerName(const std::string& uri) {
  std::string host, port, db, user;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), nullptr);
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    const std::string value = o->val != nullptr ? o->val : "";
    const std::string keyword = o->keyword;
    if (keyword == "host") host = value;
    if (keyword == "port") port = value;
    if (keyword == "dbname") db = value;
    if (keyword == "user") user = value;
  }
  PQconninfoFree(options);
  if (host.empty()) host = getenv("PGHOST") != nullptr ? getenv("PGHOST") : "localhost";
  if (port.empty()) port = getenv("PGPORT") != nullptr ? getenv("PGPORT") : "5432";
  return absl::StrCat("PostgreSQL at ", host, ":", port, " (database '", db, "', user '", user,
                      "')");
}

std::string ConnectionMessage(pg_conn* conn) {
  return std::string(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
}

}  // namespace

PgParams& PgParams::Text(absl::string_view s) {
  // Binary format: text's binary form is its bytes, sent with their length.
  // In text format libpq would stop at a NUL byte, and a batch id "a\0x"
  // would be stored as "a", a silent duplicate of batch "a"; this way the
  // server refuses the NUL (SQLSTATE 22021, INVALID_ARGUMENT). Copied, so
  // that temporaries may be passed.
  owned_.emplace_back(s);
  values_.push_back(owned_.back().data());
  lengths_.push_back(static_cast<int>(s.size()));
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::Int(int64_t v) {
  owned_.push_back(absl::StrCat(v));
  values_.push_back(owned_.back().c_str());
  lengths_.push_back(static_cast<int>(owned_.back().size()));
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Bytes(absl::string_view bytes) {
  // Never null: libpq takes a null value for SQL NULL.
  values_.push_back(bytes.data() != nullptr ? bytes.data() : "");
  lengths_.push_back(static_cast<int>(bytes.size()));
  formats_.push_back(1);
  return *this;
}

void PgResult::Clear::operator()(pg_result* r) const { PQclear(r); }

PgResult::PgResult(pg_result* result) : result_(result) {}

int PgResult::rows() const { return PQntuples(result_.get()); }

int64_t PgResult::affected() const {
  int64_t n = 0;
  (void)absl::SimpleAtoi(PQcmdTuples(result_.get()), &n);
  return n;
}

int64_t PgResult::Int(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  if (PQfformat(result_.get(), column) == 0) {
    int64_t n = 0;
    (void)absl::SimpleAtoi(value, &n);
    return n;
  }
  // Binary: network byte order, of the column's width.
  switch (PQgetlength(result_.get(), row, column)) {
    case 8: {
      uint64_t v;
      std::memcpy(&v, value, 8);
      return static_cast<int64_t>(be64toh(v));
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, value, 4);
      return static_cast<int32_t>(be32toh(v));
    }
    case 2: {
      uint16_t v;
      std::memcpy(&v, value, 2);
      return static_cast<int16_t>(be16toh(v));
    }
    case 1:
      return static_cast<unsigned char>(value[0]);
    default:
      return 0;
  }
}

std::string PgResult::Text(int row, int column) const {
  return std::string(Bytes(row, column));
}

absl::string_view PgResult::Bytes(int row, int column) const {
  return absl::string_view(PQgetvalue(result_.get(), row, column),
                           static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

bool PgResult::IsNull(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& uri,
                                                                     PgReconnectPolicy policy) {
  // Defaults first: what the URI names overrides them (expand_dbname).
  const char* const keywords[] = {"connect_timeout", "fallback_application_name", "dbname",
                                  nullptr};
  const char* const values[] = {"10", "aadd", uri.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq cannot allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's messages name host and port, never the password.
    absl::Status status = absl::UnavailableError(
        absl::StrCat("cannot connect to ", ServerName(uri), ": ", ConnectionMessage(conn)));
    PQfinish(conn);
    return status;
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn, ServerName(conn), policy));
}

PgConnection::PgConnection(pg_conn* conn, std::string server, PgReconnectPolicy policy)
    : conn_(conn), server_(std::move(server)), policy_(policy) {}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

absl::Status PgConnection::EnsureConnected() {
  if (ok()) return absl::OkStatus();
  std::chrono::milliseconds backoff = policy_.initial_backoff;
  for (int attempt = 1; attempt <= policy_.attempts; ++attempt) {
    PQreset(conn_);
    if (ok()) {
      prepared_.clear();  // the new backend knows none of them
      return absl::OkStatus();
    }
    if (attempt == policy_.attempts) break;
    // A restarting server takes a moment; doubling spreads the attempts
    // over a few seconds without hammering it.
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
  return absl::UnavailableError(absl::StrCat("lost the connection to ", server_, " and ",
                                             policy_.attempts,
                                             " attempts to reconnect failed: ",
                                             ConnectionMessage(conn_)));
}

absl::Status PgConnection::Exec(const char* sql, absl::string_view what) {
  pg_result* result = PQexec(conn_, sql);
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  absl::Status out = absl::OkStatus();
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    out = PgError(conn_, result, server_, what);
  }
  PQclear(result);
  return out;
}

absl::StatusOr<PgResult> PgConnection::Run(const PgStatement& statement, const PgParams& params,
                                           absl::string_view what, bool binary_result) {
  if (!prepared_.contains(statement.name)) {
    pg_result* prepared = PQprepare(conn_, statement.name, statement.sql, 0, nullptr);
    const bool ok = prepared != nullptr && PQresultStatus(prepared) == PGRES_COMMAND_OK;
    if (!ok) {
      absl::Status status =
          PgError(conn_, prepared, server_, absl::StrCat("prepare ", statement.name));
      PQclear(prepared);
      return status;
    }
    PQclear(prepared);
    prepared_.insert(statement.name);
  }
  pg_result* result =
      PQexecPrepared(conn_, statement.name, params.size(), params.values(), params.lengths(),
                     params.formats(), binary_result ? 1 : 0);
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    absl::Status error = PgError(conn_, result, server_, what);
    PQclear(result);
    return error;
  }
  return PgResult(result);
}

PgTransaction::~PgTransaction() {
  // A broken connection has no transaction left to roll back.
  if (active_ && connection_->ok()) (void)connection_->Exec("ROLLBACK", "roll back");
}

absl::Status PgTransaction::Begin(bool read_only_snapshot) {
  const char* sql = read_only_snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                       : "BEGIN";
  RETURN_IF_ERROR(connection_->EnsureConnected());
  absl::Status begun = connection_->Exec(sql, "begin a transaction");
  if (!begun.ok() && !connection_->ok()) {
    // The server closed the connection since its last use (a restart, an
    // administrator's pg_terminate_backend): libpq learns it only now.
    RETURN_IF_ERROR(connection_->EnsureConnected());
    begun = connection_->Exec(sql, "begin a transaction");
  }
  RETURN_IF_ERROR(begun);
  active_ = true;
  return absl::OkStatus();
}

absl::Status PgTransaction::Commit() {
  RETURN_IF_ERROR(connection_->Exec("COMMIT", "commit"));
  active_ = false;
  return absl::OkStatus();
}

}  // namespace aad
