// Checks of rows arriving from clients, before they reach a session or a
// model: shape, feature count and finiteness. Every error names the value.
#ifndef AADD_SERVER_ROW_VALIDATION_H_
#define AADD_SERVER_ROW_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace aad {

// `values` must be a non-empty whole number of rows of `feature_count`
// floats, all finite; `expected_features` (0 = not fixed yet) must match and
// `max_features` bounds the width. `what` names the input in messages
// ("batch 'b7'", "score request"). INVALID_ARGUMENT, or RESOURCE_EXHAUSTED
// for a width over max_features. Thread-safe, pure.
absl::Status ValidateRows(absl::Span<const float> values, int64_t feature_count,
                          int64_t expected_features, int64_t max_features,
                          absl::string_view what);

}  // namespace aad

#endif  // AADD_SERVER_ROW_VALIDATION_H_
