// The whole active loop over the wire must show exactly the rows the core
// shows offline (the protocol of aad-eval): the transport changes nothing.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/simulation.h"
#include "core/active/pool_latents.h"
#include "core/active/active_learner.h"
#include "core/active/pool_scores.h"
#include "core/active/query_strategy.h"
#include "core/data/csv_reader.h"
#include "core/data/synthetic.h"
#include "tests/integration/server_fixture.h"

namespace aad::testing {
namespace {

// aad-eval's RunOnce, reduced to the sequence of rows shown.
std::vector<int64_t> CoreLoop(const aad::Dataset& data, aad::ActiveConfig config,
                              aad::StrategyKind kind, int64_t budget, int64_t batch) {
  auto learner = aad::ActiveLearner::Create(config);
  EXPECT_TRUE(learner.ok()) << learner.status();
  EXPECT_TRUE((*learner)->Train(data.features, {}).ok());
  std::vector<uint8_t> labelled(data.rows(), 0);
  std::vector<aad::LabelledRow> labels;
  std::vector<int64_t> shown;
  const auto strategy = aad::MakeQueryStrategy(kind);
  for (uint64_t round = 1; static_cast<int64_t>(labels.size()) < budget; ++round) {
    aad::QueryContext c;
    c.logits = absl::MakeConstSpan((*learner)->pool_logits().data(), (*learner)->pool_logits().size());
    c.unsupervised = absl::MakeConstSpan((*learner)->pool_unsupervised().data(),
                                         (*learner)->pool_unsupervised().size());
    c.labelled = labelled;
    c.latents = aad::LatentsOf((*learner)->model(), data.features);
    c.seed = aad::QuerySeed(config.seed, round);
    const int64_t k = std::min<int64_t>(batch, budget - labels.size());
    const std::vector<int64_t> rows = strategy->Select(c, k);
    if (rows.empty()) break;
    for (int64_t r : rows) {
      labelled[r] = 1;
      labels.push_back({r, data.labels[r] != 0});
      shown.push_back(r);
    }
    EXPECT_TRUE((*learner)->Update(data.features, labels).ok());
  }
  return shown;
}

class LoopTest : public ServerFixture {};

void ExpectSameAsCore(aad::AadClient* client, const aad::Dataset& data, aad::StrategyKind kind,
                      aad::v1::QueryStrategy wire_kind, int64_t budget, int64_t batch,
                      int pretrain_epochs, uint64_t seed) {
  aad::ActiveConfig config;
  config.pretrain_epochs = pretrain_epochs;
  config.seed = seed;
  const std::vector<int64_t> expected = CoreLoop(data, config, kind, budget, batch);

  aad::SimulationOptions o;
  o.budget = budget;
  o.batch = batch;
  o.strategy = wire_kind;
  o.seed = seed;
  o.config.set_pretrain_epochs(pretrain_epochs);
  auto result = aad::RunSimulation(client, data, o);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(static_cast<int64_t>(expected.size()), budget);
  EXPECT_EQ(result->shown, expected);
  int64_t found = 0;
  for (int64_t r : expected) found += data.labels[r];
  EXPECT_EQ(result->report.discovered, found);
}

TEST_F(LoopTest, YeastFindsTheSameAnomaliesAsTheCore) {
  aad::CsvOptions csv;
  csv.require_labels = true;
  auto data = aad::ReadCsvFile(std::string(AADD_SHARED_DATA_DIR) + "/adx/yeast_1.csv", csv);
  ASSERT_TRUE(data.ok()) << data.status();
  ExpectSameAsCore(client_.get(), *data, aad::StrategyKind::kTop, aad::v1::QUERY_STRATEGY_TOP,
                   /*budget=*/40, /*batch=*/1, /*pretrain_epochs=*/10, /*seed=*/3);
}

TEST_F(LoopTest, SyntheticFindsTheSameAnomaliesAsTheCore) {
  aad::SyntheticOptions so;
  so.rows = 1000;
  so.dims = 6;
  so.seed = 5;
  auto data = aad::MakeClusteredAnomalies(so);
  ASSERT_TRUE(data.ok()) << data.status();
  ExpectSameAsCore(client_.get(), *data, aad::StrategyKind::kTop, aad::v1::QUERY_STRATEGY_TOP,
                   /*budget=*/40, /*batch=*/4, /*pretrain_epochs=*/10, /*seed=*/5);
}

TEST_F(LoopTest, SeededStrategiesMatchTheCoreToo) {
  aad::SyntheticOptions so;
  so.rows = 600;
  so.dims = 5;
  so.seed = 9;
  auto data = aad::MakeLowDensityAnomalies(so);
  ASSERT_TRUE(data.ok()) << data.status();
  ExpectSameAsCore(client_.get(), *data, aad::StrategyKind::kDiverse,
                   aad::v1::QUERY_STRATEGY_DIVERSE, 20, 5, 5, 9);
  ExpectSameAsCore(client_.get(), *data, aad::StrategyKind::kRandom,
                   aad::v1::QUERY_STRATEGY_RANDOM, 10, 2, 5, 9);
}

TEST_F(LoopTest, DefaultCandidateSeedFollowsTheFeedbackRounds) {
  // Without an explicit seed the server derives it like aad-eval does:
  // seed * 1000003 + (label rounds + 1).
  aad::SyntheticOptions so;
  so.rows = 300;
  so.dims = 4;
  auto data = aad::MakeLowDensityAnomalies(so);
  ASSERT_TRUE(data.ok());
  aad::v1::CreateSessionRequest create;
  create.mutable_config()->set_pretrain_epochs(3);
  create.mutable_config()->set_seed(7);
  auto info = client_->CreateSession(create);
  ASSERT_TRUE(info.ok());
  const std::string id = info->session_id();
  ASSERT_TRUE(client_->Ingest(id, absl::MakeConstSpan(data->features.data(), data->features.size()),
                              data->dims()).ok());
  ASSERT_TRUE(client_->Train(id).ok());
  auto implicit = client_->GetQueryCandidates(id, 5, aad::v1::QUERY_STRATEGY_RANDOM);
  auto explicit_seed =
      client_->GetQueryCandidates(id, 5, aad::v1::QUERY_STRATEGY_RANDOM, aad::QuerySeed(7, 1));
  ASSERT_TRUE(implicit.ok() && explicit_seed.ok());
  EXPECT_EQ(std::vector<int64_t>(implicit->row_ids().begin(), implicit->row_ids().end()),
            std::vector<int64_t>(explicit_seed->row_ids().begin(), explicit_seed->row_ids().end()));
  ASSERT_TRUE(client_->SubmitLabels(id, {{implicit->row_ids(0), true}}, true).ok());
  auto round2 = client_->GetQueryCandidates(id, 5, aad::v1::QUERY_STRATEGY_RANDOM);
  auto round2_explicit =
      client_->GetQueryCandidates(id, 5, aad::v1::QUERY_STRATEGY_RANDOM, aad::QuerySeed(7, 2));
  ASSERT_TRUE(round2.ok() && round2_explicit.ok());
  EXPECT_EQ(std::vector<int64_t>(round2->row_ids().begin(), round2->row_ids().end()),
            std::vector<int64_t>(round2_explicit->row_ids().begin(), round2_explicit->row_ids().end()));
  EXPECT_EQ(round2->model_version(), 2);
}

}  // namespace
}  // namespace aad::testing
