// A session's rows in memory: row-major floats of one feature count, the
// client batch ids they arrived with (so a retried batch is answered with
// its first ids), and a matrix copy for training that is reused while no
// rows arrive. Not thread-safe: the owning Session guards it.
#ifndef AADD_SERVER_ROW_POOL_H_
#define AADD_SERVER_ROW_POOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "core/nn/tensor.h"

namespace aad {

class RowPool {
 public:
  // Where a client batch landed.
  struct BatchSpan {
    int64_t first_row_id = 0;
    int64_t row_count = 0;
  };

  // `feature_count` 0: fixed by the first Append.
  explicit RowPool(int64_t feature_count) : feature_count_(feature_count) {}

  int64_t rows() const { return rows_; }
  int64_t feature_count() const { return feature_count_; }

  // The batch stored under `batch_id`, or null.
  const BatchSpan* FindBatch(const std::string& batch_id) const;
  void RememberBatch(const std::string& batch_id, BatchSpan span) { batches_[batch_id] = span; }

  // Appends validated rows: values.size() is a multiple of feature_count,
  // which matches feature_count() unless that is still 0.
  void Append(int64_t feature_count, absl::Span<const float> values);
  void Reserve(int64_t rows) { values_.reserve(static_cast<size_t>(rows * feature_count_)); }

  // Rows `ids` (each in [0, rows())), row-major, appended to *out.
  void Gather(absl::Span<const int64_t> ids, std::vector<float>* out) const;

  // The rows as a matrix, shared with training: a new copy only after rows
  // arrived. It stays valid as long as a caller holds it.
  std::shared_ptr<const Matrix> AsMatrix();

 private:
  int64_t feature_count_;
  int64_t rows_ = 0;
  std::vector<float> values_;  // rows_ x feature_count_
  absl::flat_hash_map<std::string, BatchSpan> batches_;
  std::shared_ptr<const Matrix> matrix_;
};

}  // namespace aad

#endif  // AADD_SERVER_ROW_POOL_H_
