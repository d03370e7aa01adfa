// Isolation Forest (Liu, Ting, Zhou 2008): an ensemble of random isolation
// trees on subsamples; rows isolated in few splits are anomalous.
#ifndef AADD_CORE_DETECTORS_ISOLATION_FOREST_H_
#define AADD_CORE_DETECTORS_ISOLATION_FOREST_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/nn/tensor.h"
#include "core/util/byte_stream.h"

namespace aad {

struct IsolationForestOptions {
  int num_trees = 100;    // ensemble size
  int sample_size = 256;  // rows per tree (capped at the data's row count)
  uint64_t seed = 1;
};

// Fit() once, then Score() is const and thread-safe.
class IsolationForest {
 public:
  explicit IsolationForest(IsolationForestOptions options = {}) : options_(options) {}

  // Grows the trees on `x` (one row per sample). INVALID_ARGUMENT when x is
  // empty or the options are out of range. Deterministic given the seed.
  absl::Status Fit(const ConstMatrixRef& x);

  // Writes s(x) = 2^(-E[h(x)] / c(sample_size)) in (0, 1] for each row of x
  // into out (out.size() == x.rows()); higher means more anomalous.
  void Score(const ConstMatrixRef& x, absl::Span<float> out) const;

  bool fitted() const { return !nodes_.empty(); }
  int dims() const { return dims_; }

  void Serialize(ByteWriter* out) const;
  static absl::StatusOr<IsolationForest> Deserialize(ByteReader* in);

 private:
  // Flat node storage: all trees' nodes in one vector, each tree a root index.
  struct Node {
    int32_t feature;  // -1 for a leaf
    float threshold;  // split value (internal nodes)
    int32_t left;     // child indices (internal nodes)
    int32_t right;
    float leaf_depth;  // depth + c(size) adjustment (leaves)
  };

  IsolationForestOptions options_;
  int dims_ = 0;
  float normaliser_ = 1.0f;  // c(sample_size)
  std::vector<int32_t> roots_;
  std::vector<Node> nodes_;
};

}  // namespace aad

#endif  // AADD_CORE_DETECTORS_ISOLATION_FOREST_H_
