#include "server/row_validation.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

using ::testing::HasSubstr;

TEST(RowValidation, ShapeCountAndFinitenessNameTheValue) {
  EXPECT_TRUE(ValidateRows(std::vector<float>{1, 2, 3, 4}, 2, 0, 16, "batch").ok());
  EXPECT_TRUE(ValidateRows(std::vector<float>{1, 2}, 2, 2, 16, "batch").ok());
  absl::Status empty = ValidateRows({}, 2, 0, 16, "batch 'b'");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.message(), HasSubstr("batch 'b'"));
  absl::Status ragged = ValidateRows(std::vector<float>{1, 2, 3}, 2, 0, 16, "batch");
  EXPECT_EQ(ragged.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ragged.message(), HasSubstr("3"));
  absl::Status width = ValidateRows(std::vector<float>{1, 2, 3}, 3, 2, 16, "score request");
  EXPECT_EQ(width.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(width.message(), HasSubstr("3"));
  EXPECT_THAT(width.message(), HasSubstr("2"));
  absl::Status wide = ValidateRows(std::vector<float>(20, 1.0f), 20, 0, 16, "batch");
  EXPECT_EQ(wide.code(), absl::StatusCode::kResourceExhausted);
  std::vector<float> nan = {1, 2, 3, std::numeric_limits<float>::quiet_NaN()};
  absl::Status bad = ValidateRows(nan, 2, 0, 16, "batch");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("row 1"));
  std::vector<float> inf = {std::numeric_limits<float>::infinity(), 2};
  EXPECT_EQ(ValidateRows(inf, 2, 0, 16, "batch").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace aad
