// A session's rows in memory, held once: row-major floats of one feature
// count in chunks of PoolRows::kChunkRows rows that never move, and the
// client batch ids they arrived with (so a retried batch is answered with
// its first ids; kept compact, BatchIndex, as small batches make them a
// large part of the pool). Training reads a snapshot of the chunks
// (Snapshot()), not a copy of the rows. A chunk is allocated uninitialised
// when its first row arrives: pages not yet written stay out of the
// resident set. Not thread-safe: the owning Session guards it; a snapshot
// is read without that lock (rows are only ever appended past it).
#ifndef AADD_SERVER_ROW_POOL_H_
#define AADD_SERVER_ROW_POOL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/data/pool_rows.h"
#include "server/storage/batch_index.h"

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

  // Rows [0, rows()) as they are now, without a copy: the chunks are
  // shared, and stay readable while a holder keeps the snapshot.
  PoolRows Snapshot() const;

 private:
  int64_t feature_count_;
  int64_t rows_ = 0;
  // rows_ x feature_count_, kChunkRows rows a chunk; written only past rows_.
  std::vector<std::shared_ptr<float>> chunks_;
  BatchIndex batches_;
};

}  // namespace aad

#endif  // AADD_SERVER_ROW_POOL_H_
