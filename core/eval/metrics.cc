#include "core/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace aad {
namespace {

// The ranking order shared by every metric: higher score first, ties by
// lower index. A NaN score (a detector that diverged) ranks last, as the
// least anomalous; it must not break the sort's strict weak ordering.
struct RanksBefore {
  absl::Span<const float> scores;
  bool operator()(int64_t a, int64_t b) const {
    const float sa = scores[a];
    const float sb = scores[b];
    const bool nan_a = std::isnan(sa);
    const bool nan_b = std::isnan(sb);
    if (nan_a != nan_b) return nan_b;
    if (!nan_a && sa != sb) return sa > sb;
    return a < b;
  }
};

// True when two scores tie in the ranking order above (NaNs tie each other).
bool SameScore(float a, float b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

std::vector<int64_t> RankedIndices(absl::Span<const float> scores) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::sort(order.begin(), order.end(), RanksBefore{scores});
  return order;
}

}  // namespace

double RocAuc(absl::Span<const float> scores, absl::Span<const uint8_t> labels) {
  if (scores.size() != labels.size()) return std::numeric_limits<double>::quiet_NaN();
  const int64_t n = static_cast<int64_t>(scores.size());
  int64_t negatives = 0;
  for (uint8_t label : labels) negatives += label == 0;
  const int64_t positives = n - negatives;
  if (positives == 0 || negatives == 0) return 0.5;
  const std::vector<int64_t> order = RankedIndices(scores);
  // Walk groups of tied scores from the top. Each anomaly beats every
  // nominal row ranked strictly below it and half of those tied with it,
  // which is the Mann-Whitney U statistic without materialising ranks.
  double wins = 0.0;
  int64_t negatives_below = negatives;  // nominal rows not visited yet
  for (int64_t start = 0; start < n;) {
    int64_t end = start;
    int64_t group_pos = 0;
    int64_t group_neg = 0;
    while (end < n && SameScore(scores[order[end]], scores[order[start]])) {
      if (labels[order[end]] != 0) {
        ++group_pos;
      } else {
        ++group_neg;
      }
      ++end;
    }
    negatives_below -= group_neg;
    wins += static_cast<double>(group_pos) *
            (static_cast<double>(negatives_below) + 0.5 * static_cast<double>(group_neg));
    start = end;
  }
  return wins / (static_cast<double>(positives) * static_cast<double>(negatives));
}

double AveragePrecision(absl::Span<const float> scores, absl::Span<const uint8_t> labels) {
  if (scores.size() != labels.size()) return std::numeric_limits<double>::quiet_NaN();
  const std::vector<int64_t> order = RankedIndices(scores);
  double sum = 0.0;
  int64_t hits = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    if (labels[order[k]] == 0) continue;
    ++hits;
    sum += static_cast<double>(hits) / static_cast<double>(k + 1);
  }
  return hits == 0 ? 0.0 : sum / static_cast<double>(hits);
}

int64_t DiscoveredWithinBudget(absl::Span<const int64_t> shown, absl::Span<const uint8_t> labels,
                               int64_t budget) {
  const int64_t n = std::min<int64_t>(std::max<int64_t>(budget, 0),
                                      static_cast<int64_t>(shown.size()));
  int64_t found = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = shown[i];
    if (row < 0 || row >= static_cast<int64_t>(labels.size())) return -1;
    found += labels[row] != 0;
  }
  return found;
}

std::vector<int64_t> TopK(absl::Span<const float> scores, int64_t k) {
  const int64_t n = static_cast<int64_t>(scores.size());
  k = std::clamp<int64_t>(k, 0, n);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t{0});
  // O(n + k log k): select the top k, then sort only those.
  const RanksBefore before{scores};
  if (k > 0 && k < n) std::nth_element(order.begin(), order.begin() + k, order.end(), before);
  std::sort(order.begin(), order.begin() + k, before);
  order.resize(k);
  return order;
}

}  // namespace aad
