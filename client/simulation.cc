#include "client/simulation.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/active/pool_scores.h"
#include "core/eval/metrics.h"
#include "core/util/status_macros.h"

namespace aadc {
namespace {

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

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
  result.seed = options.seed;
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
  result.train_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const int64_t budget = std::min<int64_t>(options.budget, data.rows());

  // The unsupervised baseline: the top `budget` rows of the initial ranking.
  ASSIGN_OR_RETURN(auto initial,
                   client->GetQueryCandidates(id, static_cast<int>(budget),
                                              aad::v1::QUERY_STRATEGY_TOP,
                                              aad::QuerySeed(options.seed, 0)));
  const std::vector<int64_t> initial_ids(initial.row_ids().begin(), initial.row_ids().end());
  result.baseline_discovered = aad::DiscoveredWithinBudget(initial_ids, data.labels, budget);
  std::vector<int64_t> all(data.rows());
  std::iota(all.begin(), all.end(), 0);
  ASSIGN_OR_RETURN(auto first_scores, client->ScorePoolRows(id, all));
  result.baseline_auc_roc = aad::RocAuc(
      absl::MakeConstSpan(first_scores.s().data(), first_scores.s().size()), data.labels);

  std::vector<double> update_ms;
  int64_t found = 0, next_mark = 1, labelled = 0;
  const int64_t step = std::max<int64_t>(1, budget / 10);
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
      found += anomaly;
      if (labelled >= next_mark * step || labelled == budget) {
        result.curve.emplace_back(labelled, found);
        while (next_mark * step <= labelled) ++next_mark;
      }
    }
    const auto t0 = Clock::now();
    ASSIGN_OR_RETURN(auto reply, client->SubmitLabels(id, verdicts, /*wait_for_model=*/true));
    update_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (reply.labels() != labelled) {
      return absl::InternalError(absl::StrCat("session ", id, " holds ", reply.labels(),
                                              " labels, the expert gave ", labelled));
    }
  }
  result.discovered = found;
  ASSIGN_OR_RETURN(auto final_scores, client->ScorePoolRows(id, all));
  const auto logits =
      absl::MakeConstSpan(final_scores.logit().data(), final_scores.logit().size());
  result.auc_roc = aad::RocAuc(logits, data.labels);
  result.average_precision = aad::AveragePrecision(logits, data.labels);
  double sum = 0;
  for (double ms : update_ms) sum += ms;
  result.update_ms_mean = update_ms.empty() ? 0 : sum / update_ms.size();
  result.update_ms_p95 = Percentile(update_ms, 0.95);
  if (options.delete_session) RETURN_IF_ERROR(client->DeleteSession(id));
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace aadc
