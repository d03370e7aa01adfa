#include "server/storage/batch_index.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

using Span = BatchIndex::Span;

std::vector<std::pair<std::string, Span>> Entries(const BatchIndex& index) {
  std::vector<std::pair<std::string, Span>> out;
  index.ForEach([&](absl::string_view id, Span span) { out.emplace_back(std::string(id), span); });
  return out;
}

TEST(BatchIndex, FindsWhatWasInsertedAndNothingElse) {
  BatchIndex index;
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Find("a").has_value());
  index.Insert("a", {0, 2});
  index.Insert("ab", {2, 300});
  index.Insert("", {302, 1});  // the empty id is an id like any other
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Find("a"), (Span{0, 2}));
  EXPECT_EQ(index.Find("ab"), (Span{2, 300}));
  EXPECT_EQ(index.Find(""), (Span{302, 1}));
  EXPECT_FALSE(index.Find("b").has_value());
  EXPECT_FALSE(index.Find("a ").has_value());
  EXPECT_FALSE(index.Find(absl::string_view("a\0", 2)).has_value());
}

TEST(BatchIndex, InsertReplacesAndForEachKeepsInsertionOrder) {
  BatchIndex index;
  index.Insert("x", {0, 1});
  index.Insert("y", {1, 1});
  index.Insert("z", {2, 1});
  index.Insert("x", {7, 9});
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.Find("x"), (Span{7, 9}));
  const auto entries = Entries(index);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].first, "y");
  EXPECT_EQ(entries[1].first, "z");
  EXPECT_EQ(entries[2].first, "x") << "a replaced span is reported where it was replaced";
  EXPECT_EQ(entries[2].second, (Span{7, 9}));
}

TEST(BatchIndex, KeepsAnyIdAndAnySpanExactly) {
  BatchIndex index;
  const std::string binary("\x00\x01\xff\x80 id", 7);
  const std::string huge(200000, 'h');  // longer than an arena block
  const int64_t big = std::numeric_limits<int64_t>::max();
  index.Insert(binary, {big, 1});
  index.Insert(huge, {5, big});
  index.Insert("negative", {-1, std::numeric_limits<int64_t>::min()});
  index.Insert("after", {127, 128});
  EXPECT_EQ(index.Find(binary), (Span{big, 1}));
  EXPECT_EQ(index.Find(huge), (Span{5, big}));
  EXPECT_EQ(index.Find("negative"), (Span{-1, std::numeric_limits<int64_t>::min()}));
  EXPECT_EQ(index.Find("after"), (Span{127, 128}));
  EXPECT_FALSE(index.Find(std::string(199999, 'h')).has_value());
  const auto entries = Entries(index);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].first, binary);
  EXPECT_EQ(entries[1].first, huge);
  EXPECT_EQ(entries[3].first, "after");
}

// What the index is for: many small batches. Every id is found with its
// span, in order, like a flat_hash_map of strings would; and an entry for
// an AadClient-style id ("<16 hex digits>-<n>") costs far less than such a
// map's ~96 bytes.
TEST(BatchIndex, ManySmallBatchesAreCompactAndExact) {
  constexpr int64_t kBatches = 200000;
  BatchIndex index;
  absl::flat_hash_map<std::string, Span> reference;
  int64_t row = 0;
  for (int64_t n = 0; n < kBatches; ++n) {
    const std::string id = absl::StrFormat("%016x-%d", uint64_t{0x5eedc0ffee123456}, n);
    const Span span{row, 1 + n % 6};
    row += span.row_count;
    index.Insert(id, span);
    reference[id] = span;
  }
  ASSERT_EQ(index.size(), reference.size());
  for (const auto& [id, span] : reference) ASSERT_EQ(index.Find(id), span) << id;
  EXPECT_FALSE(index.Find("5eedc0ffee123456-200000").has_value());
  int64_t n = 0, next_row = 0;
  index.ForEach([&](absl::string_view id, Span span) {
    EXPECT_EQ(id, absl::StrFormat("%016x-%d", uint64_t{0x5eedc0ffee123456}, n));
    EXPECT_EQ(span.first_row_id, next_row);
    next_row += span.row_count;
    ++n;
  });
  EXPECT_EQ(n, kBatches);
  const double per_entry = static_cast<double>(index.MemoryBytes()) / kBatches;
  EXPECT_LT(per_entry, 48.0) << "bytes per 23-byte id and its span";
  EXPECT_GT(per_entry, 23.0);
}

TEST(BatchIndex, AMovedIndexKeepsItsEntries) {
  BatchIndex a;
  for (int i = 0; i < 1000; ++i) a.Insert(absl::StrCat("id-", i), {i, 1});
  BatchIndex b = std::move(a);
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_EQ(b.Find("id-999"), (Span{999, 1}));
  b.Insert("id-1000", {1000, 1});
  EXPECT_EQ(b.Find("id-1000"), (Span{1000, 1}));
}

}  // namespace
}  // namespace aad
