#include "client/simulation.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/active/pool_scores.h"
#include "core/eval/metrics.h"
#include "core/util/status_macros.h"

namespace aad {
absl::StatusOr<SimulationResult> RunSimulation(AadClient* client, const aad::Dataset& data,
                                               const SimulationOptions& options) {
  using Clock = std::chrono::steady_clock;
  if (!data.has_labels()) {
    return absl::InvalidArgumentError("simulation needs ground truth: the data has no labels");
  }
  if (options.budget < 1 || options.batch < 1) {
    return absl::InvalidArgumentError(absl::StrCat("budget and batch must be >= 1, got ",
                                                   options.budget, " and ", options.batch));
  }
  const auto start = Clock::now();
  SimulationResult result;
  aad::DiscoveryReport& report = result.report;
  report.seed = options.seed;
  aad::v1::CreateSessionRequest create;
  *create.mutable_config() = options.config;
  create.mutable_config()->set_seed(options.seed);
  create.mutable_config()->set_strategy(options.strategy);
  ASSIGN_OR_RETURN(aad::v1::SessionInfo info, client->CreateSession(create));
  result.session_id = info.session_id();
  const std::string& id = result.session_id;

  ASSIGN_OR_RETURN(aad::v1::IngestResponse ingested,
                   client->Ingest(id,
                                  absl::MakeConstSpan(data.features.data(), data.features.size()),
                                  data.dims()));
  // Row ids are pool indices in ingest order; a fresh session starts at 0.
  if (ingested.total_rows() != data.rows() || ingested.batches().empty() ||
      ingested.batches(0).first_row_id() != 0) {
    return absl::InternalError(absl::StrCat("session ", id, " holds ", ingested.total_rows(),
                                            " rows after ingesting ", data.rows()));
  }
  RETURN_IF_ERROR(client->Train(id).status());
  report.train_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const int64_t budget = std::min<int64_t>(options.budget, data.rows());

  // The unsupervised baseline: the top `budget` rows of the initial ranking.
  ASSIGN_OR_RETURN(auto initial,
                   client->GetQueryCandidates(id, static_cast<int>(budget),
                                              aad::v1::QUERY_STRATEGY_TOP,
                                              aad::QuerySeed(options.seed, 0)));
  const std::vector<int64_t> initial_ids(initial.row_ids().begin(), initial.row_ids().end());
  report.baseline_discovered = aad::DiscoveredWithinBudget(initial_ids, data.labels, budget);
  std::vector<int64_t> all(data.rows());
  std::iota(all.begin(), all.end(), 0);
  ASSIGN_OR_RETURN(auto first_scores, client->ScorePoolRows(id, all));
  report.baseline_auc_roc = aad::RocAuc(
      absl::MakeConstSpan(first_scores.s().data(), first_scores.s().size()), data.labels);

  std::vector<double> update_ms;
  int64_t labelled = 0;
  for (uint64_t round = 1; labelled < budget; ++round) {
    const int64_t k = std::min<int64_t>(options.batch, budget - labelled);
    ASSIGN_OR_RETURN(auto candidates,
                     client->GetQueryCandidates(id, static_cast<int>(k), options.strategy,
                                                aad::QuerySeed(options.seed, round)));
    if (candidates.row_ids().empty()) break;
    std::vector<std::pair<int64_t, bool>> verdicts;
    for (int64_t row : candidates.row_ids()) {
      const bool anomaly = data.labels[row] != 0;
      verdicts.emplace_back(row, anomaly);
      result.shown.push_back(row);
      ++labelled;
    }
    const auto t0 = Clock::now();
    ASSIGN_OR_RETURN(auto reply, client->SubmitLabels(id, verdicts, /*wait_for_model=*/true));
    update_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (reply.labels() != labelled) {
      return absl::InternalError(absl::StrCat("session ", id, " holds ", reply.labels(),
                                              " labels, the expert gave ", labelled));
    }
  }
  ASSIGN_OR_RETURN(auto final_scores, client->ScorePoolRows(id, all));
  aad::SummarizeOutcome(
      result.shown, data.labels,
      absl::MakeConstSpan(final_scores.logit().data(), final_scores.logit().size()), update_ms,
      &report);
  if (options.delete_session) RETURN_IF_ERROR(client->DeleteSession(id));
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace aad
