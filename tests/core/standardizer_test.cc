#include "core/data/standardizer.h"

#include <cmath>
#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/util/random.h"

namespace aad {
namespace {

// Columns with very different offsets and spreads, including one whose mean
// dwarfs its spread (where a one-pass variance would cancel).
Matrix MakeData(int64_t rows, uint64_t seed) {
  Rng rng(seed);
  Matrix x(rows, 4);
  for (int64_t r = 0; r < rows; ++r) {
    x(r, 0) = static_cast<float>(rng.Normal(5.0, 2.0));
    x(r, 1) = static_cast<float>(rng.Uniform(-100.0, 300.0));
    x(r, 2) = static_cast<float>(rng.Normal(1.0e4, 0.5));
    x(r, 3) = static_cast<float>(rng.Normal(-1.0e-3, 1.0e-4));
  }
  return x;
}

bool BitIdentical(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

TEST(StandardizerTest, TransformGivesMeanZeroAndStddevOne) {
  const Matrix x = MakeData(5000, 1);
  Standardizer s;
  s.Fit(x);
  EXPECT_EQ(s.dims(), 4);
  Matrix z;
  s.Transform(x, &z);
  ASSERT_EQ(z.rows(), x.rows());
  ASSERT_EQ(z.cols(), x.cols());
  for (int c = 0; c < z.cols(); ++c) {
    double sum = 0.0, squares = 0.0;
    for (int64_t r = 0; r < z.rows(); ++r) sum += z(r, c);
    const double mean = sum / z.rows();
    for (int64_t r = 0; r < z.rows(); ++r) squares += (z(r, c) - mean) * (z(r, c) - mean);
    const double stddev = std::sqrt(squares / z.rows());
    // Column 2 (mean 1e4, spread 0.5): the float32 mean is within half a
    // unit in the last place (~5e-4) of the true one, 1e-3 spreads.
    EXPECT_NEAR(mean, 0.0, c == 2 ? 2e-3 : 1e-5) << "column " << c;
    EXPECT_NEAR(stddev, 1.0, 1e-4) << "column " << c;
  }
}

TEST(StandardizerTest, ConstantColumnMapsToZero) {
  Matrix x(100, 3);
  Rng rng(2);
  for (int64_t r = 0; r < x.rows(); ++r) {
    x(r, 0) = 7.25f;
    x(r, 1) = static_cast<float>(rng.Normal());
    x(r, 2) = 1.0e6f + 0.1f;  // constant, large and not exactly representable
  }
  Standardizer s;
  s.Fit(x);
  EXPECT_EQ(s.scale()[0], 1.0f);
  EXPECT_EQ(s.scale()[2], 1.0f);
  Matrix z;
  s.Transform(x, &z);
  EXPECT_FALSE(z.array().isNaN().any());
  EXPECT_TRUE((z.col(0).array() == 0.0f).all());
  EXPECT_TRUE((z.col(2).array() == 0.0f).all());
}

TEST(StandardizerTest, SingleRowAndEmptyInputDoNotDivideByZero) {
  Matrix one(1, 2);
  one << 3.0f, -4.0f;
  Standardizer s;
  s.Fit(one);
  Matrix z;
  s.Transform(one, &z);
  EXPECT_EQ(z(0, 0), 0.0f);
  EXPECT_EQ(z(0, 1), 0.0f);

  Matrix empty(0, 3);
  s.Fit(empty);
  EXPECT_EQ(s.dims(), 3);
  EXPECT_FALSE(s.scale().array().isNaN().any());
  EXPECT_FALSE(s.mean().array().isNaN().any());
}

TEST(StandardizerTest, TransformInPlaceMatchesTransform) {
  const Matrix x = MakeData(300, 3);
  Standardizer s;
  s.Fit(x);
  Matrix z;
  s.Transform(x, &z);
  Matrix in_place = x;
  s.TransformInPlace(in_place);
  EXPECT_TRUE(BitIdentical(z, in_place));
}

TEST(StandardizerTest, TransformReusesAnOutputOfTheRightShape) {
  const Matrix x = MakeData(64, 4);
  Standardizer s;
  s.Fit(x);
  Matrix out(64, 4);
  const float* buffer = out.data();
  s.Transform(x, &out);
  EXPECT_EQ(out.data(), buffer);
  Matrix wrong_shape(3, 4);
  s.Transform(x, &wrong_shape);
  EXPECT_EQ(wrong_shape.rows(), 64);
}

TEST(StandardizerTest, WrongWidthPoisonsTheOutput) {
  Standardizer s;
  s.Fit(MakeData(10, 5));
  Matrix narrow = Matrix::Ones(2, 3);
  Matrix out;
  s.Transform(narrow, &out);
  ASSERT_EQ(out.rows(), 2);
  ASSERT_EQ(out.cols(), 3);
  EXPECT_TRUE(out.array().isNaN().all());
}

TEST(StandardizerTest, SerializeRoundTripIsBitIdentical) {
  const Matrix x = MakeData(1000, 6);
  Standardizer s;
  s.Fit(x);
  ByteWriter writer;
  s.Serialize(&writer);
  const std::string bytes = writer.Release();

  ByteReader reader(bytes);
  absl::StatusOr<Standardizer> restored = Standardizer::Deserialize(&reader);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE(reader.AtEnd());
  ASSERT_EQ(restored->dims(), s.dims());
  EXPECT_EQ(std::memcmp(restored->mean().data(), s.mean().data(), sizeof(float) * s.dims()), 0);
  EXPECT_EQ(std::memcmp(restored->scale().data(), s.scale().data(), sizeof(float) * s.dims()), 0);
  Matrix a, b;
  s.Transform(x, &a);
  restored->Transform(x, &b);
  EXPECT_TRUE(BitIdentical(a, b));
}

TEST(StandardizerTest, DeserializeRejectsTruncatedOrForeignBytes) {
  Standardizer s;
  s.Fit(MakeData(10, 7));
  ByteWriter writer;
  s.Serialize(&writer);
  const std::string bytes = writer.Release();
  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    ByteReader reader(absl::string_view(bytes).substr(0, cut));
    EXPECT_EQ(Standardizer::Deserialize(&reader).status().code(), absl::StatusCode::kDataLoss)
        << "cut at " << cut;
  }
  ByteWriter other;
  other.WriteString("something.else");
  ByteReader reader(other.bytes());
  EXPECT_EQ(Standardizer::Deserialize(&reader).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace aad
