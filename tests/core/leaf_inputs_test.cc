// The region block of the UAI layer: the forest's leaf codes, the fixed-point
// leaf weights, the truncated-Newton refit, the layer that reads them, model
// format 2 (and reading format 1), and the learning promise on clustered
// anomalies that the dense layer alone misses.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/active/active_learner.h"
#include "core/active/leaf_weights.h"
#include "core/active/sparse_logistic_fit.h"
#include "core/active/uai_layer.h"
#include "core/data/synthetic.h"
#include "core/detectors/isolation_forest.h"
#include "core/eval/discovery_loop.h"
#include "core/util/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/synthetic_data.h"

namespace aad {
namespace {

using ::testing::HasSubstr;

Matrix RandomMatrix(int rows, int cols, uint64_t seed) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.Normal());
  return m;
}

IsolationForest FittedForest(const Matrix& x, int trees, int sample_size = 256) {
  IsolationForest forest({trees, sample_size, 7});
  EXPECT_TRUE(forest.Fit(x).ok());
  return forest;
}

TEST(ForestLeaves, OneWalkGivesTheScoresAndEachRowsLeafInEveryTree) {
  const Matrix x = RandomMatrix(700, 5, 1);
  const IsolationForest forest = FittedForest(x, 40);
  ASSERT_EQ(forest.num_trees(), 40);
  EXPECT_GT(forest.max_leaves(), 1);
  EXPECT_LE(forest.max_leaves(), 256);
  std::vector<float> plain(x.rows()), scores(x.rows());
  std::vector<LeafCode> codes(x.rows() * 40);
  ASSERT_TRUE(forest.Score(x, absl::MakeSpan(plain)).ok());
  ASSERT_TRUE(forest.ScoreAndLeaves(x, absl::MakeSpan(scores), absl::MakeSpan(codes)).ok());
  EXPECT_EQ(0, std::memcmp(plain.data(), scores.data(), plain.size() * sizeof(float)));
  EXPECT_LT(*std::max_element(codes.begin(), codes.end()), forest.max_leaves());
  // A copy of a row lands in the same leaves; a row scored alone too.
  Matrix twice(2, 5);
  twice.row(0) = x.row(17);
  twice.row(1) = x.row(17);
  std::vector<float> s2(2);
  std::vector<LeafCode> c2(80);
  ASSERT_TRUE(forest.ScoreAndLeaves(twice, absl::MakeSpan(s2), absl::MakeSpan(c2)).ok());
  EXPECT_TRUE(std::equal(c2.begin(), c2.begin() + 40, codes.begin() + 17 * 40));
  EXPECT_TRUE(std::equal(c2.begin() + 40, c2.end(), codes.begin() + 17 * 40));
  // Rows in different leaves of some tree are different regions: the codes
  // tell more rows apart than any single tree does.
  int differing = 0;
  for (int t = 0; t < 40; ++t) differing += codes[t] != codes[40 + t];
  EXPECT_GT(differing, 0);
}

TEST(ForestLeaves, WrongSizesAreErrorsWithNanScoresAndZeroCodes) {
  const Matrix x = RandomMatrix(100, 3, 2);
  const IsolationForest forest = FittedForest(x, 10);
  std::vector<float> scores(100);
  std::vector<LeafCode> codes(100 * 10 - 1, 9);
  absl::Status status = forest.ScoreAndLeaves(x, absl::MakeSpan(scores), absl::MakeSpan(codes));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("room for 999 leaf codes, need 100 x 10"));
  EXPECT_TRUE(std::isnan(scores[0]));
  EXPECT_EQ(*std::max_element(codes.begin(), codes.end()), 0);
  // Trees of more than 256 leaves cannot be coded in a byte.
  const Matrix big = RandomMatrix(6000, 3, 3);
  const IsolationForest wide = FittedForest(big, 4, 4096);
  ASSERT_GT(wide.max_leaves(), 256);
  std::vector<float> s(6000);
  std::vector<LeafCode> c(6000 * 4);
  status = wide.ScoreAndLeaves(big, absl::MakeSpan(s), absl::MakeSpan(c));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("leaf codes hold 256"));
  EXPECT_TRUE(std::isnan(s[0]));
}

TEST(LeafWeights, FixedPointSumsAreExactAndClamped) {
  LeafWeights w(3);
  ASSERT_EQ(w.size(), 3 * LeafWeights::kLeavesPerTree);
  w.Set(5, 0.3);                          // tree 0, leaf 5
  w.Set(256 + 2, -1.25);                  // tree 1, leaf 2
  w.Set(512 + 255, 1e12);                 // tree 2, leaf 255: clamped
  EXPECT_NEAR(w.Get(5), 0.3, LeafWeights::kQuantum);
  EXPECT_EQ(w.Get(256 + 2), -1.25);       // a multiple of the quantum
  EXPECT_EQ(w.Get(512 + 255), w.max_weight());
  const std::vector<LeafCode> codes = {5, 2, 0,  /**/ 5, 2, 255, /**/ 0, 0, 0};
  float logits[3] = {1.0f, 0.0f, 0.0f};
  w.AddTo(codes, 3, logits);
  EXPECT_FLOAT_EQ(logits[0], 1.0f + static_cast<float>(w.Get(5) + w.Get(256 + 2)));
  EXPECT_FLOAT_EQ(logits[1],
                  static_cast<float>(w.Get(5) + w.Get(256 + 2) + w.max_weight()));
  EXPECT_EQ(logits[2], 0.0f);
  // Every tree at the clamp still sums without overflow.
  for (int t = 0; t < 3; ++t) w.Set(t * 256 + 7, 1e12);
  const std::vector<LeafCode> all7 = {7, 7, 7};
  float top = 0.0f;
  w.AddTo(all7, 1, &top);
  EXPECT_GT(top, 0.0f);
}

TEST(LeafWeights, SerialisationRoundTripsAndRejectsCorruptBytes) {
  LeafWeights w(4);
  w.Set(3, 0.5);
  w.Set(700, -2.0);
  ByteWriter out;
  w.Serialize(&out);
  ByteReader in(out.bytes());
  auto back = LeafWeights::Deserialize(&in);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(in.AtEnd());
  ASSERT_EQ(back->trees(), 4);
  for (int i = 0; i < w.size(); ++i) ASSERT_EQ(back->Get(i), w.Get(i)) << i;
  for (size_t cut = 1; cut < out.bytes().size(); cut += 3) {
    ByteReader part(absl::string_view(out.bytes()).substr(0, cut));
    EXPECT_EQ(LeafWeights::Deserialize(&part).status().code(), absl::StatusCode::kDataLoss)
        << cut;
  }
  std::string bad = out.bytes();
  bad[bad.size() - 8] = static_cast<char>(0xFF);  // the second leaf index, out of range
  bad[bad.size() - 7] = static_cast<char>(0xFF);
  ByteReader corrupt(bad);
  auto r = LeafWeights::Deserialize(&corrupt);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("bad entry"));
}

// A problem of m rows, k dense columns (bias last) and `trees` one-hot
// blocks of `leaves` leaves each.
SparseLogisticProblem RandomProblem(int m, int k, int trees, int leaves, uint64_t seed) {
  Rng rng(seed);
  SparseLogisticProblem p;
  p.x.resize(m, k);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j + 1 < k; ++j) p.x(i, j) = rng.Normal();
    p.x(i, k - 1) = 1.0;
  }
  p.trees = trees;
  p.leaf_count = trees * leaves;
  for (int i = 0; i < m; ++i) {
    for (int t = 0; t < trees; ++t) {
      p.slots.push_back(t * leaves + static_cast<int32_t>(rng.UniformInt(leaves)));
    }
  }
  p.c = Eigen::VectorXd::Constant(m, 1.0 / m);
  p.y.resize(m);
  for (int i = 0; i < m; ++i) p.y[i] = rng.Uniform() < 0.3 ? 1.0 : 0.0;
  p.lambda = Eigen::VectorXd::Constant(k, 0.1);
  p.lambda[k - 1] = 1e-3;
  p.theta0 = Eigen::VectorXd::Zero(k);
  p.theta0[0] = 1.0;
  p.mu = 0.011;
  return p;
}

TEST(SparseLogisticFit, ReachesAStationaryPoint) {
  const SparseLogisticProblem p = RandomProblem(60, 4, 5, 8, 11);
  Eigen::VectorXd theta = p.theta0, v = Eigen::VectorXd::Zero(p.leaf_count);
  const double start = SparseLogisticObjective(p, theta, v);
  const NewtonCgReport report = MinimiseSparseLogistic(p, {}, &theta, &v);
  EXPECT_LT(report.objective, start);
  EXPECT_NEAR(report.objective, SparseLogisticObjective(p, theta, v), 1e-12);
  EXPECT_GT(report.newton_steps, 0);
  // Central differences of f vanish at the optimum in every coordinate.
  const double h = 1e-5;
  for (int j = 0; j < theta.size() + v.size(); ++j) {
    Eigen::VectorXd tp = theta, tm = theta, vp = v, vm = v;
    if (j < theta.size()) {
      tp[j] += h;
      tm[j] -= h;
    } else {
      vp[j - theta.size()] += h;
      vm[j - theta.size()] -= h;
    }
    const double g =
        (SparseLogisticObjective(p, tp, vp) - SparseLogisticObjective(p, tm, vm)) / (2 * h);
    EXPECT_NEAR(g, 0.0, 2e-4) << "coordinate " << j;
  }
}

TEST(SparseLogisticFit, WithoutLeavesAgreesWithTheDenseNewtonRefit) {
  // The same problem through UaiLayer's dense path: the two solvers must
  // land on the same optimum.
  const SparseLogisticProblem p = RandomProblem(40, 4, 0, 1, 12);
  Eigen::VectorXd theta = p.theta0, v(0);
  MinimiseSparseLogistic(p, {}, &theta, &v);
  Vector w0 = p.theta0.head(3).cast<float>();
  UaiLayer layer(w0, 0.0f);
  const Matrix u = p.x.leftCols(3).cast<float>();
  std::vector<uint8_t> y(40);
  for (int i = 0; i < 40; ++i) y[i] = p.y[i] > 0.5;
  // RandomProblem's weights are uniform; with 30/70 classes the layer's
  // class-balanced weights differ, so refit the solver with those.
  SparseLogisticProblem balanced = p;
  balanced.c = ClassBalancedWeights(y).cast<double>();
  theta = p.theta0;
  MinimiseSparseLogistic(balanced, {}, &theta, &v);
  ASSERT_TRUE(layer.Fit(u, y, UaiFitOptions{}).ok());
  Eigen::VectorXd dense(4);
  dense << layer.w().cast<double>(), layer.b();
  EXPECT_NEAR(SparseLogisticObjective(balanced, dense, v),
              SparseLogisticObjective(balanced, theta, v), 1e-6);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(layer.w()[j], theta[j], 1e-2) << j;
  EXPECT_NEAR(layer.b(), theta[3], 1e-2);
}

TEST(UaiLayerLeaves, ALabelMovesItsRegionAndLeavesTheRestAlone) {
  const Matrix x = RandomMatrix(600, 3, 4);
  const IsolationForest forest = FittedForest(x, 30);
  std::vector<float> scores(600);
  std::vector<LeafCode> codes(600 * 30);
  ASSERT_TRUE(forest.ScoreAndLeaves(x, absl::MakeSpan(scores), absl::MakeSpan(codes)).ok());
  const Matrix u = Matrix::Map(scores.data(), 600, 1);
  Vector w0(1);
  w0 << 1.0f;
  UaiLayer layer(w0, 0.0f, LeafWeights(30));
  Vector before;
  layer.Logits(u, codes, &before);
  // Label row 0 anomalous and rows 1..9 nominal.
  std::vector<int> labelled = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  Matrix u_l(10, 1);
  std::vector<LeafCode> c_l;
  std::vector<uint8_t> y(10, 0);
  y[0] = 1;
  for (int i = 0; i < 10; ++i) {
    u_l(i, 0) = u(labelled[i], 0);
    c_l.insert(c_l.end(), codes.begin() + labelled[i] * 30, codes.begin() + labelled[i] * 30 + 30);
  }
  UaiFitOptions options;
  ASSERT_TRUE(layer.Fit(u_l, c_l, y, options).ok());
  EXPECT_THAT(layer.Fit(u_l, y, options).message(), HasSubstr("give their codes"));
  Vector after, dense;
  layer.Logits(u, codes, &after);
  layer.Logits(u, &dense);
  const Vector region = after - dense;
  EXPECT_GT(region[0], 0.5f) << "the labelled anomaly's leaves rise";
  for (int i = 1; i < 10; ++i) EXPECT_LT(region[i], 0.0f) << "labelled nominal " << i;
  // Rows sharing no leaf with a labelled row get no region logit; rows
  // sharing many leaves with the anomaly (and none with the nominals'
  // leaves) rise with it.
  std::vector<char> touched(30 * 256, 0);
  for (int i = 0; i < 10; ++i) {
    for (int t = 0; t < 30; ++t) touched[t * 256 + c_l[i * 30 + t]] = 1;
  }
  int untouched_rows = 0;
  for (int r = 10; r < 600; ++r) {
    bool any = false;
    for (int t = 0; t < 30; ++t) any = any || touched[t * 256 + codes[r * 30 + t]];
    if (!any) {
      ++untouched_rows;
      EXPECT_EQ(region[r], 0.0f) << r;
    }
  }
  EXPECT_GT(untouched_rows, 0);
  // Serialised and read back, the layer gives the same bits.
  ByteWriter out;
  layer.Serialize(&out);
  ByteReader in(out.bytes());
  auto back = UaiLayer::Deserialize(&in, /*with_leaves=*/true);
  ASSERT_TRUE(back.ok()) << back.status();
  Vector again;
  back->Logits(u, codes, &again);
  EXPECT_EQ(0, std::memcmp(after.data(), again.data(), sizeof(float) * after.size()));
}

ActiveConfig SmallConfig(bool leaves) {
  ActiveConfig c;
  c.pretrain_epochs = 5;
  c.hidden_units = 16;
  c.latent_units = 4;
  c.forest_trees = 25;
  c.uai_inputs.leaves = leaves;
  return c;
}

TEST(ActiveModelFormat, VersionOneModelsAreStillRead) {
  // A model without a region block, written as format 1 (before the leaf
  // inputs): the same bytes less the region flag, and version 1.
  const Dataset data = Clustered(2, 400, 4);
  auto learner = ActiveLearner::Create(SmallConfig(false));
  ASSERT_TRUE(learner.ok());
  ASSERT_TRUE((*learner)->Train(data.features, {}).ok());
  ASSERT_TRUE((*learner)->Update(data.features, {{0, true}, {1, false}}).ok());
  const std::shared_ptr<const ActiveModel>& model = (*learner)->model();
  std::string v1 = model->Serialize();
  const std::string tag = "aad_active_model";
  const size_t version_at = 8 + tag.size();  // after the length-prefixed tag
  ASSERT_EQ(v1[version_at], 2);
  v1[version_at] = 1;
  ASSERT_EQ(v1.substr(v1.size() - 4), std::string(4, '\0'));  // has_leaves = 0
  v1.resize(v1.size() - 4);
  auto old = ActiveModel::Deserialize(v1);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_FALSE((*old)->uai().has_leaves());
  ModelScores a, b;
  ASSERT_TRUE(model->Score(data.features, &a).ok());
  ASSERT_TRUE((*old)->Score(data.features, &b).ok());
  EXPECT_EQ(0, std::memcmp(a.logit.data(), b.logit.data(), sizeof(float) * a.logit.size()));
  EXPECT_EQ((*old)->Serialize(), model->Serialize());
}

TEST(ActiveModelFormat, RegionBlockTravelsWithTheModel) {
  const Dataset data = Clustered(3, 400, 4);
  auto learner = ActiveLearner::Create(SmallConfig(true));
  ASSERT_TRUE(learner.ok());
  ASSERT_TRUE((*learner)->Train(data.features, {}).ok());
  ASSERT_TRUE((*learner)->Update(data.features, {{0, true}, {5, false}, {9, true}}).ok());
  const auto& model = (*learner)->model();
  ASSERT_TRUE(model->uai().has_leaves());
  EXPECT_EQ(model->uai().leaf_trees(), 25);
  ModelScores direct;
  ASSERT_TRUE(model->Score(data.features, &direct).ok());
  // The pool cache and a fresh Score() give the same bits.
  EXPECT_EQ(0, std::memcmp(direct.logit.data(), (*learner)->pool_logits().data(),
                           sizeof(float) * direct.logit.size()));
  auto back = ActiveModel::Deserialize(model->Serialize());
  ASSERT_TRUE(back.ok()) << back.status();
  ModelScores again;
  ASSERT_TRUE((*back)->Score(data.features, &again).ok());
  EXPECT_EQ(0, std::memcmp(direct.logit.data(), again.logit.data(),
                           sizeof(float) * direct.logit.size()));
}

TEST(ActiveConfig, LeafInputsNeedTreesOfAtMost256Samples) {
  ActiveConfig c;
  c.forest_sample_size = 512;
  EXPECT_THAT(c.Validate().message(), HasSubstr("forest_sample_size must be <= 256"));
  EXPECT_THAT(c.Validate().message(), HasSubstr("512"));
  c.uai_inputs.leaves = false;
  EXPECT_TRUE(c.Validate().ok());
  c.uai_inputs.leaves = true;
  c.forest_sample_size = 256;
  c.leaf_input_scale = 0.0f;
  EXPECT_THAT(c.Validate().message(), HasSubstr("leaf_input_scale"));
}

// The paper's first setting: a tight cluster of anomalies between broad
// nominal clusters. The dense layer (the default before the leaf inputs:
// deep detector columns, forest score and row) finds it on some seeds and
// not on others; with the leaves every seed finds most of it. The bar: at
// least 3/4 of the budget on every seed.
TEST(LeafInputsLearning, ClusteredAnomaliesTheDenseLayerMisses) {
  const int64_t budget = 60;
  const int64_t bar = budget * 3 / 4;
  ActiveConfig dense;  // the layer as it was
  dense.uai_inputs.latent = dense.uai_inputs.evidence = dense.uai_inputs.score = true;
  dense.uai_inputs.leaves = false;
  int64_t dense_worst = budget, regions_worst = budget;
  for (uint64_t seed : {1, 2, 3}) {
    const Dataset data = Clustered(seed, 2000, 8);
    ActiveConfig regions;  // the shipped defaults
    regions.seed = dense.seed = seed;
    auto with = RunDiscoveryLoop(data, regions, {budget, 1, StrategyKind::kTop});
    auto without = RunDiscoveryLoop(data, dense, {budget, 1, StrategyKind::kTop});
    ASSERT_TRUE(with.ok() && without.ok());
    regions_worst = std::min(regions_worst, with->discovered);
    dense_worst = std::min(dense_worst, without->discovered);
    EXPECT_GE(with->discovered, bar) << "seed " << seed;
  }
  EXPECT_LT(dense_worst, bar) << "the dense layer no longer misses this cluster: make it harder";
  EXPECT_GE(regions_worst, bar);
}

// The classic unsupervised setting: scattered anomalies that the forest
// already ranks first. Neither layer fails here; the leaves must not cost
// anything.
TEST(LeafInputsLearning, LowDensityAnomaliesStayFound) {
  const int64_t budget = 60;
  for (uint64_t seed : {1, 2, 3}) {
    SyntheticOptions o;
    o.rows = 2000;
    o.dims = 8;
    o.seed = seed;
    auto data = MakeLowDensityAnomalies(o);
    ASSERT_TRUE(data.ok());
    ActiveConfig config;
    config.seed = seed;
    auto loop = RunDiscoveryLoop(*data, config, {budget, 1, StrategyKind::kTop});
    ASSERT_TRUE(loop.ok());
    EXPECT_GE(loop->discovered, loop->baseline_discovered) << "seed " << seed;
    EXPECT_GE(loop->discovered, budget * 9 / 10) << "seed " << seed;
  }
}

}  // namespace
}  // namespace aad
