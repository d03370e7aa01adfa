// The export/import format: one session (options, batches, label history,
// newest model) as a single self-checking binary file, to move a session
// between servers (aadctl export / import).
//
//   "AADDSESS" | u32 format version | u64 payload length | payload | u32 CRC-32
//
// The payload is a little-endian aad::ByteWriter stream; the CRC covers it.
// Each label of the history carries a u32 verdict: 0 nominal, 1 anomaly and,
// from format version 2 on, 2 withdrawn (undo). A writer uses version 1
// when the history holds no withdrawal, so that such an archive stays
// readable by an aadd that predates withdrawals; readers take both.
// Interrupted-training markers are not exported: they describe one server's
// process, not the session.
#ifndef AADD_FORMAT_SESSION_ARCHIVE_H_
#define AADD_FORMAT_SESSION_ARCHIVE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "format/session_record.h"

namespace aad {

// The newest format version this build writes and reads.
inline constexpr uint32_t kSessionArchiveVersion = 2;
// The version whose label verdicts are only 0 and 1 (no withdrawals).
inline constexpr uint32_t kSessionArchiveVersionNoWithdrawals = 1;

// All functions are thread-safe (no shared state).

// The archive's bytes (for sending over the wire).
std::string EncodeSessionArchive(const SessionRecord& record);

// Parses and validates archive bytes: DATA_LOSS naming `source` for a wrong
// magic, a bad checksum, truncation or an inconsistent record
// (ValidateSessionRecord); FAILED_PRECONDITION for a newer format version.
absl::StatusOr<SessionRecord> DecodeSessionArchive(absl::string_view bytes,
                                                   absl::string_view source);

// Writes the archive to `path` atomically (WriteFileAtomically): `path`
// holds the old file or the whole new one. Errors name the path
// (RESOURCE_EXHAUSTED for a full disk).
absl::Status WriteSessionArchive(const SessionRecord& record, const std::string& path);

// Reads and validates an archive file; errors name the path.
absl::StatusOr<SessionRecord> ReadSessionArchive(const std::string& path);

}  // namespace aad

#endif  // AADD_FORMAT_SESSION_ARCHIVE_H_
