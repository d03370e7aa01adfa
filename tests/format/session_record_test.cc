// Folding a label history into current labels, withdrawals included, and
// the one rule for withdrawals that the session, the stores and
// ValidateSessionRecord share.
#include "format/session_record.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/format/record_test_util.h"

namespace aad {
namespace {

using ::aad::testing::MakeBatch;

std::vector<int64_t> Rows(const std::vector<LabelRecord>& labels) {
  std::vector<int64_t> rows;
  for (const LabelRecord& l : labels) rows.push_back(l.row_id);
  return rows;
}

TEST(CurrentLabelsTest, AWithdrawalRemovesTheRowAndARelabelJoinsAtTheEnd) {
  const std::vector<LabelRecord> history = {
      {5, true, 1}, {2, false, 2}, {8, true, 3},
      {5, false, 4, /*withdrawn=*/true},  // row 5 leaves
      {2, true, 5},                       // a relabel stays in place
      {5, false, 6},                      // row 5 comes back last
  };
  const std::vector<LabelRecord> current = CurrentLabels(history);
  EXPECT_EQ(Rows(current), (std::vector<int64_t>{2, 8, 5}));
  EXPECT_TRUE(current[0].anomaly);
  EXPECT_EQ(current[0].time_micros, 5);
  EXPECT_FALSE(current[2].anomaly);
  for (const LabelRecord& l : current) EXPECT_FALSE(l.withdrawn) << "row " << l.row_id;
}

TEST(CurrentLabelsTest, WithdrawingEveryLabelLeavesNone) {
  EXPECT_TRUE(CurrentLabels({{1, true, 1}, {1, false, 2, true}}).empty());
}

TEST(CheckWithdrawalsTest, EachWithdrawalNeedsALabelJustBeforeIt) {
  auto none = [](int64_t) -> absl::StatusOr<bool> { return false; };
  auto row_four = [](int64_t row) -> absl::StatusOr<bool> { return row == 4; };
  EXPECT_TRUE(CheckWithdrawals({{4, false, 1, true}}, row_four).ok());
  // Labelled and withdrawn in one submission.
  EXPECT_TRUE(CheckWithdrawals({{6, true, 1}, {6, false, 1, true}}, none).ok());
  // The second withdrawal of a row finds it unlabelled.
  absl::Status twice = CheckWithdrawals({{4, false, 1, true}, {4, false, 1, true}}, row_four);
  EXPECT_EQ(twice.code(), absl::StatusCode::kNotFound) << twice;
  EXPECT_NE(twice.message().find("label 2 of 2 withdraws row id 4"), std::string::npos) << twice;
  absl::Status unlabelled = CheckWithdrawals({{3, true, 1}, {9, false, 1, true}}, row_four);
  EXPECT_EQ(unlabelled.code(), absl::StatusCode::kNotFound) << unlabelled;
  EXPECT_NE(unlabelled.message().find("row id 9"), std::string::npos) << unlabelled;
  // The lookup's own error comes back as is.
  auto failing = [](int64_t) -> absl::StatusOr<bool> {
    return absl::UnavailableError("store busy");
  };
  EXPECT_EQ(CheckWithdrawals({{4, false, 1, true}}, failing).code(),
            absl::StatusCode::kUnavailable);
}

TEST(ValidateSessionRecordTest, CurrentLabelsMustNotHoldAWithdrawal) {
  SessionRecord record;
  record.id = "s";
  record.batches = {MakeBatch("b", 0, 10, 2, 1)};
  record.label_history = {{1, true, 1}, {1, false, 2, true}, {2, true, 3}};
  record.labels = CurrentLabels(record.label_history);
  EXPECT_TRUE(ValidateSessionRecord(record, "test").ok());
  record.labels = {{1, true, 1}, {2, true, 3}};  // the withdrawn row kept
  EXPECT_EQ(ValidateSessionRecord(record, "test").code(), absl::StatusCode::kDataLoss);
  record.labels = {{2, false, 3, true}};
  EXPECT_EQ(ValidateSessionRecord(record, "test").code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace aad
