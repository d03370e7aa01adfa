// The UAI layer's region block: one weight per leaf of each tree of the
// Isolation Forest. A row reaches one leaf in each tree, and its region
// logit is the sum of those leaves' weights, so a label moves the scores of
// exactly the rows that share leaves with it: the layer can learn "rows like
// this one are anomalies" where no detector isolates them (AAD's model is
// this block alone).
//
// Weights are held in fixed point (kQuantum logit units, int32). A row's
// sum is then exact and independent of the order in which it is added up,
// so the pool cache, a fresh Score() and a restart give the same bits
// whatever loop computes them.
#ifndef AADD_CORE_ACTIVE_LEAF_WEIGHTS_H_
#define AADD_CORE_ACTIVE_LEAF_WEIGHTS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/util/byte_stream.h"

namespace aad {

// Leaf ordinals of rows: rows x trees, row-major, one byte each (a forest
// of at most 256 samples a tree has at most 256 leaves a tree).
using LeafCode = uint8_t;

class LeafCodeBlocks;

// Immutable once built by its owner; const methods are thread-safe.
class LeafWeights {
 public:
  static constexpr int kLeavesPerTree = 256;
  // Logit units of one step of a weight.
  static constexpr double kQuantum = 1.0 / 65536.0;

  // No region block (trees() == 0).
  LeafWeights() = default;
  // All weights zero: every row's region logit is 0.
  explicit LeafWeights(int trees);

  bool empty() const { return trees_ == 0; }
  int trees() const { return trees_; }
  // trees() * kLeavesPerTree: the leaf index space, tree t owning
  // [t * kLeavesPerTree, (t + 1) * kLeavesPerTree).
  int size() const { return static_cast<int>(q_.size()); }

  // Weight of leaf `index` (see size()) in logit units.
  double Get(int index) const { return q_[index] * kQuantum; }
  // Rounds `value` to the nearest step, clamped to +-max_weight() so that a
  // row's sum over every tree cannot overflow.
  void Set(int index, double value);
  void Clear();
  double max_weight() const { return max_q_ * kQuantum; }

  // logits[r] += region logit of row r, for `rows` rows of `codes`
  // (rows x trees()). Requires codes.size() == rows * trees().
  void AddTo(absl::Span<const LeafCode> codes, int64_t rows, float* logits) const;
  // The same for the rows of `codes` (codes.rows() of them, codes.trees()
  // == trees()), the same bits: integer sums do not depend on the order of
  // their terms.
  void AddTo(const LeafCodeBlocks& codes, float* logits) const;

  void Serialize(ByteWriter* out) const;
  static absl::StatusOr<LeafWeights> Deserialize(ByteReader* in);

 private:
  int trees_ = 0;
  int32_t max_q_ = 0;
  std::vector<int32_t> q_;  // trees_ x kLeavesPerTree
};

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_LEAF_WEIGHTS_H_
