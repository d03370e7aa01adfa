#include "core/util/byte_stream.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

using ::testing::HasSubstr;

// Floats must come back bit for bit (a restored model must score
// identically), so compare representations, not values: NaN != NaN and
// -0.0f == 0.0f would hide a broken encoding.
uint32_t Bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

TEST(ByteStreamTest, ScalarsRoundTrip) {
  const float floats[] = {0.0f,
                          -0.0f,
                          1.5f,
                          -3.25e-30f,
                          std::numeric_limits<float>::denorm_min(),
                          std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()};
  const double doubles[] = {0.0,
                            -0.0,
                            1.0 / 3.0,
                            -1e300,
                            std::numeric_limits<double>::denorm_min(),
                            -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN()};
  ByteWriter w;
  w.WriteU32(0);
  w.WriteU32(0xDEADBEEFu);
  w.WriteU64(std::numeric_limits<uint64_t>::max());
  w.WriteU64(0x0123456789ABCDEFull);
  for (float f : floats) w.WriteF32(f);
  for (double d : doubles) w.WriteF64(d);
  EXPECT_EQ(w.bytes().size(), 2 * 4 + 2 * 8 + 8 * 4 + 7 * 8);

  ByteReader r(w.bytes());
  EXPECT_EQ(*r.ReadU32("a"), 0u);
  EXPECT_EQ(*r.ReadU32("b"), 0xDEADBEEFu);
  EXPECT_EQ(*r.ReadU64("c"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(*r.ReadU64("d"), 0x0123456789ABCDEFull);
  for (float f : floats) EXPECT_EQ(Bits(*r.ReadF32("f")), Bits(f));
  for (double d : doubles) EXPECT_EQ(Bits(*r.ReadF64("d")), Bits(d));
  EXPECT_TRUE(r.AtEnd());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteStreamTest, EncodingIsLittleEndian) {
  // The format is defined as little-endian; pin it so that a port to a
  // big-endian host cannot silently change it.
  ByteWriter w;
  w.WriteU32(0x04030201u);
  w.WriteU64(0x0807060504030201ull);
  EXPECT_EQ(w.bytes(), std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08", 12));
}

TEST(ByteStreamTest, StringsRoundTrip) {
  const std::string with_nul("a\0b", 3);
  ByteWriter w;
  w.WriteString("");
  w.WriteString("hello");
  w.WriteString(with_nul);
  ByteReader r(w.bytes());
  EXPECT_EQ(*r.ReadString("empty"), "");
  EXPECT_EQ(*r.ReadString("hello"), "hello");
  EXPECT_EQ(*r.ReadString("nul"), with_nul);
  EXPECT_TRUE(r.AtEnd());
}

TEST(ByteStreamTest, MatricesAndVectorsRoundTrip) {
  Matrix m(3, 2);
  m << 1, 2, 3, 4, 5, std::numeric_limits<float>::quiet_NaN();
  Vector v(4);
  v << -1, 0.5f, -0.0f, 7;
  RowVector rv(3);
  rv << 9, 8, 7;
  ByteWriter w;
  w.WriteMatrix(m);
  w.WriteMatrix(Matrix(0, 0));
  w.WriteMatrix(Matrix(0, 5));
  w.WriteVector(v);
  w.WriteVector(Vector(0));
  w.WriteRowVector(rv);

  ByteReader r(w.bytes());
  absl::StatusOr<Matrix> m2 = r.ReadMatrix("m");
  ASSERT_TRUE(m2.ok()) << m2.status();
  ASSERT_EQ(m2->rows(), 3);
  ASSERT_EQ(m2->cols(), 2);
  EXPECT_EQ(std::memcmp(m2->data(), m.data(), sizeof(float) * m.size()), 0);
  absl::StatusOr<Matrix> empty = r.ReadMatrix("empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0);
  absl::StatusOr<Matrix> no_rows = r.ReadMatrix("no_rows");
  ASSERT_TRUE(no_rows.ok());
  EXPECT_EQ(no_rows->rows(), 0);
  EXPECT_EQ(no_rows->cols(), 5);
  absl::StatusOr<Vector> v2 = r.ReadVector("v");
  ASSERT_TRUE(v2.ok());
  ASSERT_EQ(v2->size(), 4);
  EXPECT_EQ(std::memcmp(v2->data(), v.data(), sizeof(float) * v.size()), 0);
  absl::StatusOr<Vector> v0 = r.ReadVector("v0");
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ(v0->size(), 0);
  absl::StatusOr<RowVector> rv2 = r.ReadRowVector("rv");
  ASSERT_TRUE(rv2.ok());
  EXPECT_EQ(*rv2, rv);
  EXPECT_TRUE(r.AtEnd());
}

TEST(ByteStreamTest, MatrixLayoutIsRowMajor) {
  // Rows, cols, then the values row by row, whatever the in-memory order
  // of a future Matrix type.
  Matrix m(2, 2);
  m << 1, 2, 3, 4;
  ByteWriter w;
  w.WriteMatrix(m);
  ByteReader r(w.bytes());
  EXPECT_EQ(*r.ReadU64("rows"), 2u);
  EXPECT_EQ(*r.ReadU64("cols"), 2u);
  EXPECT_EQ(*r.ReadF32("m00"), 1.0f);
  EXPECT_EQ(*r.ReadF32("m01"), 2.0f);
}

TEST(ByteStreamTest, TruncatedScalarsAreDataLossNamingTheField) {
  ByteWriter w;
  w.WriteU64(1);
  const std::string& bytes = w.bytes();
  {
    const std::string prefix = bytes.substr(0, 3);
    ByteReader r(prefix);
    absl::StatusOr<uint32_t> v = r.ReadU32("layer.width");
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(v.status().message(), HasSubstr("layer.width"));
    EXPECT_EQ(r.remaining(), 3u) << "a failed read must not consume";
  }
  {
    const std::string prefix = bytes.substr(0, 7);
    ByteReader r(prefix);
    absl::StatusOr<uint64_t> v = r.ReadU64("epoch");
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(v.status().message(), HasSubstr("epoch"));
  }
  {
    const std::string prefix = bytes.substr(0, 2);
    ByteReader r(prefix);
    absl::StatusOr<float> v = r.ReadF32("bias");
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(v.status().message(), HasSubstr("bias"));
  }
  {
    const std::string prefix = bytes.substr(0, 0);
    ByteReader r(prefix);
    absl::StatusOr<double> v = r.ReadF64("lr");
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(v.status().message(), HasSubstr("lr"));
  }
}

TEST(ByteStreamTest, EveryTruncationOfCompositesIsDataLoss) {
  Matrix m = Matrix::Constant(2, 3, 1.0f);
  Vector v = Vector::Constant(3, 2.0f);
  RowVector rv = RowVector::Constant(2, 3.0f);
  ByteWriter w;
  w.WriteString("name");
  w.WriteMatrix(m);
  w.WriteVector(v);
  w.WriteRowVector(rv);
  const std::string& bytes = w.bytes();
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string prefix = bytes.substr(0, n);
    ByteReader r(prefix);
    absl::Status status;
    if (absl::StatusOr<std::string> s = r.ReadString("name"); !s.ok()) {
      status = s.status();
      EXPECT_THAT(status.message(), HasSubstr("name"));
    } else if (absl::StatusOr<Matrix> a = r.ReadMatrix("weights"); !a.ok()) {
      status = a.status();
      EXPECT_THAT(status.message(), HasSubstr("weights"));
    } else if (absl::StatusOr<Vector> b = r.ReadVector("bias"); !b.ok()) {
      status = b.status();
      EXPECT_THAT(status.message(), HasSubstr("bias"));
    } else if (absl::StatusOr<RowVector> c = r.ReadRowVector("mean"); !c.ok()) {
      status = c.status();
      EXPECT_THAT(status.message(), HasSubstr("mean"));
    }
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << "prefix " << n;
  }
}

TEST(ByteStreamTest, ImplausibleSizesAreRejectedWithoutAllocating) {
  const uint64_t huge = uint64_t{1} << 62;
  {
    ByteWriter w;
    w.WriteU64(huge);  // string length
    w.WriteString("abc");
    ByteReader r(w.bytes());
    absl::StatusOr<std::string> s = r.ReadString("label");
    EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(s.status().message(), HasSubstr("label"));
  }
  {
    ByteWriter w;
    w.WriteU64(huge);  // vector length
    w.WriteF32(1.0f);
    ByteReader r(w.bytes());
    absl::StatusOr<Vector> v = r.ReadVector("bias");
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(v.status().message(), HasSubstr("bias"));
  }
  {
    ByteWriter w;
    w.WriteU64(huge);  // row vector length
    ByteReader r(w.bytes());
    EXPECT_EQ(r.ReadRowVector("mean").status().code(), absl::StatusCode::kDataLoss);
  }
  {
    ByteWriter w;
    w.WriteU64(huge);  // rows
    w.WriteU64(huge);  // cols: rows * cols overflows 64 bits
    w.WriteF32(1.0f);
    ByteReader r(w.bytes());
    absl::StatusOr<Matrix> m = r.ReadMatrix("weights");
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(m.status().message(), HasSubstr("weights"));
  }
  {
    ByteWriter w;
    w.WriteU64(3);  // rows
    w.WriteU64(4);  // cols: needs 48 bytes, 8 present
    w.WriteU64(0);
    ByteReader r(w.bytes());
    EXPECT_EQ(r.ReadMatrix("weights").status().code(), absl::StatusCode::kDataLoss);
  }
  // A zero dimension makes the byte count zero whatever the other one
  // claims, so the other must be bounded on its own: 2^64 - 1 would wrap
  // to a negative Eigen index.
  for (const auto& [rows, cols] :
       {std::pair<uint64_t, uint64_t>{~uint64_t{0}, 0},
        std::pair<uint64_t, uint64_t>{0, ~uint64_t{0}}, std::pair<uint64_t, uint64_t>{0, huge}}) {
    ByteWriter w;
    w.WriteU64(rows);
    w.WriteU64(cols);
    ByteReader r(w.bytes());
    absl::StatusOr<Matrix> m = r.ReadMatrix("weights");
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss) << rows << "x" << cols;
    EXPECT_THAT(m.status().message(), HasSubstr("weights"));
  }
}

TEST(ByteStreamTest, ExpectTagAcceptsTheTagAndRejectsOthers) {
  ByteWriter w;
  w.WriteString("autoencoder");
  w.WriteU32(5);
  {
    ByteReader r(w.bytes());
    EXPECT_TRUE(r.ExpectTag("autoencoder").ok());
    EXPECT_EQ(*r.ReadU32("after"), 5u);
  }
  {
    ByteReader r(w.bytes());
    absl::Status s = r.ExpectTag("isolation_forest");
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(s.message(), HasSubstr("isolation_forest"));
    EXPECT_THAT(s.message(), HasSubstr("autoencoder"));
  }
  {
    const std::string prefix = w.bytes().substr(0, 10);
    ByteReader r(prefix);
    EXPECT_EQ(r.ExpectTag("autoencoder").code(), absl::StatusCode::kDataLoss);
  }
  {
    ByteReader r("");
    EXPECT_EQ(r.ExpectTag("autoencoder").code(), absl::StatusCode::kDataLoss);
  }
}

TEST(ByteStreamTest, ReleaseHandsOverTheBytes) {
  ByteWriter w;
  w.WriteU32(7);
  const std::string bytes = w.Release();
  EXPECT_EQ(bytes.size(), 4u);
  ByteReader r(bytes);
  EXPECT_EQ(*r.ReadU32("x"), 7u);
}

}  // namespace
}  // namespace aad
