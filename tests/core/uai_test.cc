// The UAI layer: its objective's gradient, the convex refit, the prior, and
// the chain rule through its inputs back into a detector.
#include <cstring>

#include "core/active/uai_inputs.h"
#include "core/active/uai_layer.h"
#include "core/detectors/autoencoder.h"
#include "core/detectors/deep_svdd.h"
#include "core/nn/loss.h"
#include "gradient_check.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

Matrix RandomMatrix(int rows, int cols, uint64_t seed) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.Normal());
  return m;
}

TEST(UaiLayer, ObjectiveGradientMatchesFiniteDifferences) {
  const Matrix u = RandomMatrix(12, 4, 1);
  const std::vector<uint8_t> y = {1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
  Vector w0(4);
  w0 << 1, 0, -0.5f, 0;
  UaiLayer layer(w0, 0.3f);
  Vector w(4);
  w << 0.2f, -0.4f, 0.9f, 0.1f;
  layer.set_weights(w, -0.7f);
  Vector grad;
  layer.Objective(u, y, 0.1f, 0.001f, &grad);
  // Perturb a copy of (w, b) through a Parameter view.
  Vector theta(5);
  theta << w, -0.7f;
  Vector analytic = grad;
  auto loss = [&] {
    UaiLayer probe(w0, 0.3f);
    probe.set_weights(theta.head(4), theta[4]);
    return probe.Objective(u, y, 0.1f, 0.001f, nullptr);
  };
  testing::ExpectGradientsMatch({{theta.data(), analytic.data(), 5}}, loss);
}

TEST(UaiLayer, FitReachesAStationaryPoint) {
  const Matrix u = RandomMatrix(40, 3, 2);
  std::vector<uint8_t> y(40);
  for (int i = 0; i < 40; ++i) y[i] = u(i, 0) + 0.5f * u(i, 1) > 0.8f;
  UaiLayer layer(Vector::Zero(3), 0.0f);
  UaiFitOptions options;
  ASSERT_TRUE(layer.Fit(u, y, options).ok());
  Vector grad;
  layer.Objective(u, y, options.prior_strength, options.bias_prior_strength, &grad);
  EXPECT_LT(grad.norm(), 1e-3) << "gradient at the fitted weights: " << grad.transpose();
  // The fitted direction follows the rule that made the labels.
  EXPECT_GT(layer.w()[0], 0.0f);
  EXPECT_GT(layer.w()[1], 0.0f);
}

TEST(UaiLayer, NoLabelsKeepsThePrior) {
  Vector w0(2);
  w0 << 1.0f, 1.0f;
  UaiLayer layer(w0, -2.0f);
  ASSERT_TRUE(layer.Fit(Matrix(0, 2), {}, UaiFitOptions{}).ok());
  EXPECT_EQ(layer.w(), w0);
  EXPECT_EQ(layer.b(), -2.0f);
}

TEST(UaiLayer, OneClassFeedbackMovesTheBiasNotTheScoreDirection) {
  // Only nominal labels, on rows the prior scored high: the free bias takes
  // the shift, and the weight on the score column stays near its prior.
  Matrix u(5, 2);
  u << 2.0f, 0.1f, 1.8f, -0.3f, 2.2f, 0.4f, 1.9f, 0.0f, 2.1f, -0.2f;
  Vector w0(2);
  w0 << 1.0f, 0.0f;
  UaiLayer layer(w0, 0.0f);
  ASSERT_TRUE(layer.Fit(u, std::vector<uint8_t>(5, 0), UaiFitOptions{}).ok());
  EXPECT_LT(layer.b(), -2.0f);
  EXPECT_GT(layer.w()[0], 0.5f);
}

TEST(UaiLayer, RejectsMismatchedShapesNamingThem) {
  UaiLayer layer(Vector::Zero(3), 0.0f);
  auto s = layer.Fit(Matrix::Zero(4, 2), std::vector<uint8_t>(4, 0), UaiFitOptions{});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("3 inputs"), absl::string_view::npos) << s.message();
  s = layer.Fit(Matrix::Zero(4, 3), std::vector<uint8_t>(3, 0), UaiFitOptions{});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("3 labels"), absl::string_view::npos) << s.message();
}

TEST(UaiLayer, ClassBalancedWeightsGiveEachClassHalf) {
  const Vector w = ClassBalancedWeights(std::vector<uint8_t>{1, 0, 0, 0});
  EXPECT_FLOAT_EQ(w[0], 0.5f);
  EXPECT_FLOAT_EQ(w[1] + w[2] + w[3], 0.5f);
  const Vector one = ClassBalancedWeights(std::vector<uint8_t>{0, 0});
  EXPECT_FLOAT_EQ(one.sum(), 1.0f);
}

TEST(UaiLayer, SerialisationRoundTrip) {
  Vector w0(3);
  w0 << 1, 2, 3;
  UaiLayer layer(w0, 0.5f);
  Vector w(3);
  w << -1, 0.25f, 7;
  layer.set_weights(w, 1.5f);
  ByteWriter out;
  layer.Serialize(&out);
  ByteReader in(out.bytes());
  auto back = UaiLayer::Deserialize(&in, /*with_leaves=*/true);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->w(), layer.w());
  EXPECT_EQ(back->w0(), layer.w0());
  EXPECT_EQ(back->b(), layer.b());
  EXPECT_EQ(back->b0(), layer.b0());
}

TEST(UaiInputs, ImplausibleWidthsInStoredBytesAreDataLoss) {
  // Found by fuzz/model_fuzz: widths near 2^31 overflowed the column layout.
  ByteWriter out;
  out.WriteString("uai_inputs");
  out.WriteU32(1u | 16u);  // latent and raw input
  out.WriteF32(1e-6f);
  out.WriteU32(2147483000u);  // input_dim
  out.WriteU32(2147483000u);  // latent_dim
  out.WriteU32(3u);
  ByteReader in(out.bytes());
  auto r = UaiInputs::Deserialize(&in);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("implausible widths"), std::string::npos) << r.status();
}

// End to end: BCE of the UAI layer over u(x) built from a detector's outputs,
// differentiated into the detector's weights (the joint-training path).
class UaiChainTest : public ::testing::TestWithParam<DetectorKind> {};

TEST_P(UaiChainTest, CrossEntropyGradientFlowsIntoTheDetector) {
  const int dims = 4, rows = 10;
  std::unique_ptr<DeepDetector> det;
  if (GetParam() == DetectorKind::kAutoencoder) {
    det = std::make_unique<Autoencoder>(dims, AutoencoderOptions{6, 3, Activation::kTanh});
  } else {
    det = std::make_unique<DeepSvdd>(dims, DeepSvddOptions{6, 3, Activation::kLeakyRelu});
  }
  const Matrix x = RandomMatrix(rows, dims, 3);
  Rng rng(4);
  det->Initialize(x, &rng);
  std::vector<float> forest(rows);
  for (int i = 0; i < rows; ++i) forest[i] = 0.4f + 0.01f * i;
  // A larger log epsilon keeps log(e + eps) smooth enough for float finite
  // differences; the chain rule under test is the same.
  UaiInputOptions options;
  options.log_epsilon = 0.05f;
  UaiInputs inputs(options, dims, det->latent_dim(), det->evidence_dim());
  {
    InferScratch scratch;
    DetectorOutput out;
    det->Infer(x, &scratch, &out);
    Matrix raw;
    inputs.BuildRaw(x, out, forest.data(), &raw);
    inputs.FitStatistics(raw);
  }
  Rng wrng(5);
  Vector w(inputs.width());
  for (Eigen::Index j = 0; j < w.size(); ++j) w[j] = static_cast<float>(wrng.Normal());
  UaiLayer uai(w, 0.1f);
  Vector y(rows), c(rows);
  for (int i = 0; i < rows; ++i) {
    y[i] = i % 3 == 0;
    c[i] = 1.0f / rows;
  }

  det->ZeroGrad();
  const DetectorOutput& out = det->Forward(x);
  Matrix u, du, dz, de;
  Vector logits, da, ds;
  inputs.Build(x, out, forest.data(), &u);
  uai.Logits(u, &logits);
  WeightedBceWithLogits(logits, y, c, &da);
  uai.BackwardInput(da, &du);
  inputs.Backward(du, out, &dz, &de, &ds);
  det->Backward(&dz, &de, ds);

  InferScratch scratch;
  auto loss = [&] {
    DetectorOutput o;
    det->Infer(x, &scratch, &o);
    Matrix uu;
    inputs.Build(x, o, forest.data(), &uu);
    Vector a;
    uai.Logits(uu, &a);
    return static_cast<double>(WeightedBceWithLogits(a, y, c, nullptr));
  };
  testing::ExpectGradientsMatch(det->Parameters(), loss, 40, 1e-3, 3e-2, 1e-2);
}

INSTANTIATE_TEST_SUITE_P(BothDetectors, UaiChainTest,
                         ::testing::Values(DetectorKind::kAutoencoder, DetectorKind::kDeepSvdd),
                         [](const auto& info) { return std::string(DetectorKindName(info.param)); });

}  // namespace
}  // namespace aad
