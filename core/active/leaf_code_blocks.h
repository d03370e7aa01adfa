// The pool's leaf codes (each row's leaf in every tree of the forest) laid
// out for the region logits of a whole pool: blocks of kBlockRows rows, and
// inside a block tree by tree, so the codes of one tree for 64 consecutive
// rows are 64 adjacent bytes, one AVX-512 register. LeafWeights::AddTo over
// these blocks then looks 64 rows up in a tree's weights with in-register
// byte permutes instead of one gathered load per row and tree, the cost of
// a feedback round at 1M rows (bench/README.md, "Feedback round and ingest
// at 1M rows"). The codes of rows past rows() in the last block are some
// leaf's (a valid index) and never read as a row's.
#ifndef AADD_CORE_ACTIVE_LEAF_CODE_BLOCKS_H_
#define AADD_CORE_ACTIVE_LEAF_CODE_BLOCKS_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/active/leaf_weights.h"

namespace aad {

class LeafCodeBlocks {
 public:
  static constexpr int64_t kBlockRows = 64;

  LeafCodeBlocks() = default;

  int64_t rows() const { return rows_; }
  int trees() const { return trees_; }
  bool empty() const { return rows_ == 0; }

  // No rows, `trees` codes a row.
  void Reset(int trees);
  // Keeps rows [0, min(rows, rows())); new rows hold code 0 until set.
  void Resize(int64_t rows);
  // Writes rows [first, first + n) from row-major codes (n x trees()).
  // Requires first + n <= rows().
  void SetRows(int64_t first, absl::Span<const LeafCode> row_major);
  // Writes row r's codes (trees() of them, tree order) to out.
  void CopyRow(int64_t r, LeafCode* out) const;

  // Block b: trees() x kBlockRows codes, tree-major.
  const LeafCode* block(int64_t b) const {
    return codes_.data() + static_cast<size_t>(b) * trees_ * kBlockRows;
  }
  int64_t block_count() const { return (rows_ + kBlockRows - 1) / kBlockRows; }

 private:
  size_t Index(int64_t r, int t) const {
    return static_cast<size_t>(r / kBlockRows) * trees_ * kBlockRows +
           static_cast<size_t>(t) * kBlockRows + static_cast<size_t>(r % kBlockRows);
  }

  int trees_ = 0;
  int64_t rows_ = 0;
  std::vector<LeafCode> codes_;  // block_count() * trees_ * kBlockRows
};

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_LEAF_CODE_BLOCKS_H_
