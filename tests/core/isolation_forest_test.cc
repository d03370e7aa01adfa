#include "core/detectors/isolation_forest.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/util/byte_stream.h"
#include "core/util/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

using ::testing::HasSubstr;

// Fraction of (outlier, inlier) pairs ordered correctly, ties counting one
// half: the ROC AUC, computed directly so the test needs nothing else.
double PairwiseAuc(const std::vector<float>& scores, const std::vector<bool>& is_outlier) {
  double good = 0.0;
  int64_t pairs = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!is_outlier[i]) continue;
    for (size_t j = 0; j < scores.size(); ++j) {
      if (is_outlier[j]) continue;
      good += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
      ++pairs;
    }
  }
  return good / static_cast<double>(pairs);
}

// 1000 standard normal inliers in 4 dimensions, then 20 outliers placed 6 to
// 8 standard deviations out along random directions.
struct Synthetic {
  Matrix x;
  std::vector<bool> is_outlier;
};
Synthetic MakeSynthetic(uint64_t seed) {
  constexpr int kInliers = 1000, kOutliers = 20, kDims = 4;
  Rng rng(seed);
  Synthetic s;
  s.x.resize(kInliers + kOutliers, kDims);
  for (int i = 0; i < kInliers + kOutliers; ++i) {
    for (int f = 0; f < kDims; ++f) s.x(i, f) = static_cast<float>(rng.Normal());
    if (i >= kInliers) {
      s.x.row(i) *= static_cast<float>(rng.Uniform(6.0, 8.0)) / s.x.row(i).norm();
    }
    s.is_outlier.push_back(i >= kInliers);
  }
  return s;
}

std::vector<float> ScoreAll(const IsolationForest& forest, const ConstMatrixRef& x) {
  std::vector<float> out(x.rows());
  EXPECT_TRUE(forest.Score(x, absl::MakeSpan(out)).ok());
  return out;
}

bool BitIdentical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(IsolationForestTest, OutliersScoreHigherThanInliers) {
  const Synthetic data = MakeSynthetic(7);
  IsolationForest forest;
  ASSERT_TRUE(forest.Fit(data.x).ok());
  EXPECT_TRUE(forest.fitted());
  EXPECT_EQ(forest.dims(), 4);
  const std::vector<float> scores = ScoreAll(forest, data.x);
  for (float s : scores) {
    EXPECT_GT(s, 0.0f);
    EXPECT_LE(s, 1.0f);
  }
  EXPECT_GT(PairwiseAuc(scores, data.is_outlier), 0.98);
  // Far outliers isolate in a few splits (score well above 0.5); typical
  // inliers need about the average path length (score near or below 0.5).
  double outlier_mean = 0.0, inlier_mean = 0.0;
  for (size_t i = 0; i < scores.size(); ++i) {
    (data.is_outlier[i] ? outlier_mean : inlier_mean) += scores[i];
  }
  outlier_mean /= 20;
  inlier_mean /= 1000;
  EXPECT_GT(outlier_mean, 0.6);
  EXPECT_LT(inlier_mean, 0.5);
}

TEST(IsolationForestTest, SameSeedGivesIdenticalScores) {
  const Synthetic data = MakeSynthetic(3);
  IsolationForest a({/*num_trees=*/50, /*sample_size=*/128, /*seed=*/11});
  IsolationForest b({/*num_trees=*/50, /*sample_size=*/128, /*seed=*/11});
  ASSERT_TRUE(a.Fit(data.x).ok());
  ASSERT_TRUE(b.Fit(data.x).ok());
  EXPECT_TRUE(BitIdentical(ScoreAll(a, data.x), ScoreAll(b, data.x)));
  // Refitting the same object reproduces its scores too.
  const std::vector<float> first = ScoreAll(a, data.x);
  ASSERT_TRUE(a.Fit(data.x).ok());
  EXPECT_TRUE(BitIdentical(first, ScoreAll(a, data.x)));
}

TEST(IsolationForestTest, DifferentSeedGivesDifferentScores) {
  const Synthetic data = MakeSynthetic(3);
  IsolationForest a({50, 128, 11});
  IsolationForest b({50, 128, 12});
  ASSERT_TRUE(a.Fit(data.x).ok());
  ASSERT_TRUE(b.Fit(data.x).ok());
  const std::vector<float> sa = ScoreAll(a, data.x), sb = ScoreAll(b, data.x);
  int differing = 0;
  for (size_t i = 0; i < sa.size(); ++i) differing += sa[i] != sb[i];
  EXPECT_GT(differing, static_cast<int>(sa.size()) / 2);
}

TEST(IsolationForestTest, SerializeRoundTripIsBitIdentical) {
  const Synthetic data = MakeSynthetic(5);
  IsolationForest forest({64, 200, 99});
  ASSERT_TRUE(forest.Fit(data.x).ok());
  ByteWriter writer;
  forest.Serialize(&writer);
  ByteReader reader(writer.bytes());
  absl::StatusOr<IsolationForest> restored = IsolationForest::Deserialize(&reader);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE(reader.AtEnd());
  EXPECT_TRUE(restored->fitted());
  EXPECT_EQ(restored->dims(), 4);
  EXPECT_TRUE(BitIdentical(ScoreAll(forest, data.x), ScoreAll(*restored, data.x)));
  // Serialising the restored forest gives the same bytes.
  ByteWriter again;
  restored->Serialize(&again);
  EXPECT_EQ(again.bytes(), writer.bytes());
}

TEST(IsolationForestTest, DeserializeRejectsEveryTruncation) {
  const Synthetic data = MakeSynthetic(5);
  IsolationForest forest({3, 16, 1});
  ASSERT_TRUE(forest.Fit(data.x).ok());
  ByteWriter writer;
  forest.Serialize(&writer);
  const std::string& bytes = writer.bytes();
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string prefix = bytes.substr(0, n);
    ByteReader reader(prefix);
    absl::StatusOr<IsolationForest> restored = IsolationForest::Deserialize(&reader);
    ASSERT_FALSE(restored.ok()) << "prefix of " << n << " bytes accepted";
    EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  }
}

// Byte layout (format version 1): tag string (u64 length + 16 chars), then
// version, num_trees, sample_size (u32 each), seed (u64), dims (u32),
// normaliser (f32), root count (u64), roots (u32 each), node count (u64),
// nodes of {feature u32, value f32, left u32}.
constexpr size_t kHeaderBytes = 8 + 16 + 4 + 4 + 4 + 8 + 4 + 4;

class IsolationForestCorruptBytesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Synthetic data = MakeSynthetic(5);
    IsolationForest forest({2, 16, 1});
    ASSERT_TRUE(forest.Fit(data.x).ok());
    ByteWriter writer;
    forest.Serialize(&writer);
    bytes_ = writer.bytes();
    nodes_offset_ = kHeaderBytes + 8 + 2 * 4 + 8;
    ASSERT_GT(bytes_.size(), nodes_offset_);
  }

  void PutU32(size_t offset, uint32_t v) { std::memcpy(&bytes_[offset], &v, sizeof v); }
  uint32_t GetU32(size_t offset) const {
    uint32_t v;
    std::memcpy(&v, &bytes_[offset], sizeof v);
    return v;
  }

  absl::Status Restore() const {
    ByteReader reader(bytes_);
    return IsolationForest::Deserialize(&reader).status();
  }

  std::string bytes_;
  size_t nodes_offset_ = 0;
};

TEST_F(IsolationForestCorruptBytesTest, UnchangedBytesAreAccepted) { EXPECT_TRUE(Restore().ok()); }

TEST_F(IsolationForestCorruptBytesTest, WrongTagIsRejected) {
  bytes_[8] = 'X';
  EXPECT_EQ(Restore().code(), absl::StatusCode::kDataLoss);
}

TEST_F(IsolationForestCorruptBytesTest, UnknownVersionIsRejected) {
  PutU32(24, 99);
  EXPECT_THAT(Restore().message(), HasSubstr("version 99"));
}

TEST_F(IsolationForestCorruptBytesTest, OutOfRangeFeatureIsRejected) {
  // The root of tree 0 is an internal node: 16 distinct rows always split.
  ASSERT_NE(GetU32(nodes_offset_), 0xFFFFFFFFu);
  PutU32(nodes_offset_, 4);  // dims is 4
  EXPECT_THAT(Restore().message(), HasSubstr("feature 4"));
}

TEST_F(IsolationForestCorruptBytesTest, BackwardChildIsRejected) {
  PutU32(nodes_offset_ + 8, 0);  // root's left child pointing at itself
  EXPECT_EQ(Restore().code(), absl::StatusCode::kDataLoss);
}

TEST_F(IsolationForestCorruptBytesTest, ChildOutsideItsTreeIsRejected) {
  PutU32(nodes_offset_ + 8, 0x7FFFFFF0u);
  EXPECT_EQ(Restore().code(), absl::StatusCode::kDataLoss);
}

TEST_F(IsolationForestCorruptBytesTest, ImplausibleNodeCountIsRejected) {
  const size_t count_offset = kHeaderBytes + 8 + 2 * 4;
  const uint64_t huge = uint64_t{1} << 40;
  std::memcpy(&bytes_[count_offset], &huge, sizeof huge);
  EXPECT_EQ(Restore().code(), absl::StatusCode::kDataLoss);
}

TEST_F(IsolationForestCorruptBytesTest, ZeroTreesAreRejected) {
  PutU32(28, 0);
  EXPECT_EQ(Restore().code(), absl::StatusCode::kDataLoss);
}

TEST_F(IsolationForestCorruptBytesTest, RandomByteFlipsNeverCrash) {
  // Whatever a flip does, Deserialize either rejects the bytes or returns a
  // forest whose structure passed validation and that can be scored.
  const Synthetic data = MakeSynthetic(5);
  const std::string original = bytes_;
  Rng rng(123);
  for (int trial = 0; trial < 2000; ++trial) {
    bytes_ = original;
    const size_t pos = rng.UniformInt(bytes_.size());
    bytes_[pos] = static_cast<char>(bytes_[pos] ^ (1 + rng.UniformInt(255)));
    ByteReader reader(bytes_);
    absl::StatusOr<IsolationForest> restored = IsolationForest::Deserialize(&reader);
    if (restored.ok()) {
      // A flip in the header may change the feature count; then scoring
      // rows of the old width is an error, never a read out of bounds.
      std::vector<float> scores(data.x.rows());
      absl::Status s = restored->Score(data.x, absl::MakeSpan(scores));
      if (restored->dims() == data.x.cols()) {
        EXPECT_TRUE(s.ok()) << s;
      }
    }
  }
}

TEST(IsolationForestTest, InvalidOptionsAreRejected) {
  const Synthetic data = MakeSynthetic(1);
  absl::Status s = IsolationForest({-3, 256, 1}).Fit(data.x);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("num_trees"));
  EXPECT_THAT(s.message(), HasSubstr("-3"));

  s = IsolationForest({0, 256, 1}).Fit(data.x);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("got 0"));

  s = IsolationForest({100, 1, 1}).Fit(data.x);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("sample_size"));
  EXPECT_THAT(s.message(), HasSubstr("got 1"));

  s = IsolationForest({100, -7, 1}).Fit(data.x);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("-7"));
}

TEST(IsolationForestTest, EmptyInputIsRejected) {
  IsolationForest forest;
  absl::Status s = forest.Fit(Matrix(0, 4));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("0x4"));
  s = forest.Fit(Matrix(5, 0));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("5x0"));
  EXPECT_FALSE(forest.fitted());
}

TEST(IsolationForestTest, NonFiniteInputIsRejected) {
  Matrix x = Matrix::Zero(10, 2);
  x(3, 1) = std::nanf("");
  EXPECT_EQ(IsolationForest().Fit(x).code(), absl::StatusCode::kInvalidArgument);
}

TEST(IsolationForestTest, FailedFitKeepsPreviousModel) {
  const Synthetic data = MakeSynthetic(2);
  IsolationForest forest({20, 64, 1});
  ASSERT_TRUE(forest.Fit(data.x).ok());
  const std::vector<float> before = ScoreAll(forest, data.x);
  EXPECT_FALSE(forest.Fit(Matrix(0, 4)).ok());
  EXPECT_TRUE(BitIdentical(before, ScoreAll(forest, data.x)));
}

TEST(IsolationForestTest, SampleSizeIsCappedAtRowCount) {
  Matrix x(10, 2);
  for (int i = 0; i < 10; ++i) x.row(i) << static_cast<float>(i), static_cast<float>(i % 3);
  IsolationForest forest({10, 256, 1});
  ASSERT_TRUE(forest.Fit(x).ok());
  for (float s : ScoreAll(forest, x)) {
    EXPECT_GT(s, 0.0f);
    EXPECT_LE(s, 1.0f);
  }
}

TEST(IsolationForestTest, SingleRowFitsAndScoresOne) {
  Matrix x(1, 3);
  x << 1, 2, 3;
  IsolationForest forest({5, 256, 1});
  ASSERT_TRUE(forest.Fit(x).ok());
  EXPECT_EQ(ScoreAll(forest, x)[0], 1.0f);
}

TEST(IsolationForestTest, ConstantFeaturesNeverSplit) {
  // Feature 0 is constant in the training data, so no split may use it:
  // rows that differ only in feature 0 must score identically.
  Rng rng(4);
  Matrix x(500, 2);
  for (int i = 0; i < 500; ++i) x.row(i) << 3.0f, static_cast<float>(rng.Normal());
  IsolationForest forest({50, 128, 1});
  ASSERT_TRUE(forest.Fit(x).ok());
  Matrix probe(2, 2);
  probe << -100.0f, 0.5f, 100.0f, 0.5f;
  const std::vector<float> scores = ScoreAll(forest, probe);
  EXPECT_EQ(scores[0], scores[1]);
}

TEST(IsolationForestTest, DuplicateRowsMakeLeaves) {
  // Every feature constant: each tree is one leaf of size s, depth c(s).
  Matrix x = Matrix::Constant(300, 3, 2.0f);
  IsolationForest forest({10, 256, 1});
  ASSERT_TRUE(forest.Fit(x).ok());
  for (float s : ScoreAll(forest, x)) EXPECT_NEAR(s, 0.5f, 1e-6f);
}

TEST(IsolationForestTest, ScoresStridedViewLikeACopy) {
  const Synthetic data = MakeSynthetic(8);
  Matrix wide(data.x.rows(), 6);
  wide.setConstant(1e6f);
  wide.middleCols(1, 4) = data.x;
  IsolationForest forest({30, 256, 2});
  ASSERT_TRUE(forest.Fit(data.x).ok());
  const ConstMatrixRef view = wide.middleCols(1, 4);
  ASSERT_EQ(view.outerStride(), 6);
  EXPECT_TRUE(BitIdentical(ScoreAll(forest, data.x), ScoreAll(forest, view)));
  // Batch composition does not change a row's score (no cross-row state).
  const std::vector<float> all = ScoreAll(forest, data.x);
  const std::vector<float> one = ScoreAll(forest, data.x.middleRows(700, 1));
  EXPECT_EQ(one[0], all[700]);
}

TEST(IsolationForestTest, MisuseIsAnErrorAndFillsNaN) {
  IsolationForest unfitted;
  std::vector<float> out(3, 0.0f);
  absl::Status s = unfitted.Score(Matrix::Zero(3, 2), absl::MakeSpan(out));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("not fitted"));
  for (float v : out) EXPECT_TRUE(std::isnan(v));

  const Synthetic data = MakeSynthetic(1);
  IsolationForest forest({5, 64, 1});
  ASSERT_TRUE(forest.Fit(data.x).ok());
  std::fill(out.begin(), out.end(), 0.0f);
  s = forest.Score(Matrix::Zero(3, 2), absl::MakeSpan(out));  // wrong width
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("4 features got rows of 2"));
  for (float v : out) EXPECT_TRUE(std::isnan(v));
  std::vector<float> short_out(2);
  s = forest.Score(Matrix::Zero(3, 4), absl::MakeSpan(short_out));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("3 rows but room for 2"));
}

// The shuttle benchmark set (class 1 nominal, classes 2,3,5,6,7 anomalous),
// when the shared data directory is present. Parsed here so that this test
// does not depend on the library's CSV reader.
bool LoadShuttle(Matrix* x, std::vector<bool>* is_anomaly) {
  std::ifstream in(std::string(AADD_SHARED_DATA_DIR) + "/adx/shuttle_1v23567_1.csv");
  if (!in) return false;
  std::string line;
  std::getline(in, line);  // header: label,v1..v9
  std::vector<float> values;
  int rows = 0;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string field;
    std::getline(fields, field, ',');
    is_anomaly->push_back(field == "anomaly");
    while (std::getline(fields, field, ',')) values.push_back(std::stof(field));
    ++rows;
  }
  if (rows == 0 || values.size() % rows != 0) return false;
  *x = ConstMatrixMap(values.data(), rows, static_cast<Eigen::Index>(values.size() / rows));
  return true;
}

TEST(IsolationForestTest, ShuttleRanksAnomaliesHigh) {
  Matrix x;
  std::vector<bool> is_anomaly;
  if (!LoadShuttle(&x, &is_anomaly)) GTEST_SKIP() << "shuttle data not found";
  ASSERT_EQ(x.cols(), 9);
  IsolationForest forest;  // the paper's defaults: 100 trees of 256 rows
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(forest.Fit(x).ok());
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<float> scores(x.rows());
  ASSERT_TRUE(forest.Score(x, absl::MakeSpan(scores)).ok());
  const auto t2 = std::chrono::steady_clock::now();
  const double auc = PairwiseAuc(scores, is_anomaly);
  std::printf("shuttle %ldx%ld: fit %.2f ms, score %.2f ms, AUC %.4f\n",
              static_cast<long>(x.rows()), static_cast<long>(x.cols()),
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count(), auc);
  // Isolation Forest is known to do well on shuttle (AUC near 0.99).
  EXPECT_GT(auc, 0.95);
}

}  // namespace
}  // namespace aad
