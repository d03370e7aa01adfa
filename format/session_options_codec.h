// A versioned text encoding of SessionOptions, written by the stores and
// the archive. Text (one key=value a line) rather than protobuf so that the
// storage layer depends on no generated code, and so that an operator can
// read a session's configuration straight from the database.
//
//   aadd-session-options 1
//   detector=autoencoder
//   hidden_units=64
//   ...
//
// Floats are written with 9 significant digits, which round-trips every
// float exactly. A key missing on decode keeps its default, so a later
// version may add fields and still read older records; a key this version
// does not know, or a newer format version, is an error (never a silent
// drop of a setting).
#ifndef AADD_FORMAT_SESSION_OPTIONS_CODEC_H_
#define AADD_FORMAT_SESSION_OPTIONS_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "format/session_record.h"

namespace aad {

// 2: uai.leaves and leaf_input_scale. A version-1 record predates the leaf
// inputs, so it decodes with uai.leaves off: a stored session keeps the
// model it was created with, also when it is retrained.
inline constexpr int kSessionOptionsFormatVersion = 2;

// Thread-safe (pure functions).
std::string EncodeSessionOptions(const SessionOptions& options);

// DATA_LOSS naming `source` and the offending line for malformed text, an
// unknown key or an invalid configuration; FAILED_PRECONDITION for a format
// version newer than kSessionOptionsFormatVersion.
absl::StatusOr<SessionOptions> DecodeSessionOptions(absl::string_view text,
                                                         absl::string_view source);

}  // namespace aad

#endif  // AADD_FORMAT_SESSION_OPTIONS_CODEC_H_
