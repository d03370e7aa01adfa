// The PostgreSQL store's schema (version PostgresSessionStore::
// kSchemaVersion): the tables a new database gets. The SQLite store's
// tables (sqlite_schema.h), in PostgreSQL's types, plus the columns of
// ownership by lease between replicas (session_leases.h).
#ifndef AADD_SERVER_STORAGE_POSTGRES_SCHEMA_H_
#define AADD_SERVER_STORAGE_POSTGRES_SCHEMA_H_

#include "absl/types/span.h"

namespace aad {

// What schema_version.application holds in an aadd database.
inline constexpr char kPostgresApplication[] = "aadd";

// What labels.anomaly holds, as in the SQLite store (kSqliteVerdict*).
inline constexpr int kPostgresVerdictNominal = 0;
inline constexpr int kPostgresVerdictAnomaly = 1;
inline constexpr int kPostgresVerdictWithdrawn = 2;

// CREATE TABLE (and ALTER) statements, in order; schema_version last, so
// that its row is written by the caller in the same transaction.
absl::Span<const char* const> PostgresSchema();
// The statements that turn a version 1 schema into version 2 (leases).
absl::Span<const char* const> PostgresMigrationTo2();

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_POSTGRES_SCHEMA_H_
