// The names of a session's columns (a CSV file's header): the one rule for
// every way they enter aadd (CreateSession, the first Ingest message, an
// imported archive) and for the stores that keep them, so that every output
// that shows features (candidates, explanations, status, the web page) can
// print them as they are.
#ifndef AADD_FORMAT_FEATURE_NAMES_H_
#define AADD_FORMAT_FEATURE_NAMES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace aad {

// Longest feature name, in bytes: a column header, not a document.
inline constexpr size_t kMaxFeatureNameBytes = 256;

// OK when `names` are exactly `feature_count` names, each non-empty, at most
// kMaxFeatureNameBytes bytes, valid UTF-8 (what a protobuf string field must
// hold, and what JSON and a terminal can show) and unique. Otherwise
// INVALID_ARGUMENT naming the first offending name (quoted, C-hex-escaped),
// its position (feature index, 0-based as in explanations) and the rule it
// breaks. Thread-safe, pure.
absl::Status ValidateFeatureNames(absl::Span<const std::string> names, int64_t feature_count);

// The rule for giving a session its names once, shared by the stores
// (SessionStore::SetFeatureNames): OK when the session has no names yet
// (`current` empty) and `names` pass ValidateFeatureNames for
// `feature_count` (0, not fixed yet: any count), or when `names` equal
// `current` (a retry). FAILED_PRECONDITION naming the first name that
// differs from the session's; the errors of ValidateFeatureNames.
absl::Status CheckFeatureNamesUpdate(absl::Span<const std::string> current,
                                     int64_t feature_count,
                                     absl::Span<const std::string> names);

// The name as messages quote it: in single quotes, C-hex-escaped, cut after
// 64 bytes (then "..." follows) so that a long name cannot flood a log.
std::string QuoteFeatureName(absl::string_view name);

// Index of the first position where `a` and `b` differ (a name, or one list
// ends early), or -1 when they are equal.
int64_t FirstDifferentFeatureName(absl::Span<const std::string> a,
                                  absl::Span<const std::string> b);

}  // namespace aad

#endif  // AADD_FORMAT_FEATURE_NAMES_H_
