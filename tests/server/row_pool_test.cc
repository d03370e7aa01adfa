#include "server/row_pool.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

TEST(RowPool, AppendsRowsRemembersBatchesAndGathers) {
  RowPool pool(0);
  EXPECT_EQ(pool.rows(), 0);
  pool.Append(2, std::vector<float>{1, 2, 3, 4});
  pool.RememberBatch("a", {0, 2});
  pool.Append(2, std::vector<float>{5, 6});
  EXPECT_EQ(pool.rows(), 3);
  EXPECT_EQ(pool.feature_count(), 2);
  ASSERT_TRUE(pool.FindBatch("a").has_value());
  EXPECT_EQ(pool.FindBatch("a")->row_count, 2);
  EXPECT_FALSE(pool.FindBatch("b").has_value());
  std::vector<float> out = {9};
  pool.Gather(std::vector<int64_t>{2, 0}, &out);
  EXPECT_EQ(out, (std::vector<float>{9, 5, 6, 1, 2}));
}

// One row a batch: the batch ids are most of what the pool holds, so they
// are kept compact (issue 17: ~600 bytes of RSS a 32-byte row were seen with
// batches of 1-6 rows). The same answers as before for every id.
TEST(RowPool, ManyOneRowBatchesKeepTheirIdsCompactly) {
  RowPool pool(8);
  constexpr int64_t kRows = 100000;
  const std::vector<float> row(8, 1.5f);
  for (int64_t r = 0; r < kRows; ++r) {
    pool.Append(8, row);
    pool.RememberBatch(absl::StrFormat("%016x-%d", uint64_t{0xfeedfacecafe0123}, r), {r, 1});
  }
  EXPECT_EQ(pool.rows(), kRows);
  EXPECT_EQ(pool.batch_count(), kRows);
  for (int64_t r = 0; r < kRows; r += 997) {
    auto span = pool.FindBatch(absl::StrFormat("%016x-%d", uint64_t{0xfeedfacecafe0123}, r));
    ASSERT_TRUE(span.has_value()) << r;
    EXPECT_EQ(span->first_row_id, r);
    EXPECT_EQ(span->row_count, 1);
  }
  EXPECT_FALSE(pool.FindBatch("feedfacecafe0123-100000").has_value());
  EXPECT_LT(static_cast<double>(pool.BatchMemoryBytes()) / kRows, 48.0);
  // A batch remembered again (the store knew it) answers its new span.
  pool.RememberBatch("feedfacecafe0123-5", {7, 2});
  EXPECT_EQ(pool.FindBatch("feedfacecafe0123-5")->first_row_id, 7);
  EXPECT_EQ(pool.batch_count(), kRows);
}

// The rows live in chunks of PoolRows::kChunkRows rows: batches that
// straddle two chunks (7 features, ragged batch sizes) come back exactly,
// one by one and through a snapshot.
TEST(RowPool, RowsAcrossChunksComeBackExactly) {
  RowPool pool(0);
  constexpr int kFeatures = 7;
  constexpr int64_t kRows = 2 * PoolRows::kChunkRows + 905;
  auto value = [](int64_t r, int c) { return static_cast<float>(r) + c / 8.0f; };
  for (int64_t first = 0; first < kRows;) {
    const int64_t n = std::min<int64_t>(kRows - first, 1 + first % 1013);
    std::vector<float> batch;
    for (int64_t r = first; r < first + n; ++r) {
      for (int c = 0; c < kFeatures; ++c) batch.push_back(value(r, c));
    }
    pool.Append(kFeatures, batch);
    first += n;
  }
  ASSERT_EQ(pool.rows(), kRows);
  const PoolRows rows = pool.Snapshot();
  ASSERT_EQ(rows.rows(), kRows);
  ASSERT_EQ(rows.cols(), kFeatures);
  for (int64_t r = 0; r < kRows; ++r) {
    for (int c = 0; c < kFeatures; ++c) ASSERT_EQ(rows.Row(r)[c], value(r, c)) << r << "," << c;
  }
  // A block that crosses both chunk boundaries, copied in one call.
  Matrix block(PoolRows::kChunkRows + 20, kFeatures);
  rows.Copy(PoolRows::kChunkRows - 10, block);
  for (int64_t i = 0; i < block.rows(); ++i) {
    ASSERT_EQ(block(i, 3), value(PoolRows::kChunkRows - 10 + i, 3)) << i;
  }
  std::vector<float> out;
  pool.Gather(std::vector<int64_t>{kRows - 1, 18, 0, PoolRows::kChunkRows}, &out);
  ASSERT_EQ(out.size(), 4u * kFeatures);
  for (int c = 0; c < kFeatures; ++c) {
    EXPECT_EQ(out[c], value(kRows - 1, c));
    EXPECT_EQ(out[kFeatures + c], value(18, c));
    EXPECT_EQ(out[2 * kFeatures + c], value(0, c));
    EXPECT_EQ(out[3 * kFeatures + c], value(PoolRows::kChunkRows, c));
  }
}

// A snapshot is what training reads while ingest goes on: rows appended
// after it do not change what it holds, and it keeps its chunks alive.
TEST(RowPool, ASnapshotKeepsItsRowsWhileRowsArriveAndAfterThePoolIsGone) {
  auto pool = std::make_unique<RowPool>(2);
  pool->Append(2, std::vector<float>{1, 2, 3, 4});
  const PoolRows a = pool->Snapshot();
  std::vector<float> more;
  for (int64_t r = 0; r < PoolRows::kChunkRows; ++r) more.insert(more.end(), {7.0f, 8.0f});
  pool->Append(2, more);
  const PoolRows b = pool->Snapshot();
  pool.reset();
  EXPECT_EQ(a.rows(), 2);
  EXPECT_EQ(a.Row(1)[0], 3.0f);
  EXPECT_EQ(b.rows(), 2 + PoolRows::kChunkRows);
  EXPECT_EQ(b.Row(1)[1], 4.0f);
  EXPECT_EQ(b.Row(PoolRows::kChunkRows + 1)[1], 8.0f);
}

}  // namespace
}  // namespace aad
