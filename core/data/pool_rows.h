// PoolRows: a pool's rows, row-major, in chunks of kChunkRows rows that
// never move and are never written again below rows(). A session holds its
// rows once, in such chunks, and hands the learner a snapshot: a copy of
// the chunk pointers (shared, so the snapshot keeps them alive) and of the
// row count. Rows appended to the session later land past the snapshot's
// rows(), in memory the snapshot never reads, so it is read without the
// session's lock while the session goes on ingesting.
//
// A view of one contiguous matrix (offline evaluation, benchmarks, tests)
// is a PoolRows too, without a copy; it is valid while the matrix lives.
#ifndef AADD_CORE_DATA_POOL_ROWS_H_
#define AADD_CORE_DATA_POOL_ROWS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "core/nn/tensor.h"

namespace aad {

class PoolRows {
 public:
  static constexpr int64_t kChunkRows = 4096;

  PoolRows() = default;
  // Rows [0, rows) of `chunks`, each kChunkRows x cols floats (the last one
  // may be filled only in part); rows <= chunks.size() * kChunkRows.
  PoolRows(int64_t cols, std::vector<std::shared_ptr<const float>> chunks, int64_t rows);
  // The rows of `m`, not copied: m must outlive the view.
  static PoolRows View(const ConstMatrixRef& m);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }

  // Row r, cols() floats; r in [0, rows()).
  const float* Row(int64_t r) const {
    return chunks_[r / kChunkRows].get() + (r % kChunkRows) * stride_;
  }
  // Rows [first, first + len) in place, when they lie in one chunk (first
  // and len within one multiple of kChunkRows).
  Eigen::Map<const Matrix, 0, Eigen::OuterStride<>> Block(int64_t first, int64_t len) const {
    return {Row(first), len, cols_, Eigen::OuterStride<>(stride_)};
  }
  // Rows [first, first + out.rows()) into out (cols() wide).
  void Copy(int64_t first, MatrixRef out) const;
  // Rows `ids` (each in [0, rows())) into out, one row per id; resizes out.
  void Gather(absl::Span<const int64_t> ids, Matrix* out) const;

 private:
  int64_t cols_ = 0, rows_ = 0;
  // Floats from one row to the next: cols_, or a viewed matrix's stride.
  int64_t stride_ = 0;
  std::vector<std::shared_ptr<const float>> chunks_;
};

}  // namespace aad

#endif  // AADD_CORE_DATA_POOL_ROWS_H_
