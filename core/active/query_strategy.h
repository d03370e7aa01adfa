// Which unlabelled rows the expert should see next.
//   top       - highest active score: the anomaly-discovery setting.
//   uncertain - active score nearest 0.5: where a label teaches the most.
//   diverse   - k rows from the top candidates, far apart in latent space, so
//               one batch covers several kinds of anomaly.
//   random    - uniform over unlabelled rows: a baseline.
#ifndef AADD_CORE_ACTIVE_QUERY_STRATEGY_H_
#define AADD_CORE_ACTIVE_QUERY_STRATEGY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/nn/tensor.h"

namespace aad {

enum class StrategyKind { kTop, kUncertain, kDiverse, kRandom };

absl::string_view StrategyKindName(StrategyKind kind);
absl::StatusOr<StrategyKind> ParseStrategyKind(absl::string_view name);

// Latent vectors of the given pool rows, one row of the result per row.
using LatentsFn = std::function<Matrix(absl::Span<const int64_t> rows)>;

// What a strategy sees of the pool; spans index pool rows.
struct QueryContext {
  absl::Span<const float> logits;        // active score, as a logit
  absl::Span<const float> unsupervised;  // s, breaks ties
  absl::Span<const uint8_t> labelled;    // 1 = already labelled, never proposed
  LatentsFn latents;                     // needed by diverse (its shortlist only)
  uint64_t seed = 1;                     // for random (and diverse ties)
};

// Stateless and thread-safe.
class QueryStrategy {
 public:
  virtual ~QueryStrategy() = default;
  virtual StrategyKind kind() const = 0;
  // Up to k distinct unlabelled pool rows, best first. Fewer when the pool
  // has fewer unlabelled rows.
  virtual std::vector<int64_t> Select(const QueryContext& context, int64_t k) const = 0;
};

std::unique_ptr<QueryStrategy> MakeQueryStrategy(StrategyKind kind);

// Unlabelled rows ranked by logit, then by unsupervised score, then by index:
// the shared order of `top` and of the evaluation protocol. Returns the best k.
std::vector<int64_t> RankUnlabelled(const QueryContext& context, int64_t k);

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_QUERY_STRATEGY_H_
