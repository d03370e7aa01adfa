#include "server/row_validation.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace aad {

absl::Status ValidateRows(absl::Span<const float> values, int64_t feature_count,
                          int64_t expected_features, int64_t max_features,
                          absl::string_view what) {
  if (values.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty: no values"));
  }
  if (feature_count <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": feature_count must be > 0, got ", feature_count));
  }
  if (feature_count > max_features) {
    return absl::ResourceExhaustedError(absl::StrCat(what, " has ", feature_count,
                                                     " features, the limit is ", max_features,
                                                     " (--max_features)"));
  }
  if (expected_features > 0 && feature_count != expected_features) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has ", feature_count,
                                                   " features per row, the session has ",
                                                   expected_features));
  }
  if (values.size() % feature_count != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", values.size(), " values are not a whole number of rows of ",
                     feature_count, " features"));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": row ", i / feature_count, " column ", i % feature_count, " is ",
          std::isnan(values[i]) ? "NaN" : (values[i] > 0 ? "Inf" : "-Inf"),
          "; only finite values are accepted"));
    }
  }
  return absl::OkStatus();
}

}  // namespace aad
