#include "server/label_book.h"

#include <vector>

#include "gtest/gtest.h"

namespace aad {
namespace {

TEST(LabelBook, KeepsFirstGivenOrderAndARelabelReplacesInPlace) {
  LabelBook book;
  book.Apply({5, true});
  book.Apply({2, false});
  book.Apply({5, false});  // relabel
  book.Apply({7, true});
  ASSERT_EQ(book.size(), 3);
  EXPECT_EQ(book.labels()[0].row, 5);
  EXPECT_FALSE(book.labels()[0].anomaly);
  EXPECT_EQ(book.labels()[1].row, 2);
  EXPECT_EQ(book.labels()[2].row, 7);
  EXPECT_EQ(book.anomalies(), 1);
  book.Apply({2, true});
  EXPECT_EQ(book.anomalies(), 2);
  EXPECT_EQ(book.LabelledFlags(8), (std::vector<uint8_t>{0, 0, 1, 0, 0, 1, 0, 1}));
  EXPECT_EQ(book.LabelledFlags(4), (std::vector<uint8_t>{0, 0, 1, 0}));
}

TEST(LabelBook, AWithdrawnRowLeavesAndALaterLabelJoinsAtTheEnd) {
  LabelBook book;
  book.Apply({5, true});
  book.Apply({2, false});
  book.Apply({7, true});
  ASSERT_EQ(book.anomalies(), 2);
  EXPECT_TRUE(book.Withdraw(5));
  EXPECT_FALSE(book.Contains(5));
  ASSERT_EQ(book.size(), 2);
  EXPECT_EQ(book.labels()[0].row, 2);
  EXPECT_EQ(book.labels()[1].row, 7);
  EXPECT_EQ(book.anomalies(), 1);
  EXPECT_EQ(book.LabelledFlags(8), (std::vector<uint8_t>{0, 0, 1, 0, 0, 0, 0, 1}));
  // Positions after the withdrawn row moved: a relabel must still find them.
  book.Apply({7, false});
  EXPECT_EQ(book.anomalies(), 0);
  book.Apply({5, true});  // labelled again: last in the order
  ASSERT_EQ(book.size(), 3);
  EXPECT_EQ(book.labels()[2].row, 5);
  EXPECT_EQ(book.anomalies(), 1);
  EXPECT_FALSE(book.Withdraw(9)) << "row 9 has no label";
  EXPECT_EQ(book.size(), 3);
  EXPECT_TRUE(book.Withdraw(2));
  EXPECT_TRUE(book.Withdraw(7));
  EXPECT_TRUE(book.Withdraw(5));
  EXPECT_EQ(book.size(), 0);
  EXPECT_EQ(book.anomalies(), 0);
  EXPECT_FALSE(book.Withdraw(5)) << "withdrawn twice";
}

}  // namespace
}  // namespace aad
