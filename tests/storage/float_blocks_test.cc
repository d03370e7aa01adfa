#include "server/storage/float_blocks.h"

#include <cstddef>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace aad {
namespace {

// Appends of every size (one float to several blocks at once) come back
// exactly, whatever range is copied out, across block boundaries too.
TEST(FloatBlocks, KeepsEveryFloatAcrossBlocks) {
  FloatBlocks blocks;
  EXPECT_EQ(blocks.size(), 0u);
  blocks.CopyOut(0, 0, nullptr);  // an empty range of an empty sequence
  std::vector<float> all;
  size_t step = 1;
  while (all.size() < 3'000'000) {  // past the 1 MiB blocks
    std::vector<float> chunk(step);
    for (size_t i = 0; i < step; ++i) chunk[i] = static_cast<float>(all.size() + i) * 0.5f;
    blocks.Append(chunk);
    all.insert(all.end(), chunk.begin(), chunk.end());
    step = step * 3 % 700001 + 1;
  }
  ASSERT_EQ(blocks.size(), all.size());
  std::vector<float> out(all.size());
  blocks.CopyOut(0, all.size(), out.data());
  EXPECT_EQ(out, all);
  for (size_t first : {size_t{0}, size_t{1023}, size_t{1024}, size_t{4095}, size_t{262143},
                       size_t{262144}, size_t{1000000}, all.size() - 7}) {
    const size_t n = std::min<size_t>(300000, all.size() - first);
    std::vector<float> part(n);
    blocks.CopyOut(first, n, part.data());
    ASSERT_TRUE(std::equal(part.begin(), part.end(), all.begin() + first)) << first;
  }
  // Blocks double from 4 KiB to 1 MiB: at most one block's worth unused.
  EXPECT_LE(blocks.MemoryBytes(), all.size() * sizeof(float) + (size_t{1} << 20));
  FloatBlocks moved = std::move(blocks);
  float last = 0;
  moved.CopyOut(all.size() - 1, 1, &last);
  EXPECT_EQ(last, all.back());
}

TEST(FloatBlocks, ASmallSequenceHoldsOneSmallBlock) {
  FloatBlocks blocks;
  blocks.Append(std::vector<float>{1, 2, 3});
  EXPECT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks.MemoryBytes(), 4096u);
  float out[2];
  blocks.CopyOut(1, 2, out);
  EXPECT_EQ(out[0], 2);
  EXPECT_EQ(out[1], 3);
}

}  // namespace
}  // namespace aad
