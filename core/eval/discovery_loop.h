// The "anomalies discovered within a budget" protocol of the benchmark sets
// (../shared/data/README.md), run on the core alone: train without labels,
// then repeatedly show the strategy's next rows, reveal their ground truth
// and update the model, until the budget is spent.
#ifndef AADD_CORE_EVAL_DISCOVERY_LOOP_H_
#define AADD_CORE_EVAL_DISCOVERY_LOOP_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/active/active_config.h"
#include "core/active/query_strategy.h"
#include "core/data/dataset.h"
#include "core/nn/tensor.h"

namespace aad {

struct DiscoveryOptions {
  int64_t budget = 300;  // rows shown in total (capped at the data's rows)
  int64_t batch = 1;     // rows shown per feedback round
  StrategyKind strategy = StrategyKind::kTop;
};

struct DiscoveryResult {
  std::vector<int64_t> shown;        // rows in the order shown
  int64_t discovered = 0;            // anomalies among them
  int64_t baseline_discovered = 0;   // anomalies in the initial top `budget`
  double baseline_auc_roc = 0;       // ROC AUC of the unsupervised score
  Vector final_logits;               // the last model's pool scores
  std::vector<double> update_ms;     // one per feedback round
  double train_seconds = 0;          // the initial, unsupervised training
};

// The query seed of round r, shared with the service so that both reproduce
// each other's random and diverse queries.
inline uint64_t QuerySeed(uint64_t config_seed, uint64_t round) {
  return config_seed * 1000003 + round;
}

// INVALID_ARGUMENT when the data has no labels or options are out of range;
// any training error otherwise.
absl::StatusOr<DiscoveryResult> RunDiscoveryLoop(const Dataset& data, const ActiveConfig& config,
                                                 const DiscoveryOptions& options);

}  // namespace aad

#endif  // AADD_CORE_EVAL_DISCOVERY_LOOP_H_
