#include "core/data/pool_rows.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace aad {

PoolRows::PoolRows(int64_t cols, std::vector<std::shared_ptr<const float>> chunks, int64_t rows)
    : cols_(cols), rows_(rows), stride_(cols), chunks_(std::move(chunks)) {}

PoolRows PoolRows::View(const ConstMatrixRef& m) {
  PoolRows view;
  view.cols_ = m.cols();
  view.rows_ = m.rows();
  view.stride_ = m.rows() > 1 ? m.outerStride() : m.cols();
  for (int64_t r = 0; r < view.rows_; r += kChunkRows) {
    // Not owned: an aliasing pointer with no owner.
    view.chunks_.emplace_back(std::shared_ptr<const float>(), m.data() + r * view.stride_);
  }
  return view;
}

void PoolRows::Copy(int64_t first, MatrixRef out) const {
  const int64_t n = out.rows();
  const size_t bytes = sizeof(float) * static_cast<size_t>(cols_);
  for (int64_t i = 0; i < n;) {
    const int64_t r = first + i;
    // Rows r.. to the end of r's chunk are evenly spaced.
    const int64_t run = std::min(n - i, kChunkRows - r % kChunkRows);
    const float* src = Row(r);
    if (stride_ == cols_ && out.outerStride() == cols_) {
      std::memcpy(out.row(i).data(), src, bytes * static_cast<size_t>(run));
    } else {
      for (int64_t j = 0; j < run; ++j) std::memcpy(out.row(i + j).data(), src + j * stride_, bytes);
    }
    i += run;
  }
}

void PoolRows::Gather(absl::Span<const int64_t> ids, Matrix* out) const {
  out->resize(static_cast<Eigen::Index>(ids.size()), cols_);
  const size_t bytes = sizeof(float) * static_cast<size_t>(cols_);
  for (size_t i = 0; i < ids.size(); ++i) std::memcpy(out->row(i).data(), Row(ids[i]), bytes);
}

}  // namespace aad
