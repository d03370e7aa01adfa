#include "server/row_pool.h"

#include <utility>

namespace aad {

void RowPool::Append(int64_t feature_count, absl::Span<const float> values) {
  feature_count_ = feature_count;
  values_.Append(values);
  rows_ += static_cast<int64_t>(values.size()) / feature_count;
}

void RowPool::Gather(absl::Span<const int64_t> ids, std::vector<float>* out) const {
  const size_t width = static_cast<size_t>(feature_count_);
  size_t at = out->size();
  out->resize(at + ids.size() * width);
  for (int64_t r : ids) {
    values_.CopyOut(static_cast<size_t>(r) * width, width, out->data() + at);
    at += width;
  }
}

std::shared_ptr<const Matrix> RowPool::AsMatrix() {
  if (matrix_ == nullptr || matrix_->rows() != rows_) {
    auto matrix = std::make_shared<Matrix>(rows_, feature_count_);
    values_.CopyOut(0, values_.size(), matrix->data());
    matrix_ = std::move(matrix);
  }
  return matrix_;
}

}  // namespace aad
