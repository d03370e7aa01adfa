#include "core/active/query_strategy.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/util/random.h"

namespace aad {
namespace {

// The k best unlabelled rows by a key (higher first), ties by the
// unsupervised score, then by row index: a strict total order, so the
// result is deterministic. A bounded heap of the k best so far when k is
// small against the pool, as in a feedback round (no pool-sized index list:
// at 1M rows it was 8 MB of fresh pages a call); a partial sort of every
// unlabelled row otherwise. Both give the same rows in the same order.
template <typename Key>
std::vector<int64_t> BestUnlabelled(const QueryContext& c, int64_t k, Key key) {
  const int64_t n = static_cast<int64_t>(c.logits.size());
  auto better = [&](int64_t a, int64_t b) {
    const float ka = key(a), kb = key(b);
    if (ka != kb) return ka > kb;
    const float sa = c.unsupervised.empty() ? 0.0f : c.unsupervised[a];
    const float sb = c.unsupervised.empty() ? 0.0f : c.unsupervised[b];
    if (sa != sb) return sa > sb;
    return a < b;
  };
  auto unlabelled = [&](int64_t i) { return c.labelled.empty() || !c.labelled[i]; };
  std::vector<int64_t> rows;
  if (k <= 0) return rows;
  if (k * 16 <= n) {
    // A heap whose front is the worst of the best k so far.
    rows.reserve(k);
    for (int64_t i = 0; i < n; ++i) {
      if (!unlabelled(i)) continue;
      if (static_cast<int64_t>(rows.size()) < k) {
        rows.push_back(i);
        std::push_heap(rows.begin(), rows.end(), better);
      } else if (better(i, rows.front())) {
        std::pop_heap(rows.begin(), rows.end(), better);
        rows.back() = i;
        std::push_heap(rows.begin(), rows.end(), better);
      }
    }
    std::sort_heap(rows.begin(), rows.end(), better);
    return rows;
  }
  rows.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    if (unlabelled(i)) rows.push_back(i);
  }
  k = std::min<int64_t>(k, static_cast<int64_t>(rows.size()));
  std::partial_sort(rows.begin(), rows.begin() + k, rows.end(), better);
  rows.resize(k);
  return rows;
}

class TopStrategy final : public QueryStrategy {
 public:
  StrategyKind kind() const override { return StrategyKind::kTop; }
  std::vector<int64_t> Select(const QueryContext& c, int64_t k) const override {
    return RankUnlabelled(c, k);
  }
};

class UncertainStrategy final : public QueryStrategy {
 public:
  StrategyKind kind() const override { return StrategyKind::kUncertain; }
  std::vector<int64_t> Select(const QueryContext& c, int64_t k) const override {
    // p nearest 0.5 is the logit nearest 0.
    return BestUnlabelled(c, k, [&](int64_t i) { return -std::abs(c.logits[i]); });
  }
};

class RandomStrategy final : public QueryStrategy {
 public:
  StrategyKind kind() const override { return StrategyKind::kRandom; }
  std::vector<int64_t> Select(const QueryContext& c, int64_t k) const override {
    std::vector<int64_t> rows;
    for (size_t i = 0; i < c.logits.size(); ++i) {
      if (c.labelled.empty() || !c.labelled[i]) rows.push_back(static_cast<int64_t>(i));
    }
    k = std::min<int64_t>(k, static_cast<int64_t>(rows.size()));
    Rng rng(c.seed);
    for (int64_t i = 0; i < k; ++i) {  // partial Fisher-Yates
      std::swap(rows[i], rows[i + rng.UniformInt(rows.size() - i)]);
    }
    rows.resize(k);
    return rows;
  }
};

class DiverseStrategy final : public QueryStrategy {
 public:
  // Candidates considered per requested row.
  static constexpr int64_t kPoolFactor = 10;

  StrategyKind kind() const override { return StrategyKind::kDiverse; }
  std::vector<int64_t> Select(const QueryContext& c, int64_t k) const override {
    std::vector<int64_t> candidates = RankUnlabelled(c, k * kPoolFactor);
    if (!c.latents || static_cast<int64_t>(candidates.size()) <= k || k <= 1) {
      candidates.resize(std::min<int64_t>(k, candidates.size()));
      return candidates;
    }
    // Greedy farthest-point selection, seeded with the top candidate: each
    // next row maximises its distance to the rows already chosen.
    const Matrix z = c.latents(candidates);  // row j: candidates[j]
    std::vector<int64_t> chosen = {candidates[0]};
    std::vector<float> nearest(candidates.size(), std::numeric_limits<float>::infinity());
    std::vector<uint8_t> taken(candidates.size(), 0);
    taken[0] = 1;
    size_t last = 0;  // the candidate chosen last
    while (static_cast<int64_t>(chosen.size()) < k) {
      size_t best = 0;
      float best_dist = -1.0f;
      for (size_t j = 0; j < candidates.size(); ++j) {
        if (taken[j]) continue;
        nearest[j] = std::min(nearest[j], (z.row(j) - z.row(last)).squaredNorm());
        if (nearest[j] > best_dist) {
          best_dist = nearest[j];
          best = j;
        }
      }
      taken[best] = 1;
      last = best;
      chosen.push_back(candidates[best]);
    }
    return chosen;
  }
};

}  // namespace

absl::string_view StrategyKindName(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::kTop: return "top";
    case StrategyKind::kUncertain: return "uncertain";
    case StrategyKind::kDiverse: return "diverse";
    case StrategyKind::kRandom: return "random";
  }
  return "unknown";
}

absl::StatusOr<StrategyKind> ParseStrategyKind(absl::string_view name) {
  for (StrategyKind k : {StrategyKind::kTop, StrategyKind::kUncertain, StrategyKind::kDiverse,
                         StrategyKind::kRandom}) {
    if (StrategyKindName(k) == name) return k;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown query strategy '", name, "' (known: top, uncertain, diverse, random)"));
}

std::unique_ptr<QueryStrategy> MakeQueryStrategy(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::kUncertain: return std::make_unique<UncertainStrategy>();
    case StrategyKind::kDiverse: return std::make_unique<DiverseStrategy>();
    case StrategyKind::kRandom: return std::make_unique<RandomStrategy>();
    case StrategyKind::kTop: break;
  }
  return std::make_unique<TopStrategy>();
}

std::vector<int64_t> RankUnlabelled(const QueryContext& c, int64_t k) {
  return BestUnlabelled(c, k, [&](int64_t i) { return c.logits[i]; });
}

}  // namespace aad
