#include "server/row_pool.h"

#include <vector>

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
  ASSERT_NE(pool.FindBatch("a"), nullptr);
  EXPECT_EQ(pool.FindBatch("a")->row_count, 2);
  EXPECT_EQ(pool.FindBatch("b"), nullptr);
  std::vector<float> out = {9};
  pool.Gather(std::vector<int64_t>{2, 0}, &out);
  EXPECT_EQ(out, (std::vector<float>{9, 5, 6, 1, 2}));
}

TEST(RowPool, TheTrainingMatrixIsSharedUntilRowsArrive) {
  RowPool pool(2);
  pool.Append(2, std::vector<float>{1, 2, 3, 4});
  std::shared_ptr<const Matrix> a = pool.AsMatrix();
  EXPECT_EQ(pool.AsMatrix(), a) << "no rows arrived: the same copy";
  EXPECT_EQ((*a)(1, 0), 3.0f);
  pool.Append(2, std::vector<float>{7, 8});
  std::shared_ptr<const Matrix> b = pool.AsMatrix();
  EXPECT_NE(b, a);
  EXPECT_EQ(b->rows(), 3);
  EXPECT_EQ(a->rows(), 2) << "a holder keeps its copy";
}

}  // namespace
}  // namespace aad
