// Gradient checks for both deep detectors, their contracts, and their
// serialisation.
#include <cstring>
#include <memory>

#include "core/detectors/autoencoder.h"
#include "core/detectors/deep_svdd.h"
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

std::unique_ptr<DeepDetector> Make(DetectorKind kind, int dims) {
  if (kind == DetectorKind::kAutoencoder) {
    return std::make_unique<Autoencoder>(dims, AutoencoderOptions{7, 3, Activation::kTanh});
  }
  return std::make_unique<DeepSvdd>(dims, DeepSvddOptions{7, 3, Activation::kLeakyRelu});
}

class DetectorTest : public ::testing::TestWithParam<DetectorKind> {};

// L = sum Gz.z + sum Ge.e + sum gs.s for random G: checks every path of
// Backward(), including the one the UAI layer uses.
TEST_P(DetectorTest, GradientsMatchFiniteDifferences) {
  const int dims = 5, rows = 6;
  auto det = Make(GetParam(), dims);
  const Matrix x = RandomMatrix(rows, dims, 1);
  Rng rng(2);
  det->Initialize(x, &rng);
  const Matrix gz = RandomMatrix(rows, det->latent_dim(), 3);
  const Matrix ge = RandomMatrix(rows, det->evidence_dim(), 4);
  Vector gs(rows);
  for (int i = 0; i < rows; ++i) gs[i] = static_cast<float>(rng.Normal());

  det->ZeroGrad();
  det->Forward(x);
  det->Backward(&gz, &ge, gs);
  InferScratch scratch;
  auto loss = [&] {
    DetectorOutput out;
    det->Infer(x, &scratch, &out);
    return (out.z.cast<double>().array() * gz.cast<double>().array()).sum() +
           (out.e.cast<double>().array() * ge.cast<double>().array()).sum() +
           (out.s.cast<double>().array() * gs.cast<double>().array()).sum();
  };
  testing::ExpectGradientsMatch(det->Parameters(), loss);
}

TEST_P(DetectorTest, UnsupervisedLossGradientAlone) {
  // With dz = de = 0 and ds = 1/n the gradient is that of L_D = mean s.
  const int dims = 4, rows = 8;
  auto det = Make(GetParam(), dims);
  const Matrix x = RandomMatrix(rows, dims, 5);
  Rng rng(6);
  det->Initialize(x, &rng);
  det->ZeroGrad();
  det->Forward(x);
  det->Backward(nullptr, nullptr, Vector::Constant(rows, 1.0f / rows));
  InferScratch scratch;
  auto loss = [&] {
    DetectorOutput out;
    det->Infer(x, &scratch, &out);
    return static_cast<double>(out.s.cast<double>().mean());
  };
  testing::ExpectGradientsMatch(det->Parameters(), loss);
}

TEST_P(DetectorTest, ForwardAgreesWithInferAndScoreIsEvidenceAggregate) {
  const int dims = 5;
  auto det = Make(GetParam(), dims);
  const Matrix x = RandomMatrix(9, dims, 7);
  Rng rng(8);
  det->Initialize(x, &rng);
  const DetectorOutput train = det->Forward(x);
  InferScratch scratch;
  DetectorOutput infer;
  det->Infer(x, &scratch, &infer);
  EXPECT_TRUE(train.z.isApprox(infer.z));
  EXPECT_TRUE(train.s.isApprox(infer.s));
  const Vector aggregate = GetParam() == DetectorKind::kAutoencoder
                               ? Vector(infer.e.rowwise().mean())
                               : Vector(infer.e.rowwise().sum());
  EXPECT_TRUE(aggregate.isApprox(infer.s));
  EXPECT_EQ(infer.e.cols(), det->evidence_dim());
  EXPECT_EQ(infer.z.cols(), det->latent_dim());
}

TEST_P(DetectorTest, SerialisationRoundTripIsBitExact) {
  auto det = Make(GetParam(), 6);
  const Matrix x = RandomMatrix(10, 6, 9);
  Rng rng(10);
  det->Initialize(x, &rng);
  ByteWriter w;
  det->Serialize(&w);
  ByteReader r(w.bytes());
  auto back = DeserializeDetector(&r);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(r.AtEnd());
  InferScratch s1, s2;
  DetectorOutput a, b;
  det->Infer(x, &s1, &a);
  (*back)->Infer(x, &s2, &b);
  ASSERT_EQ(a.s.size(), b.s.size());
  EXPECT_EQ(0, std::memcmp(a.s.data(), b.s.data(), sizeof(float) * a.s.size()));
  EXPECT_EQ(0, std::memcmp(a.z.data(), b.z.data(), sizeof(float) * a.z.size()));
}

TEST_P(DetectorTest, TruncatedBytesAreDataLoss) {
  auto det = Make(GetParam(), 4);
  Rng rng(11);
  det->Initialize(RandomMatrix(5, 4, 12), &rng);
  ByteWriter w;
  det->Serialize(&w);
  const std::string bytes = w.bytes();
  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    ByteReader r(absl::string_view(bytes).substr(0, cut));
    auto back = DeserializeDetector(&r);
    EXPECT_FALSE(back.ok()) << "cut at " << cut;
    if (!back.ok()) {
      EXPECT_EQ(back.status().code(), absl::StatusCode::kDataLoss) << back.status();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(BothDetectors, DetectorTest,
                         ::testing::Values(DetectorKind::kAutoencoder, DetectorKind::kDeepSvdd),
                         [](const auto& info) { return std::string(DetectorKindName(info.param)); });

TEST(DeepSvdd, CentreStaysAwayFromZero) {
  DeepSvdd svdd(3, DeepSvddOptions{4, 5, Activation::kLeakyRelu});
  Rng rng(13);
  svdd.Initialize(Matrix::Zero(10, 3), &rng);  // phi(0) = 0 without biases
  for (Eigen::Index j = 0; j < svdd.centre().size(); ++j) {
    EXPECT_GE(std::abs(svdd.centre()[j]), 0.1f) << "entry " << j;
  }
}

TEST(DetectorKind, ParseNamesTheUnknownValue) {
  EXPECT_EQ(*ParseDetectorKind("deep_svdd"), DetectorKind::kDeepSvdd);
  auto bad = ParseDetectorKind("vae");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'vae'"), absl::string_view::npos);
}

}  // namespace
}  // namespace aad
