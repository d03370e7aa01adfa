// The fused dense kernel and the evidence sum against plain scalar loops
// written from their documented order, bit for bit; the autoencoder's tiled
// inference against its training forward pass.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "core/detectors/autoencoder.h"
#include "core/nn/dense_kernel.h"
#include "core/nn/squared_error.h"
#include "core/util/random.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

constexpr float kSentinel = -12345.0f;

std::vector<float> RandomValues(size_t n, uint64_t seed, float scale) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& f : v) f = scale * static_cast<float>(rng.Normal());
  return v;
}

uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof(b));
  return b;
}

// dense_kernel.h's definition, one output at a time.
float Reference(const float* x, const float* w, int in, int out, int o, const float* bias,
                Activation a) {
  float acc = bias != nullptr ? bias[o] : 0.0f;
  for (int k = 0; k < in; ++k) acc = std::fma(x[k], w[static_cast<long>(k) * out + o], acc);
  switch (a) {
    case Activation::kRelu: return acc > 0.0f ? acc : 0.0f;
    case Activation::kLeakyRelu: return acc > 0.0f ? acc : kLeakySlope * acc;
    case Activation::kTanh: return KernelTanh(acc);
    case Activation::kIdentity:
    case Activation::kSigmoid: return acc;
  }
  return acc;
}

struct Shape {
  int in, out;
};

class DenseKernelBits : public ::testing::TestWithParam<Activation> {};

TEST_P(DenseKernelBits, EveryOutputIsTheDocumentedFmaChain) {
  const Activation a = GetParam();
  const std::vector<Shape> shapes = {{1, 1},   {9, 32},  {32, 8},   {8, 32},  {32, 9},
                                     {64, 128}, {128, 32}, {32, 128}, {128, 64}, {5, 17},
                                     {130, 65}, {3, 200},  {16, 16},  {7, 15},   {33, 48}};
  uint64_t seed = 1;
  for (const Shape& s : shapes) {
    for (long rows : {1L, 5L, 16L, 37L, 130L}) {
      for (bool with_bias : {true, false}) {
        const long xs = s.in + 3, ys = s.out + 5;
        const std::vector<float> x = RandomValues(rows * xs, seed++, 1.5f);
        const std::vector<float> w = RandomValues(static_cast<size_t>(s.in) * s.out, seed++, 0.4f);
        const std::vector<float> b = RandomValues(s.out, seed++, 0.5f);
        std::vector<float> y(rows * ys, kSentinel);
        const float* bias = with_bias ? b.data() : nullptr;
        DenseForwardKernel(x.data(), rows, xs, w.data(), s.in, s.out, bias, a, y.data(), ys);
        for (long r = 0; r < rows; ++r) {
          for (int o = 0; o < ys; ++o) {
            const float got = y[r * ys + o];
            if (o >= s.out) {
              ASSERT_EQ(got, kSentinel) << "wrote past the row: " << s.in << "x" << s.out;
              continue;
            }
            float want = Reference(&x[r * xs], w.data(), s.in, s.out, o, bias, a);
            if (a == Activation::kSigmoid) {
              // Applied by ApplyActivation after the store: close, not the same expression.
              want = 1.0f / (1.0f + std::exp(-want));
              ASSERT_NEAR(got, want, 1e-6f);
              continue;
            }
            ASSERT_EQ(Bits(got), Bits(want))
                << s.in << "x" << s.out << " rows " << rows << " r " << r << " o " << o
                << ": " << got << " vs " << want;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Activations, DenseKernelBits,
                         ::testing::Values(Activation::kIdentity, Activation::kRelu,
                                           Activation::kLeakyRelu, Activation::kTanh,
                                           Activation::kSigmoid));

TEST(DenseKernel, RowsDoNotDependOnTheirBlock) {
  const int in = 32, out = 9;
  const long rows = 77;
  const std::vector<float> x = RandomValues(rows * in, 3, 1.0f);
  const std::vector<float> w = RandomValues(in * out, 4, 0.3f);
  const std::vector<float> b = RandomValues(out, 5, 0.3f);
  std::vector<float> whole(rows * out), one(out);
  DenseForwardKernel(x.data(), rows, in, w.data(), in, out, b.data(), Activation::kTanh,
                     whole.data(), out);
  for (long r = 0; r < rows; ++r) {
    DenseForwardKernel(&x[r * in], 1, in, w.data(), in, out, b.data(), Activation::kTanh,
                       one.data(), out);
    ASSERT_EQ(0, std::memcmp(one.data(), &whole[r * out], out * sizeof(float))) << "row " << r;
  }
}

TEST(DenseKernel, TanhIsCloseToStdTanhAndKeepsNaN) {
  float worst = 0.0f;
  for (float v = -10.0f; v <= 10.0f; v += 0.001f) {
    worst = std::max(worst, std::fabs(KernelTanh(v) - std::tanh(v)));
  }
  EXPECT_LT(worst, 2e-6f);
  EXPECT_EQ(KernelTanh(1e-5f), 1e-5f);  // below the tiny bound: the input itself
  EXPECT_NEAR(KernelTanh(std::numeric_limits<float>::infinity()), 1.0f, 1e-6f);
  EXPECT_NEAR(KernelTanh(-std::numeric_limits<float>::infinity()), -1.0f, 1e-6f);
  EXPECT_TRUE(std::isnan(KernelTanh(std::numeric_limits<float>::quiet_NaN())));
}

TEST(SquaredErrorRows, SumsInTheDocumentedOrder) {
  for (int d : {1, 6, 9, 15, 16, 17, 32, 33, 64, 100}) {
    const long rows = 11, stride = d + 2;
    const std::vector<float> diff = RandomValues(rows * stride, 10 + d, 2.0f);
    std::vector<float> e(rows * stride, kSentinel), s(rows);
    SquaredErrorRows(diff.data(), rows, d, stride, e.data(), stride, s.data());
    for (long i = 0; i < rows; ++i) {
      float p[16] = {};
      for (int j = 0; j < d; ++j) {
        const float sq = diff[i * stride + j] * diff[i * stride + j];
        ASSERT_EQ(Bits(e[i * stride + j]), Bits(sq));
        p[j % 16] += sq;
      }
      for (int j = d; j < stride; ++j) ASSERT_EQ(e[i * stride + j], kSentinel);
      for (int half = 8; half >= 1; half /= 2) {
        for (int l = 0; l < half; ++l) p[l] = p[l] + p[l + half];
      }
      ASSERT_EQ(Bits(s[i]), Bits(p[0] / static_cast<float>(d))) << "d " << d << " row " << i;
    }
    // recon - x, subtracted inside: the same bits as subtracting first.
    const std::vector<float> x = RandomValues(rows * stride, 20 + d, 1.0f);
    std::vector<float> recon(rows * stride), e2(rows * stride, kSentinel), s2(rows);
    for (size_t k = 0; k < recon.size(); ++k) recon[k] = diff[k] + x[k];
    std::vector<float> sub(rows * stride);
    for (size_t k = 0; k < sub.size(); ++k) sub[k] = recon[k] - x[k];
    SquaredErrorRows(sub.data(), rows, d, stride, e.data(), stride, s.data());
    SquaredErrorRows(recon.data(), stride, x.data(), stride, rows, d, e2.data(), stride, s2.data());
    ASSERT_EQ(0, std::memcmp(e.data(), e2.data(), e.size() * sizeof(float))) << "d " << d;
    ASSERT_EQ(0, std::memcmp(s.data(), s2.data(), s.size() * sizeof(float))) << "d " << d;
  }
}

// Tiled inference (Infer) and the training pass (Forward) give the same bits
// for every row, at a row count that is not a multiple of the tile, and a
// row's outputs do not depend on the rows scored with it.
TEST(AutoencoderInfer, SameBitsAsForwardAndAsASubBlock) {
  for (Activation a : {Activation::kTanh, Activation::kRelu}) {
    Autoencoder ae(13, AutoencoderOptions{24, 5, a});
    Rng rng(9);
    const long rows = 301;
    Matrix x(rows, 13);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.Normal());
    ae.Initialize(x, &rng);
    InferScratch scratch;
    DetectorOutput inferred;
    ae.Infer(x, &scratch, &inferred);
    const DetectorOutput& trained = ae.Forward(x);
    ASSERT_EQ(0, std::memcmp(inferred.z.data(), trained.z.data(), trained.z.size() * 4));
    ASSERT_EQ(0, std::memcmp(inferred.e.data(), trained.e.data(), trained.e.size() * 4));
    ASSERT_EQ(0, std::memcmp(inferred.s.data(), trained.s.data(), trained.s.size() * 4));
    DetectorOutput part;
    ae.Infer(x.middleRows(130, 41), &scratch, &part);
    ASSERT_EQ(0, std::memcmp(part.e.data(), inferred.e.row(130).data(), part.e.size() * 4));
    ASSERT_EQ(0, std::memcmp(part.s.data(), inferred.s.data() + 130, part.s.size() * 4));
  }
}

}  // namespace
}  // namespace aad
