#include "server/storage/sqlite_schema.h"

namespace aad {
namespace {

const char* const kSqliteSchema[] = {
    R"sql(CREATE TABLE sessions(
      id TEXT PRIMARY KEY NOT NULL,
      created_micros INTEGER NOT NULL,
      options TEXT NOT NULL,
      row_count INTEGER NOT NULL DEFAULT 0,
      feature_count INTEGER NOT NULL DEFAULT 0,
      next_label_seq INTEGER NOT NULL DEFAULT 0,
      next_run_id INTEGER NOT NULL DEFAULT 1,
      tenant TEXT NOT NULL DEFAULT ''))sql",
    // A rowid table: WITHOUT ROWID suits small rows, not 512 KiB blobs.
    R"sql(CREATE TABLE batches(
      session_id TEXT NOT NULL REFERENCES sessions(id),
      first_row_id INTEGER NOT NULL,
      batch_id TEXT NOT NULL,
      row_count INTEGER NOT NULL,
      feature_count INTEGER NOT NULL,
      vals BLOB NOT NULL,
      crc INTEGER NOT NULL,
      PRIMARY KEY(session_id, first_row_id),
      UNIQUE(session_id, batch_id)))sql",
    // Every label submission; current labels are derived on load, so that
    // relabel history and current state can never disagree. anomaly is the
    // verdict: 0 nominal, 1 anomaly, 2 withdrawn (kSqliteVerdict*).
    R"sql(CREATE TABLE labels(
      session_id TEXT NOT NULL REFERENCES sessions(id),
      seq INTEGER NOT NULL,
      row_id INTEGER NOT NULL,
      anomaly INTEGER NOT NULL,
      time_micros INTEGER NOT NULL,
      PRIMARY KEY(session_id, seq)))sql",
    // Only the newest model: it replaces the previous one in the same
    // transaction that writes it.
    R"sql(CREATE TABLE models(
      session_id TEXT PRIMARY KEY NOT NULL REFERENCES sessions(id),
      version INTEGER NOT NULL,
      labels_revision INTEGER NOT NULL,
      created_micros INTEGER NOT NULL,
      bytes BLOB NOT NULL,
      crc INTEGER NOT NULL))sql",
    R"sql(CREATE TABLE training_runs(
      session_id TEXT NOT NULL REFERENCES sessions(id),
      run_id INTEGER NOT NULL,
      kind TEXT NOT NULL,
      started_micros INTEGER NOT NULL,
      finished INTEGER NOT NULL DEFAULT 0,
      outcome TEXT,
      PRIMARY KEY(session_id, run_id)))sql",
};

// Tables holding per-session rows, children first (foreign keys).
const char* const kSqliteDeleteSession[] = {
    "DELETE FROM batches WHERE session_id = ?1",
    "DELETE FROM labels WHERE session_id = ?1",
    "DELETE FROM models WHERE session_id = ?1",
    "DELETE FROM training_runs WHERE session_id = ?1",
    "DELETE FROM sessions WHERE id = ?1",
};

}  // namespace

absl::Span<const char* const> SqliteSchema() { return kSqliteSchema; }
absl::Span<const char* const> SqliteDeleteSession() { return kSqliteDeleteSession; }

}  // namespace aad
