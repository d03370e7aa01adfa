// Gradient checks for every layer and loss, and Adam on a known quadratic.
#include <cmath>

#include "core/nn/activation.h"
#include "core/nn/adam.h"
#include "core/nn/dense_layer.h"
#include "core/nn/loss.h"
#include "core/nn/mlp.h"
#include "gradient_check.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

Matrix RandomMatrix(int rows, int cols, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = scale * static_cast<float>(rng.Normal());
  return m;
}

// Loss = sum(G .* f(x)) for a fixed random G, so dL/dy = G.
class DenseLayerGradient : public ::testing::TestWithParam<Activation> {};

TEST_P(DenseLayerGradient, MatchesFiniteDifferences) {
  Rng rng(7);
  DenseLayer layer(5, 4, GetParam(), /*bias=*/true);
  layer.Initialize(&rng);
  const Matrix x = RandomMatrix(6, 5, 1);
  const Matrix g = RandomMatrix(6, 4, 2);
  Matrix y, dy, dx;
  layer.Forward(x, &y);
  dy = g;
  layer.ZeroGrad();
  layer.Backward(x, y, &dy, &dx);
  std::vector<Parameter> params;
  layer.CollectParameters(&params);
  auto loss = [&] {
    Matrix out;
    layer.Forward(x, &out);
    return static_cast<double>((out.cast<double>().array() * g.cast<double>().array()).sum());
  };
  testing::ExpectGradientsMatch(params, loss);

  // Input gradient: perturb x through a Parameter view of a copy.
  Matrix xv = x;
  auto loss_x = [&] {
    Matrix out;
    layer.Forward(xv, &out);
    return static_cast<double>((out.cast<double>().array() * g.cast<double>().array()).sum());
  };
  testing::ExpectGradientsMatch({{xv.data(), dx.data(), static_cast<size_t>(xv.size())}}, loss_x);
}

INSTANTIATE_TEST_SUITE_P(AllActivations, DenseLayerGradient,
                         ::testing::Values(Activation::kIdentity, Activation::kRelu,
                                           Activation::kLeakyRelu, Activation::kTanh,
                                           Activation::kSigmoid),
                         [](const auto& info) { return std::string(ActivationName(info.param)); });

TEST(MlpGradient, ThreeLayersWithoutBias) {
  Rng rng(3);
  Mlp mlp(4, {{8, Activation::kTanh}, {6, Activation::kLeakyRelu}, {3, Activation::kIdentity}},
          /*bias=*/false);
  mlp.Initialize(&rng);
  const Matrix x = RandomMatrix(5, 4, 11);
  const Matrix g = RandomMatrix(5, 3, 12);
  mlp.ZeroGrad();
  mlp.Forward(x);
  Matrix dout = g, dx;
  mlp.Backward(&dout, &dx);
  std::vector<Parameter> params;
  mlp.CollectParameters(&params);
  ASSERT_EQ(params.size(), 3u);  // no bias tensors
  std::vector<Matrix> scratch;
  auto loss = [&] {
    Matrix out;
    mlp.Infer(x, &scratch, &out);
    return static_cast<double>((out.cast<double>().array() * g.cast<double>().array()).sum());
  };
  testing::ExpectGradientsMatch(params, loss);
}

TEST(MeanSquaredError, ValueAndGradient) {
  Matrix pred(2, 2), target(2, 2), grad;
  pred << 1, 2, 3, 4;
  target << 1, 0, 0, 4;
  EXPECT_FLOAT_EQ(MeanSquaredError(pred, target, &grad), (4.0f + 9.0f) / 4.0f);
  Matrix expected(2, 2);
  expected << 0, 1, 1.5, 0;  // 2 (pred - target) / 4
  EXPECT_TRUE(grad.isApprox(expected));
  Matrix p = pred;
  auto loss = [&] { return static_cast<double>(MeanSquaredError(p, target, nullptr)); };
  testing::ExpectGradientsMatch({{p.data(), grad.data(), 4}}, loss);
}

TEST(WeightedBce, MatchesClosedFormAndFiniteDifferences) {
  Vector a(4), y(4), w(4), grad;
  a << -2.0f, 0.0f, 1.5f, 30.0f;
  y << 0, 1, 1, 0;
  w << 0.5f, 1.0f, 2.0f, 0.25f;
  const float loss = WeightedBceWithLogits(a, y, w, &grad);
  double expected = 0;
  for (int i = 0; i < 4; ++i) {
    const double p = 1 / (1 + std::exp(-static_cast<double>(a[i])));
    expected += -w[i] * (y[i] * std::log(p) + (1 - y[i]) * std::log1p(-p));
  }
  EXPECT_NEAR(loss, expected, 1e-4 * expected);
  EXPECT_TRUE(std::isfinite(loss)) << "a large logit must not overflow";
  auto f = [&] { return static_cast<double>(WeightedBceWithLogits(a, y, w, nullptr)); };
  testing::ExpectGradientsMatch({{a.data(), grad.data(), 4}}, f, 40, 1e-2, 2e-2, 1e-3);
}

TEST(Adam, ConvergesOnAQuadratic) {
  // f(w) = 0.5 * sum_i c_i (w_i - t_i)^2, minimum at t.
  std::vector<float> w = {5.0f, -3.0f, 0.5f}, grad(3);
  const std::vector<float> t = {1.0f, 2.0f, -1.0f}, c = {1.0f, 10.0f, 0.1f};
  Adam adam({{w.data(), grad.data(), 3}}, AdamOptions{0.05f});
  for (int step = 0; step < 3000; ++step) {
    for (int i = 0; i < 3; ++i) grad[i] = c[i] * (w[i] - t[i]);
    adam.Step();
  }
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(w[i], t[i], 1e-2) << "coordinate " << i;
  EXPECT_EQ(adam.steps(), 3000);
}

TEST(Adam, FirstStepHasLearningRateSize) {
  // Bias correction makes the first step lr * sign(g), whatever |g|.
  std::vector<float> w = {0.0f, 0.0f}, grad = {1000.0f, -0.001f};
  Adam adam({{w.data(), grad.data(), 2}}, AdamOptions{0.1f});
  adam.Step();
  EXPECT_NEAR(w[0], -0.1f, 1e-4);
  EXPECT_NEAR(w[1], 0.1f, 1e-3);
}

TEST(Adam, DecoupledWeightDecayShrinksWithoutGradient) {
  std::vector<float> w = {2.0f}, grad = {0.0f};
  Adam adam({{w.data(), grad.data(), 1}}, AdamOptions{0.1f, 0.9f, 0.999f, 1e-8f, 0.5f});
  adam.Step();
  EXPECT_NEAR(w[0], 2.0f * (1 - 0.1f * 0.5f), 1e-6);
}

TEST(Activation, ParseRejectsUnknownNameAndNamesIt) {
  EXPECT_TRUE(ParseActivation("tanh").ok());
  auto bad = ParseActivation("swish");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("swish"), absl::string_view::npos);
}

TEST(DenseLayer, SerialisationRoundTripIsBitExact) {
  Rng rng(5);
  DenseLayer layer(3, 2, Activation::kTanh, true);
  layer.Initialize(&rng);
  ByteWriter w;
  layer.Serialize(&w);
  ByteReader r(w.bytes());
  auto back = DenseLayer::Deserialize(&r);
  ASSERT_TRUE(back.ok()) << back.status();
  const Matrix x = RandomMatrix(4, 3, 9);
  Matrix y1, y2;
  layer.Forward(x, &y1);
  back->Forward(x, &y2);
  EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), sizeof(float) * y1.size()));
}

}  // namespace
}  // namespace aad
