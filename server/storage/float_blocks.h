// FloatBlocks: a growing sequence of floats (a session's rows, row-major)
// kept in blocks that never move, from 4 KiB doubling to 1 MiB. A growing
// std::vector held up to twice the rows' bytes: its spare capacity, and the
// buffers it left behind each time it doubled, which stay resident once the
// allocator serves such sizes from its heap. Here at most the last block is
// partly filled, and it is not zeroed: its untouched pages cost nothing.
// Not thread-safe; the owner guards it.
#ifndef AADD_SERVER_STORAGE_FLOAT_BLOCKS_H_
#define AADD_SERVER_STORAGE_FLOAT_BLOCKS_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/types/span.h"

namespace aad {

class FloatBlocks {
 public:
  FloatBlocks() = default;
  FloatBlocks(FloatBlocks&&) = default;
  FloatBlocks& operator=(FloatBlocks&&) = default;
  FloatBlocks(const FloatBlocks&) = delete;
  FloatBlocks& operator=(const FloatBlocks&) = delete;

  size_t size() const { return size_; }
  void Append(absl::Span<const float> values);
  // Copies floats [first, first + count) to out[0, count); the range must
  // lie within size().
  void CopyOut(size_t first, size_t count, float* out) const;
  // Bytes of the blocks.
  size_t MemoryBytes() const { return capacity_ * sizeof(float); }

 private:
  std::vector<std::unique_ptr<float[]>> blocks_;
  std::vector<size_t> starts_;  // index of each block's first float
  size_t capacity_ = 0;         // floats in all blocks
  size_t size_ = 0;
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_FLOAT_BLOCKS_H_
