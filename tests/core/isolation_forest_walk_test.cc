// The forest's scoring walks (the hop layout, 16 rows at a time with
// AVX-512 up to 64 features and row by row above; the node walk for trees
// too deep for the layout) against a plain walk of the stored nodes, read
// back from Serialize(): the same scores to the bit and the same leaf codes,
// for each width the walks treat apart, tree depths of one, two and three
// hops, ragged row counts, strided views, values equal to thresholds and
// non-finite values.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/detectors/isolation_forest.h"
#include "core/util/byte_stream.h"
#include "core/util/random.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

// The stored form (isolation_forest_serialization.cc): leaves are
// {0xFFFFFFFF, depth, 0}, splits {feature, threshold, left}, right = left + 1.
struct PlainForest {
  float normaliser = 0.0f;
  std::vector<uint32_t> roots;
  std::vector<uint32_t> feature;
  std::vector<float> value;
  std::vector<uint32_t> left;
  std::vector<uint8_t> ordinal;  // a leaf's rank among its tree's leaves, in node order
};

PlainForest Parse(const IsolationForest& forest) {
  ByteWriter writer;
  forest.Serialize(&writer);
  ByteReader in(writer.bytes());
  PlainForest p;
  EXPECT_TRUE(in.ExpectTag("isolation_forest").ok());
  EXPECT_EQ(*in.ReadU32("version"), 1u);
  in.ReadU32("num_trees").IgnoreError();
  in.ReadU32("sample_size").IgnoreError();
  in.ReadU64("seed").IgnoreError();
  in.ReadU32("dims").IgnoreError();
  p.normaliser = *in.ReadF32("normaliser");
  p.roots.resize(*in.ReadU64("roots"));
  for (uint32_t& r : p.roots) r = *in.ReadU32("root");
  const uint64_t nodes = *in.ReadU64("nodes");
  for (uint64_t i = 0; i < nodes; ++i) {
    p.feature.push_back(*in.ReadU32("feature"));
    p.value.push_back(*in.ReadF32("value"));
    p.left.push_back(*in.ReadU32("left"));
  }
  EXPECT_TRUE(in.AtEnd());
  p.ordinal.assign(nodes, 0);
  for (size_t t = 0; t < p.roots.size(); ++t) {
    const size_t end = t + 1 < p.roots.size() ? p.roots[t + 1] : nodes;
    int leaves = 0;
    for (size_t i = p.roots[t]; i < end; ++i) {
      if (p.feature[i] == 0xFFFFFFFFu) p.ordinal[i] = static_cast<uint8_t>(leaves++);
    }
  }
  return p;
}

// One row at a time, one tree at a time, summing leaf depths in tree order
// as Score() promises.
void PlainScore(const PlainForest& p, const ConstMatrixRef& x, std::vector<float>* scores,
                std::vector<uint8_t>* codes) {
  const size_t trees = p.roots.size();
  scores->assign(x.rows(), 0.0f);
  codes->assign(static_cast<size_t>(x.rows()) * trees, 0);
  const float inv_trees_norm = 1.0f / (static_cast<float>(trees) * p.normaliser);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    float sum = 0.0f;
    for (size_t t = 0; t < trees; ++t) {
      uint32_t i = p.roots[t];
      while (p.feature[i] != 0xFFFFFFFFu) i = p.left[i] + (x(r, p.feature[i]) < p.value[i] ? 0 : 1);
      sum += p.value[i];
      (*codes)[r * trees + t] = p.ordinal[i];
    }
    (*scores)[r] = std::exp2(-sum * inv_trees_norm);
  }
}

Matrix Normal(Eigen::Index rows, Eigen::Index cols, uint64_t seed) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.Normal());
  return m;
}

// Rows to score: fresh normal rows, then rows that hit the forest's own
// thresholds exactly (x == threshold goes right), then rows with NaN, +-inf
// and -0 in every feature in turn.
Matrix Probes(const PlainForest& p, int dims, Eigen::Index rows, uint64_t seed) {
  Matrix x = Normal(rows, dims, seed);
  Eigen::Index r = rows / 3;
  for (size_t i = 0; i < p.feature.size() && r < rows; i += 7, ++r) {
    if (p.feature[i] != 0xFFFFFFFFu) x(r, p.feature[i]) = p.value[i];
  }
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), -0.0f};
  for (int k = 0; r < rows && k < 4 * dims; ++r, ++k) x(r, k % dims) = specials[k / dims % 4];
  return x;
}

std::string Describe(int dims, int sample_size, Eigen::Index rows) {
  return "dims=" + std::to_string(dims) + " sample_size=" + std::to_string(sample_size) +
         " rows=" + std::to_string(rows);
}

void ExpectSameAsPlainWalk(const IsolationForest& forest, const ConstMatrixRef& x,
                           const std::string& what) {
  const PlainForest plain = Parse(forest);
  std::vector<float> want;
  std::vector<uint8_t> want_codes;
  PlainScore(plain, x, &want, &want_codes);
  std::vector<float> got(x.rows());
  ASSERT_TRUE(forest.Score(x, absl::MakeSpan(got)).ok()) << what;
  ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << what;
  if (forest.max_leaves() > 256) return;  // no leaf codes for such forests
  std::vector<float> got2(x.rows());
  std::vector<uint8_t> codes(want_codes.size(), 0xEE);
  ASSERT_TRUE(forest.ScoreAndLeaves(x, absl::MakeSpan(got2), absl::MakeSpan(codes)).ok()) << what;
  ASSERT_EQ(std::memcmp(got2.data(), want.data(), got2.size() * sizeof(float)), 0) << what;
  ASSERT_EQ(codes, want_codes) << what;
}

TEST(IsolationForestWalkTest, EveryWidthScoresAsThePlainWalk) {
  // 16, 32 and 64 are the vector walk's register counts; above 64 the row
  // by row walk.
  for (const int dims : {1, 5, 16, 17, 31, 32, 33, 48, 64, 65, 130}) {
    IsolationForest forest({40, 256, static_cast<uint64_t>(dims)});
    ASSERT_TRUE(forest.Fit(Normal(2000, dims, 100 + dims)).ok());
    const PlainForest plain = Parse(forest);
    const Matrix x = Probes(plain, dims, 300, 200 + dims);
    ExpectSameAsPlainWalk(forest, x, Describe(dims, 256, x.rows()));
  }
}

TEST(IsolationForestWalkTest, EveryDepthScoresAsThePlainWalk) {
  // Height limits 1 to 13: one hop (up to depth 4), two, three (depth 12)
  // and the node walk beyond.
  for (const int sample_size : {2, 3, 16, 17, 256, 300, 4096, 8192}) {
    for (const int dims : {6, 32, 80}) {
      IsolationForest forest({12, sample_size, 7});
      ASSERT_TRUE(forest.Fit(Normal(9000, dims, sample_size)).ok());
      const PlainForest plain = Parse(forest);
      const Matrix x = Probes(plain, dims, 200, sample_size + dims);
      ExpectSameAsPlainWalk(forest, x, Describe(dims, sample_size, x.rows()));
    }
  }
}

TEST(IsolationForestWalkTest, RaggedRowCountsAndStridedViews) {
  for (const int dims : {6, 32, 40}) {
    IsolationForest forest({30, 128, 3});
    ASSERT_TRUE(forest.Fit(Normal(1000, dims, 9)).ok());
    const PlainForest plain = Parse(forest);
    const Matrix wide = Probes(plain, dims + 3, 600, 11);
    for (const Eigen::Index rows : {1, 15, 16, 17, 127, 128, 129, 255, 256, 257, 600}) {
      const Matrix x = wide.topLeftCorner(rows, dims);
      ExpectSameAsPlainWalk(forest, x, Describe(dims, 128, rows));
      // A view of the first dims columns of wider rows (outer stride > dims;
      // Eigen makes a one-row view contiguous).
      const ConstMatrixRef view = wide.topLeftCorner(rows, dims);
      if (rows > 1) {
        ASSERT_GT(view.outerStride(), dims);
      }
      ExpectSameAsPlainWalk(forest, view, Describe(dims, 128, rows) + " strided");
    }
  }
}

TEST(IsolationForestWalkTest, RestoredForestWalksAlike) {
  // Deserialize() builds the layout from the stored nodes, as Fit() does.
  IsolationForest forest({50, 256, 5});
  ASSERT_TRUE(forest.Fit(Normal(3000, 32, 5)).ok());
  ByteWriter writer;
  forest.Serialize(&writer);
  ByteReader reader(writer.bytes());
  absl::StatusOr<IsolationForest> restored = IsolationForest::Deserialize(&reader);
  ASSERT_TRUE(restored.ok()) << restored.status();
  const Matrix x = Probes(Parse(forest), 32, 500, 6);
  ExpectSameAsPlainWalk(*restored, x, "restored");
}

}  // namespace
}  // namespace aad
