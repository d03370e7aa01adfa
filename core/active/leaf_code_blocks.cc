#include "core/active/leaf_code_blocks.h"

#include <algorithm>

namespace aad {

void LeafCodeBlocks::Reset(int trees) {
  trees_ = trees;
  rows_ = 0;
  codes_.clear();
}

void LeafCodeBlocks::Resize(int64_t rows) {
  const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows;
  codes_.resize(static_cast<size_t>(blocks) * trees_ * kBlockRows, 0);
  rows_ = rows;
}

void LeafCodeBlocks::SetRows(int64_t first, absl::Span<const LeafCode> row_major) {
  const int64_t n = trees_ == 0 ? 0 : static_cast<int64_t>(row_major.size()) / trees_;
  for (int64_t i = 0; i < n; ++i) {
    const LeafCode* row = row_major.data() + static_cast<size_t>(i) * trees_;
    for (int t = 0; t < trees_; ++t) codes_[Index(first + i, t)] = row[t];
  }
}

void LeafCodeBlocks::CopyRow(int64_t r, LeafCode* out) const {
  for (int t = 0; t < trees_; ++t) out[t] = codes_[Index(r, t)];
}

}  // namespace aad
