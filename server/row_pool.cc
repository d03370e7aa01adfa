#include "server/row_pool.h"

#include <algorithm>
#include <utility>

namespace aad {

void RowPool::Append(int64_t feature_count, absl::Span<const float> values) {
  feature_count_ = feature_count;
  values_.insert(values_.end(), values.begin(), values.end());
  rows_ += static_cast<int64_t>(values.size()) / feature_count;
}

void RowPool::Gather(absl::Span<const int64_t> ids, std::vector<float>* out) const {
  out->reserve(out->size() + ids.size() * feature_count_);
  for (int64_t r : ids) {
    out->insert(out->end(), values_.begin() + r * feature_count_,
                values_.begin() + (r + 1) * feature_count_);
  }
}

std::shared_ptr<const Matrix> RowPool::AsMatrix() {
  if (matrix_ == nullptr || matrix_->rows() != rows_) {
    auto matrix = std::make_shared<Matrix>(rows_, feature_count_);
    std::copy(values_.begin(), values_.end(), matrix->data());
    matrix_ = std::move(matrix);
  }
  return matrix_;
}

}  // namespace aad
