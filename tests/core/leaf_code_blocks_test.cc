// The pool's leaf codes in blocks (LeafCodeBlocks) and the region logits
// summed over them: the same bits as the row-major sum, for weights that
// need one to four byte planes, for more trees than the 16-bit lanes hold
// before they are widened, and for a last block that is not full.
#include <cstring>
#include <vector>

#include "core/active/leaf_code_blocks.h"
#include "core/active/leaf_weights.h"
#include "core/util/random.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

std::vector<LeafCode> RandomCodes(int64_t rows, int trees, Rng* rng) {
  std::vector<LeafCode> codes(static_cast<size_t>(rows) * trees);
  for (LeafCode& c : codes) c = static_cast<LeafCode>(rng->UniformInt(LeafWeights::kLeavesPerTree));
  return codes;
}

LeafCodeBlocks Blocks(const std::vector<LeafCode>& codes, int64_t rows, int trees) {
  LeafCodeBlocks blocks;
  blocks.Reset(trees);
  blocks.Resize(rows);
  blocks.SetRows(0, codes);
  return blocks;
}

TEST(LeafCodeBlocks, RowsComeBackAsTheyWereSet) {
  Rng rng(1);
  const int trees = 7;
  const std::vector<LeafCode> codes = RandomCodes(150, trees, &rng);
  LeafCodeBlocks blocks;
  blocks.Reset(trees);
  blocks.Resize(100);
  blocks.SetRows(0, absl::MakeConstSpan(codes.data(), 100 * trees));
  blocks.Resize(150);  // grows past a block boundary, keeping rows 0-99
  blocks.SetRows(100, absl::MakeConstSpan(codes.data() + 100 * trees, 50 * trees));
  ASSERT_EQ(blocks.rows(), 150);
  ASSERT_EQ(blocks.block_count(), 3);
  std::vector<LeafCode> row(trees);
  for (int64_t r = 0; r < 150; ++r) {
    blocks.CopyRow(r, row.data());
    EXPECT_EQ(0, std::memcmp(row.data(), codes.data() + r * trees, trees)) << "row " << r;
  }
  blocks.Resize(70);
  EXPECT_EQ(blocks.rows(), 70);
  EXPECT_EQ(blocks.block_count(), 2);
  blocks.CopyRow(69, row.data());
  EXPECT_EQ(0, std::memcmp(row.data(), codes.data() + 69 * trees, trees));
}

// Weights drawn from [-limit, limit], and each tree's first leaf at a bound.
LeafWeights RandomWeights(int trees, double limit, Rng* rng) {
  LeafWeights w(trees);
  for (int i = 0; i < w.size(); ++i) {
    if (rng->UniformInt(3) == 0) continue;  // most leaves see no label
    w.Set(i, limit * (2.0 * rng->Uniform() - 1.0));
  }
  for (int t = 0; t < trees; ++t) w.Set(t * LeafWeights::kLeavesPerTree, t % 2 ? limit : -limit);
  return w;
}

TEST(LeafCodeBlocks, RegionLogitsAreTheRowMajorBits) {
  struct Case {
    int trees;
    int64_t rows;
    double limit;  // logit units: 1/1024 needs one byte plane, 1e5 all four
  };
  for (const Case& c : {Case{100, 1000, 0.4}, Case{100, 64, 1.0 / 1024}, Case{3, 5, 100.0},
                        Case{100, 777, 1e5}, Case{300, 129, 0.3}, Case{300, 200, 1e4}}) {
    Rng rng(c.trees * 1000 + c.rows);
    const std::vector<LeafCode> codes = RandomCodes(c.rows, c.trees, &rng);
    const LeafWeights w = RandomWeights(c.trees, c.limit, &rng);
    std::vector<float> row_major(c.rows), blocked(c.rows);
    for (int64_t r = 0; r < c.rows; ++r) row_major[r] = blocked[r] = 0.25f * static_cast<float>(r);
    w.AddTo(codes, c.rows, row_major.data());
    w.AddTo(Blocks(codes, c.rows, c.trees), blocked.data());
    EXPECT_EQ(0, std::memcmp(row_major.data(), blocked.data(), sizeof(float) * c.rows))
        << c.trees << " trees, " << c.rows << " rows, weights up to " << c.limit;
  }
}

TEST(LeafCodeBlocks, ClampedSumsOfEveryTreeAreExact) {
  // Every weight at the clamp: each row's sum is trees * max, the largest
  // int32 sum the clamp allows, in both directions.
  const int trees = 130;
  const int64_t rows = 65;
  for (double sign : {1.0, -1.0}) {
    LeafWeights w(trees);
    for (int i = 0; i < w.size(); ++i) w.Set(i, sign * 1e9);
    Rng rng(7);
    const std::vector<LeafCode> codes = RandomCodes(rows, trees, &rng);
    std::vector<float> row_major(rows, 0.0f), blocked(rows, 0.0f);
    w.AddTo(codes, rows, row_major.data());
    w.AddTo(Blocks(codes, rows, trees), blocked.data());
    EXPECT_EQ(0, std::memcmp(row_major.data(), blocked.data(), sizeof(float) * rows));
    EXPECT_NEAR(blocked[0], sign * trees * w.max_weight(), 1e-3 * trees * w.max_weight());
  }
}

}  // namespace
}  // namespace aad
