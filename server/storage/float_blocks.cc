#include "server/storage/float_blocks.h"

#include <algorithm>
#include <cstring>

namespace aad {
namespace {

constexpr size_t kFirstBlockFloats = 1024;       // 4 KiB
constexpr size_t kMaxBlockFloats = 256 * 1024;   // 1 MiB

}  // namespace

void FloatBlocks::Append(absl::Span<const float> values) {
  const float* in = values.data();
  size_t left = values.size();
  while (left > 0) {
    if (size_ == capacity_) {
      const size_t floats = std::min(kMaxBlockFloats, std::max(kFirstBlockFloats, capacity_));
      // new float[] leaves the block uninitialised: pages not yet written
      // stay out of the resident set.
      blocks_.emplace_back(new float[floats]);
      starts_.push_back(capacity_);
      capacity_ += floats;
    }
    const size_t n = std::min(left, capacity_ - size_);
    std::memcpy(blocks_.back().get() + (size_ - starts_.back()), in, n * sizeof(float));
    in += n;
    left -= n;
    size_ += n;
  }
}

void FloatBlocks::CopyOut(size_t first, size_t count, float* out) const {
  if (count == 0) return;
  // The block holding `first`: the last that starts at or before it.
  size_t b = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), first) -
                                 starts_.begin()) -
             1;
  while (count > 0) {
    const size_t end = b + 1 < starts_.size() ? starts_[b + 1] : capacity_;
    const size_t n = std::min(count, end - first);
    std::memcpy(out, blocks_[b].get() + (first - starts_[b]), n * sizeof(float));
    out += n;
    first += n;
    count -= n;
    ++b;
  }
}

}  // namespace aad
