// The SQLite store's schema (version SqliteSessionStore::kSchemaVersion):
// the tables a new database gets, and the statements that delete one
// session's rows.
#ifndef AADD_SERVER_STORAGE_SQLITE_SCHEMA_H_
#define AADD_SERVER_STORAGE_SQLITE_SCHEMA_H_

#include "absl/types/span.h"

namespace aad {

// What labels.anomaly holds for a submission. Withdrawals (2) came with
// schema version 2; the table itself did not change.
inline constexpr int kSqliteVerdictNominal = 0;
inline constexpr int kSqliteVerdictAnomaly = 1;
inline constexpr int kSqliteVerdictWithdrawn = 2;

// Schema version 3's one change, as the migration from version 2 runs it
// (a new database has the column in its CREATE TABLE).
inline constexpr char kSqliteAddTenantColumn[] =
    "ALTER TABLE sessions ADD COLUMN tenant TEXT NOT NULL DEFAULT ''";

// CREATE TABLE statements, in order.
absl::Span<const char* const> SqliteSchema();
// DELETE statements for one session (?1 = its id), children first
// (foreign keys).
absl::Span<const char* const> SqliteDeleteSession();

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_SQLITE_SCHEMA_H_
