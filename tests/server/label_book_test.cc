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

}  // namespace
}  // namespace aad
