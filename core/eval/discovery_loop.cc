#include "core/eval/discovery_loop.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/active/pool_latents.h"
#include "core/active/active_learner.h"
#include "core/eval/metrics.h"
#include "core/util/status_macros.h"

namespace aad {

absl::StatusOr<DiscoveryResult> RunDiscoveryLoop(const Dataset& data, const ActiveConfig& config,
                                                 const DiscoveryOptions& options) {
  using Clock = std::chrono::steady_clock;
  if (!data.has_labels()) {
    return absl::InvalidArgumentError("the discovery protocol needs ground-truth labels");
  }
  if (options.budget < 1 || options.batch < 1) {
    return absl::InvalidArgumentError(absl::StrCat("budget and batch must be >= 1, got ",
                                                   options.budget, " and ", options.batch));
  }
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<ActiveLearner> learner, ActiveLearner::Create(config));
  RETURN_IF_ERROR(learner->Train(data.features, {}));
  DiscoveryResult result;
  result.train_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const int64_t budget = std::min<int64_t>(options.budget, data.rows());

  std::vector<uint8_t> labelled(data.rows(), 0);
  auto context = [&](uint64_t round) {
    QueryContext c;
    c.logits = absl::MakeConstSpan(learner->pool_logits().data(), learner->pool_logits().size());
    c.unsupervised = absl::MakeConstSpan(learner->pool_unsupervised().data(),
                                         learner->pool_unsupervised().size());
    c.labelled = labelled;
    c.latents = LatentsOf(learner->model(), data.features);
    c.seed = QuerySeed(config.seed, round);
    return c;
  };
  // The unsupervised baseline: the top `budget` rows of the initial ranking.
  const std::vector<int64_t> initial = RankUnlabelled(context(0), budget);
  result.baseline_discovered = DiscoveredWithinBudget(initial, data.labels, budget);
  result.baseline_auc_roc = RocAuc(
      absl::MakeConstSpan(learner->pool_unsupervised().data(), data.rows()), data.labels);

  const auto strategy = MakeQueryStrategy(options.strategy);
  std::vector<LabelledRow> labels;
  for (uint64_t round = 1; static_cast<int64_t>(labels.size()) < budget; ++round) {
    const int64_t k = std::min<int64_t>(options.batch, budget - labels.size());
    const std::vector<int64_t> next = strategy->Select(context(round), k);
    if (next.empty()) break;
    for (int64_t row : next) {
      labelled[row] = 1;
      labels.push_back({row, data.labels[row] != 0});
      result.shown.push_back(row);
      result.discovered += data.labels[row] != 0;
    }
    const auto t0 = Clock::now();
    RETURN_IF_ERROR(learner->Update(data.features, labels));
    result.update_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  result.final_logits = learner->pool_logits();
  return result;
}

}  // namespace aad
