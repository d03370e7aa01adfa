// Per-column standardisation: (x - mean) / stddev, fit once on a session's
// data and applied to every row the model sees.
#ifndef AADD_CORE_DATA_STANDARDIZER_H_
#define AADD_CORE_DATA_STANDARDIZER_H_

#include "absl/status/statusor.h"
#include "core/data/pool_rows.h"
#include "core/nn/tensor.h"
#include "core/util/byte_stream.h"

namespace aad {

// Immutable after Fit(); Transform is const and thread-safe.
class Standardizer {
 public:
  Standardizer() = default;

  // Computes column means and standard deviations (population, accumulated
  // in double). A constant column (stddev below 1e-12 relative to its scale)
  // gets scale 1, so it maps to 0 without a division by zero.
  void Fit(const ConstMatrixRef& x);
  // The same from rows in chunks (a row at a time, in order: the same bits).
  void Fit(const PoolRows& x);

  // out = (x - mean) / scale. `out` is resized only if its shape differs, so a
  // reused buffer does not allocate. Requires x.cols() == dims(); otherwise,
  // as there is no status to return, the output is filled with NaN.
  void Transform(const ConstMatrixRef& x, Matrix* out) const;
  void TransformInPlace(MatrixRef x) const;

  int dims() const { return static_cast<int>(mean_.size()); }
  const RowVector& mean() const { return mean_; }
  const RowVector& scale() const { return scale_; }

  void Serialize(ByteWriter* out) const;
  static absl::StatusOr<Standardizer> Deserialize(ByteReader* in);

 private:
  RowVector mean_;
  RowVector scale_;
};

}  // namespace aad

#endif  // AADD_CORE_DATA_STANDARDIZER_H_
