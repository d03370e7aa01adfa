// Whole-file reads and crash-safe whole-file writes, for session archives
// (aadctl export / import). Errors name the path; a full disk is
// RESOURCE_EXHAUSTED, a missing file NOT_FOUND, a refused one
// PERMISSION_DENIED, anything else UNAVAILABLE.
#ifndef AADD_FORMAT_ATOMIC_FILE_H_
#define AADD_FORMAT_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace aad {

// Writes `bytes` to `path` atomically: a temporary file beside it, fsync,
// rename, fsync of the directory. Afterwards `path` holds the old file or
// the whole new one, never a part, and no temporary file is left behind.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes);

// The whole file.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace aad

#endif  // AADD_FORMAT_ATOMIC_FILE_H_
