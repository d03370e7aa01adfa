#include "server/row_pool.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace aad {

void RowPool::Append(int64_t feature_count, absl::Span<const float> values) {
  feature_count_ = feature_count;
  const size_t width = static_cast<size_t>(feature_count);
  const float* in = values.data();
  int64_t left = static_cast<int64_t>(values.size() / width);
  while (left > 0) {
    const int64_t at = rows_ % PoolRows::kChunkRows;
    if (at == 0) {
      // new float[] leaves the chunk uninitialised.
      chunks_.emplace_back(new float[PoolRows::kChunkRows * width],
                           std::default_delete<float[]>());
    }
    const int64_t n = std::min(left, PoolRows::kChunkRows - at);
    std::memcpy(chunks_.back().get() + at * width, in, sizeof(float) * width * n);
    in += n * width;
    left -= n;
    rows_ += n;
  }
}

void RowPool::Gather(absl::Span<const int64_t> ids, std::vector<float>* out) const {
  const size_t width = static_cast<size_t>(feature_count_);
  size_t at = out->size();
  out->resize(at + ids.size() * width);
  for (int64_t r : ids) {
    std::memcpy(out->data() + at,
                chunks_[r / PoolRows::kChunkRows].get() + (r % PoolRows::kChunkRows) * width,
                sizeof(float) * width);
    at += width;
  }
}

PoolRows RowPool::Snapshot() const {
  return PoolRows(feature_count_, {chunks_.begin(), chunks_.end()}, rows_);
}

}  // namespace aad
