// A session's rows in memory: row-major floats of one feature count, the
// client batch ids they arrived with (so a retried batch is answered with
// its first ids; kept compact, BatchIndex, as small batches make them a
// large part of the pool), and a matrix copy for training that is reused
// while no rows arrive. The floats are kept in blocks that never move
// (FloatBlocks), not a vector: a growing vector held up to twice the rows'
// bytes (its spare capacity, and the buffers it left behind as it doubled,
// which stay resident). Not thread-safe: the owning Session guards it.
#ifndef AADD_SERVER_ROW_POOL_H_
#define AADD_SERVER_ROW_POOL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/nn/tensor.h"
#include "server/storage/batch_index.h"
#include "server/storage/float_blocks.h"

namespace aad {

class RowPool {
 public:
  // Where a client batch landed.
  using BatchSpan = BatchIndex::Span;

  // `feature_count` 0: fixed by the first Append.
  explicit RowPool(int64_t feature_count) : feature_count_(feature_count) {}

  int64_t rows() const { return rows_; }
  int64_t feature_count() const { return feature_count_; }

  // The batch stored under `batch_id`, if any.
  std::optional<BatchSpan> FindBatch(absl::string_view batch_id) const {
    return batches_.Find(batch_id);
  }
  // Stores `span` under `batch_id` (replacing an earlier one).
  void RememberBatch(absl::string_view batch_id, BatchSpan span) {
    batches_.Insert(batch_id, span);
  }
  int64_t batch_count() const { return static_cast<int64_t>(batches_.size()); }
  // Heap bytes of the batch ids and their spans.
  size_t BatchMemoryBytes() const { return batches_.MemoryBytes(); }

  // Appends validated rows: values.size() is a multiple of feature_count,
  // which matches feature_count() unless that is still 0.
  void Append(int64_t feature_count, absl::Span<const float> values);

  // Rows `ids` (each in [0, rows())), row-major, appended to *out.
  void Gather(absl::Span<const int64_t> ids, std::vector<float>* out) const;

  // The rows as a matrix, shared with training: a new copy only after rows
  // arrived. It stays valid as long as a caller holds it.
  std::shared_ptr<const Matrix> AsMatrix();

 private:
  int64_t feature_count_;
  int64_t rows_ = 0;
  FloatBlocks values_;  // rows_ x feature_count_
  BatchIndex batches_;
  std::shared_ptr<const Matrix> matrix_;
};

}  // namespace aad

#endif  // AADD_SERVER_ROW_POOL_H_
