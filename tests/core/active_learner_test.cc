// The active learner end to end on synthetic data: determinism, the learning
// promise, serialisation, warm starts and its error contract.
#include <atomic>
#include <cstring>

#include "core/active/active_learner.h"
#include "core/active/query_strategy.h"
#include "core/data/synthetic.h"
#include "core/eval/discovery_loop.h"
#include "core/eval/metrics.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_data.h"

namespace aad {
namespace {

ActiveConfig SmallConfig(uint64_t seed = 1) {
  ActiveConfig c;
  c.pretrain_epochs = 10;
  c.hidden_units = 16;
  c.latent_units = 4;
  c.forest_trees = 20;
  c.seed = seed;
  return c;
}

// Trains, then labels `count` rows by their ground truth in one update.
void TrainAndLabel(ActiveLearner* learner, const Dataset& data, int64_t count) {
  ASSERT_TRUE(learner->Train(data.features, {}).ok());
  std::vector<LabelledRow> labels;
  for (int64_t i = 0; i < count; ++i) labels.push_back({i, data.labels[i] != 0});
  ASSERT_TRUE(learner->Update(data.features, labels).ok());
}

TEST(ActiveLearner, FindsMoreClusteredAnomaliesThanTheUnsupervisedRanking) {
  // The paper's first setting: a tight anomalous cluster that density and
  // reconstruction call normal. A few labels must reveal it.
  for (uint64_t seed : {1, 2, 3}) {
    const Dataset data = Clustered(seed, 2000, 8);
    const int64_t budget = 100;
    ActiveConfig config;  // the defaults, as shipped
    config.seed = seed;
    auto loop = RunDiscoveryLoop(data, config, {budget, 1, StrategyKind::kTop});
    ASSERT_TRUE(loop.ok()) << loop.status();
    const int64_t active = loop->discovered;

    const int64_t unsupervised = loop->baseline_discovered;
    // The forest alone sometimes ranks the whole cluster first; then there
    // is nothing left to gain.
    const int64_t best = std::min<int64_t>(budget, data.anomaly_count());
    EXPECT_TRUE(active > unsupervised || active == best)
        << "seed " << seed << ": active " << active << ", unsupervised " << unsupervised
        << " of " << best;
  }
}

TEST(ActiveLearner, SameSeedGivesIdenticalScoresAndQueries) {
  const Dataset data = Clustered(4, 600);
  auto a = RunDiscoveryLoop(data, SmallConfig(9), {20, 1, StrategyKind::kTop});
  auto b = RunDiscoveryLoop(data, SmallConfig(9), {20, 1, StrategyKind::kTop});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->shown, b->shown);
  const Vector& la = a->final_logits;
  const Vector& lb = b->final_logits;
  ASSERT_EQ(la.size(), lb.size());
  EXPECT_EQ(0, std::memcmp(la.data(), lb.data(), sizeof(float) * la.size()));
}

TEST(ActiveLearner, DifferentSeedsGiveDifferentModels) {
  const Dataset data = Clustered(4, 600);
  auto a = ActiveLearner::Create(SmallConfig(1));
  auto b = ActiveLearner::Create(SmallConfig(2));
  ASSERT_TRUE((*a)->Train(data.features, {}).ok());
  ASSERT_TRUE((*b)->Train(data.features, {}).ok());
  EXPECT_FALSE((*a)->pool_logits().isApprox((*b)->pool_logits()));
}

TEST(ActiveLearner, ModelScoresMatchPoolCachesAndSurviveSerialisation) {
  const Dataset data = Clustered(5, 500);
  auto learner = ActiveLearner::Create(SmallConfig(3));
  TrainAndLabel(learner->get(), data, 15);
  const auto& model = (*learner)->model();
  ModelScores direct;
  ASSERT_TRUE(model->Score(data.features, &direct).ok());
  EXPECT_TRUE(direct.logit.isApprox((*learner)->pool_logits(), 1e-5f));
  EXPECT_EQ(model->labels_used(), 15);

  const std::string bytes = model->Serialize();
  auto restored = ActiveModel::Deserialize(bytes);
  ASSERT_TRUE(restored.ok()) << restored.status();
  ModelScores again;
  ASSERT_TRUE((*restored)->Score(data.features, &again).ok());
  ASSERT_EQ(direct.p.size(), again.p.size());
  EXPECT_EQ(0, std::memcmp(direct.p.data(), again.p.data(), sizeof(float) * direct.p.size()));
  EXPECT_EQ(0, std::memcmp(direct.unsupervised.data(), again.unsupervised.data(),
                           sizeof(float) * direct.unsupervised.size()));
  EXPECT_EQ((*restored)->Serialize(), bytes);
}

TEST(ActiveLearner, CorruptModelBytesAreDataLossNotACrash) {
  const Dataset data = Clustered(5, 300);
  auto learner = ActiveLearner::Create(SmallConfig(3));
  ASSERT_TRUE((*learner)->Train(data.features, {}).ok());
  const std::string bytes = (*learner)->model()->Serialize();
  for (size_t cut : {size_t{3}, bytes.size() / 3, bytes.size() - 1}) {
    auto r = ActiveModel::Deserialize(absl::string_view(bytes).substr(0, cut));
    ASSERT_FALSE(r.ok()) << "cut " << cut;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  }
  auto r = ActiveModel::Deserialize(bytes + "x");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
}

TEST(ActiveLearner, AdoptedModelWarmStartsLikeTheOriginal) {
  const Dataset data = Clustered(6, 500);
  auto original = ActiveLearner::Create(SmallConfig(4));
  ASSERT_TRUE((*original)->Train(data.features, {}).ok());
  auto restored = ActiveModel::Deserialize((*original)->model()->Serialize());
  ASSERT_TRUE(restored.ok());
  auto adopter = ActiveLearner::Create(SmallConfig(4));
  ASSERT_TRUE((*adopter)->Adopt(*restored, data.features).ok());
  const std::vector<LabelledRow> labels = {{0, data.labels[0] != 0}, {7, data.labels[7] != 0}};
  ASSERT_TRUE((*original)->Update(data.features, labels).ok());
  ASSERT_TRUE((*adopter)->Update(data.features, labels).ok());
  EXPECT_TRUE((*original)->pool_logits().isApprox((*adopter)->pool_logits()));
}

TEST(ActiveLearner, UpdateFeaturisesRowsAppendedSinceTraining) {
  const Dataset data = Clustered(7, 400);
  auto learner = ActiveLearner::Create(SmallConfig(5));
  ASSERT_TRUE((*learner)->Train(data.features.topRows(300), {}).ok());
  EXPECT_EQ((*learner)->pool_logits().size(), 300);
  ASSERT_TRUE((*learner)->Update(data.features, {{350, true}}).ok());
  EXPECT_EQ((*learner)->pool_logits().size(), 400);
  ModelScores direct;
  ASSERT_TRUE((*learner)->model()->Score(data.features, &direct).ok());
  EXPECT_TRUE(direct.logit.isApprox((*learner)->pool_logits(), 1e-5f));
}

TEST(ActiveLearner, JointTrainingChangesTheDetectorAndKeepsTheOldSnapshot) {
  const Dataset data = Clustered(8, 400);
  ActiveConfig config = SmallConfig(6);
  config.freeze_detector = false;
  config.finetune_steps = 5;
  auto learner = ActiveLearner::Create(config);
  ASSERT_TRUE((*learner)->Train(data.features, {}).ok());
  const std::shared_ptr<const ActiveModel> before = (*learner)->model();
  const std::string before_bytes = before->Serialize();
  std::vector<LabelledRow> labels;
  for (int64_t i = 0; i < 20; ++i) labels.push_back({i, data.labels[i] != 0});
  labels.push_back({data.labels[0] ? 1 : 0, true});
  ASSERT_TRUE((*learner)->Update(data.features, labels).ok());
  EXPECT_NE((*learner)->model()->detector().get(), before->detector().get());
  EXPECT_EQ(before->Serialize(), before_bytes) << "a published model must never change";
}

// The session's undo: after every label is withdrawn, Update() runs on an
// empty label set.
TEST(ActiveLearner, AnUpdateWithNoLabelsLeftGoesBackToTheFitWithoutLabels) {
  const Dataset data = Clustered(11, 400);
  for (bool joint : {false, true}) {
    ActiveConfig config = SmallConfig(8);
    config.freeze_detector = !joint;
    config.finetune_steps = 5;
    auto learner = ActiveLearner::Create(config);
    ASSERT_TRUE(learner.ok());
    ASSERT_TRUE((*learner)->Train(data.features, {}).ok());
    const Vector unlabelled = (*learner)->pool_logits();
    const UaiLayer prior = (*learner)->model()->uai();
    std::vector<LabelledRow> labels;
    for (int64_t i = 0; i < 20; ++i) labels.push_back({i, data.labels[i] != 0});
    labels.push_back({data.labels[0] ? 1 : 0, true});
    ASSERT_TRUE((*learner)->Update(data.features, labels).ok());
    ASSERT_FALSE((*learner)->pool_logits() == unlabelled) << "joint " << joint;

    ASSERT_TRUE((*learner)->Update(data.features, {}).ok()) << "joint " << joint;
    const UaiLayer& uai = (*learner)->model()->uai();
    EXPECT_EQ((*learner)->model()->labels_used(), 0);
    // The layer is its prior again, region block included.
    EXPECT_TRUE(uai.w() == prior.w()) << "joint " << joint;
    EXPECT_EQ(uai.b(), prior.b()) << "joint " << joint;
    ASSERT_EQ(uai.leaves().size(), prior.leaves().size());
    for (int i = 0; i < uai.leaves().size(); ++i) {
      ASSERT_EQ(uai.leaves().Get(i), 0.0) << "leaf " << i << ", joint " << joint;
    }
    // With the frozen detector (the default) that is the unlabelled model,
    // bit for bit; a jointly tuned detector keeps its tuning (warm start).
    if (!joint) {
      ASSERT_EQ((*learner)->pool_logits().size(), unlabelled.size());
      EXPECT_EQ(0, std::memcmp((*learner)->pool_logits().data(), unlabelled.data(),
                               sizeof(float) * unlabelled.size()));
    }
    // Labels given after that are learnt again.
    ASSERT_TRUE((*learner)->Update(data.features, labels).ok());
    EXPECT_EQ((*learner)->model()->labels_used(), static_cast<int64_t>(labels.size()));
  }
}

TEST(ActiveLearner, StopsWithCancelledWhenAsked) {
  const Dataset data = Clustered(9, 400);
  auto learner = ActiveLearner::Create(SmallConfig(7));
  std::atomic<int> epochs{0};
  TrainControl control;
  control.on_progress = [&](const TrainProgress& p) {
    epochs = p.epoch;
    EXPECT_EQ(p.epochs, 10);
    EXPECT_GT(p.rows_per_second, 0);
  };
  control.should_stop = [&] { return epochs.load() >= 2; };
  const absl::Status s = (*learner)->Train(data.features, {}, control);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
  EXPECT_EQ(epochs.load(), 2);
  EXPECT_FALSE((*learner)->trained());
}

// Bit-identical pool logits.
bool SameLogits(const Vector& a, const Vector& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

TEST(ActiveLearner, AFailedCallLeavesTheLearnerAsItWas) {
  // The contract the session relies on instead of rolling back itself: a
  // vetoed or cancelled Train or Update changes neither the model nor the
  // caches, so the next round equals that of a learner that never saw it.
  for (bool joint : {false, true}) {
    const Dataset data = Clustered(12, 500);
    ActiveConfig config = SmallConfig(5);
    config.freeze_detector = !joint;
    config.finetune_steps = 5;
    auto a = ActiveLearner::Create(config);
    auto b = ActiveLearner::Create(config);
    ASSERT_TRUE(a.ok() && b.ok());
    const std::vector<LabelledRow> first = {{0, data.labels[0] != 0}, {3, data.labels[3] != 0}};
    ASSERT_TRUE((*a)->Train(data.features, first).ok());
    ASSERT_TRUE((*b)->Train(data.features, first).ok());
    const std::shared_ptr<const ActiveModel> published = (*a)->model();
    const Vector logits = (*a)->pool_logits();

    const std::vector<LabelledRow> second = {{0, data.labels[0] != 0}, {3, data.labels[3] != 0},
                                             {9, true}};
    TrainControl veto;
    veto.before_publish = [](const ActiveModel&) { return absl::UnavailableError("disk gone"); };
    absl::Status s = (*a)->Update(data.features, second, veto);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_EQ((*a)->model(), published) << "joint " << joint;
    EXPECT_TRUE(SameLogits((*a)->pool_logits(), logits)) << "joint " << joint;

    TrainControl stop;
    stop.should_stop = [] { return true; };
    s = (*a)->Train(data.features, second, stop);
    EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
    s = (*a)->Train(data.features, second, veto);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_EQ((*a)->model(), published);
    EXPECT_TRUE(SameLogits((*a)->pool_logits(), logits));

    ASSERT_TRUE((*a)->Update(data.features, second).ok());
    ASSERT_TRUE((*b)->Update(data.features, second).ok());
    EXPECT_TRUE(SameLogits((*a)->pool_logits(), (*b)->pool_logits())) << "joint " << joint;
    EXPECT_EQ((*a)->model()->Serialize(), (*b)->model()->Serialize()) << "joint " << joint;
  }
}

TEST(ActiveLearner, ErrorsNameTheProblemAndTheValue) {
  auto learner = ActiveLearner::Create(SmallConfig());
  const Dataset data = Clustered(10, 200);
  absl::Status s = (*learner)->Update(data.features, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  s = (*learner)->Train(Matrix(0, 3), {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("empty"), absl::string_view::npos) << s;
  s = (*learner)->Train(data.features, {{200, true}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("row 200"), absl::string_view::npos) << s;
  ASSERT_TRUE((*learner)->Train(data.features, {}).ok());
  ModelScores scores;
  s = (*learner)->model()->Score(Matrix::Zero(2, 3), &scores);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("3 features"), absl::string_view::npos) << s;
}

TEST(ActiveConfig, ValidateNamesTheFieldAndValue) {
  ActiveConfig c;
  EXPECT_TRUE(c.Validate().ok());
  c.batch_size = 0;
  absl::Status s = c.Validate();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("batch_size"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("got 0"), absl::string_view::npos) << s;
  c = ActiveConfig{};
  c.prior_strength = -1;
  EXPECT_NE(c.Validate().message().find("prior_strength"), absl::string_view::npos);
  c = ActiveConfig{};
  c.uai_inputs.score = false;
  c.forest_trees = 0;
  EXPECT_FALSE(c.Validate().ok());
  EXPECT_FALSE(ActiveLearner::Create(c).ok());
}

}  // namespace
}  // namespace aad
