#include "server/storage/postgres_schema.h"

namespace aad {
namespace {

const char* const kPostgresSchema[] = {
    // owner, epoch and lease_expires_micros: who holds the session's lease
    // (session_leases.h; "" none), its epoch, and until when (the server's
    // clock, in microseconds since 1970). wanted_by: a replica that asked
    // the holder to hand the session over (schema version 2).
    R"sql(CREATE TABLE sessions(
      id TEXT PRIMARY KEY,
      created_micros BIGINT NOT NULL,
      options TEXT NOT NULL,
      row_count BIGINT NOT NULL DEFAULT 0,
      feature_count BIGINT NOT NULL DEFAULT 0,
      next_label_seq BIGINT NOT NULL DEFAULT 0,
      next_run_id BIGINT NOT NULL DEFAULT 1,
      tenant TEXT NOT NULL DEFAULT '',
      owner TEXT NOT NULL DEFAULT '',
      epoch BIGINT NOT NULL DEFAULT 0,
      lease_expires_micros BIGINT NOT NULL DEFAULT 0,
      wanted_by TEXT NOT NULL DEFAULT ''))sql",
    // RenewAll finds a replica's sessions by holder.
    "CREATE INDEX sessions_by_owner ON sessions(owner)",
    // crc is the CRC-32 of vals, checked on every load: PostgreSQL's own
    // page checksums are off unless initdb turned them on.
    R"sql(CREATE TABLE batches(
      session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
      first_row_id BIGINT NOT NULL,
      batch_id TEXT NOT NULL,
      row_count BIGINT NOT NULL,
      feature_count BIGINT NOT NULL,
      vals BYTEA NOT NULL,
      crc BIGINT NOT NULL,
      PRIMARY KEY(session_id, first_row_id),
      UNIQUE(session_id, batch_id)))sql",
    // Floats barely compress: store them out of line as they are instead of
    // spending a pglz attempt on every batch.
    "ALTER TABLE batches ALTER COLUMN vals SET STORAGE EXTERNAL",
    // Every label submission, as in the SQLite store: current labels are
    // derived on load. anomaly is the verdict (kPostgresVerdict*).
    R"sql(CREATE TABLE labels(
      session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
      seq BIGINT NOT NULL,
      row_id BIGINT NOT NULL,
      anomaly SMALLINT NOT NULL,
      time_micros BIGINT NOT NULL,
      PRIMARY KEY(session_id, seq)))sql",
    R"sql(CREATE TABLE models(
      session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
      version BIGINT NOT NULL,
      labels_revision BIGINT NOT NULL,
      created_micros BIGINT NOT NULL,
      bytes BYTEA NOT NULL,
      crc BIGINT NOT NULL))sql",
    R"sql(CREATE TABLE training_runs(
      session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
      run_id BIGINT NOT NULL,
      kind TEXT NOT NULL,
      started_micros BIGINT NOT NULL,
      finished BOOLEAN NOT NULL DEFAULT false,
      outcome TEXT,
      PRIMARY KEY(session_id, run_id)))sql",
    // One row: which application wrote the database and its schema version.
    R"sql(CREATE TABLE schema_version(
      application TEXT NOT NULL,
      version INTEGER NOT NULL))sql",
};

// From version 1 to 2. A column with a constant default is added without
// rewriting the table (PostgreSQL 11 and later).
const char* const kPostgresMigrationTo2[] = {
    "ALTER TABLE sessions ADD COLUMN wanted_by TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX sessions_by_owner ON sessions(owner)",
};

}  // namespace

absl::Span<const char* const> PostgresSchema() { return kPostgresSchema; }

absl::Span<const char* const> PostgresMigrationTo2() { return kPostgresMigrationTo2; }

}  // namespace aad
