// Ranking metrics for anomaly scores (higher score = more anomalous).
// Any nonzero label is an anomaly. A NaN score ranks below every number.
#ifndef AADD_CORE_EVAL_METRICS_H_
#define AADD_CORE_EVAL_METRICS_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace aad {

// Area under the ROC curve; tied scores count one half (Mann-Whitney U).
// Returns 0.5 when either class is absent. Sizes must match (NaN if not).
double RocAuc(absl::Span<const float> scores, absl::Span<const uint8_t> labels);

// Average precision: the mean of precision@k over the ranks k of the true
// anomalies, ranking by descending score (ties broken by lower index first).
// Returns 0 when there is no anomaly; NaN when the sizes differ.
double AveragePrecision(absl::Span<const float> scores, absl::Span<const uint8_t> labels);

// Number of anomalies among the first `budget` row indices of `shown`;
// -1 when one of those indices is not a row of `labels`.
int64_t DiscoveredWithinBudget(absl::Span<const int64_t> shown, absl::Span<const uint8_t> labels,
                               int64_t budget);

// The indices of the `k` highest scores, highest first; ties by lower index.
// `k` is clamped to [0, scores.size()]. O(n + k log k).
std::vector<int64_t> TopK(absl::Span<const float> scores, int64_t k);

}  // namespace aad

#endif  // AADD_CORE_EVAL_METRICS_H_
