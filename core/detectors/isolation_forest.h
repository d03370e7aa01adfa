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
  // FAILED_PRECONDITION before Fit(); INVALID_ARGUMENT when x has not dims()
  // columns or out not x.rows() entries. On error nothing is read out of
  // bounds and every entry of out is NaN. Allocates nothing.
  absl::Status Score(const ConstMatrixRef& x, absl::Span<float> out) const;

  // Score() that also writes, for each row r and tree t, the ordinal of the
  // leaf the row reaches in tree t (in [0, leaves(t))) to
  // leaves[r * num_trees() + t]: the forest's partition of the space into
  // regions, in the same walk. Score()'s errors, and FAILED_PRECONDITION
  // when a tree has more than 256 leaves, INVALID_ARGUMENT when leaves has
  // not x.rows() * num_trees() entries; on error the scores are NaN and the
  // codes 0. Allocates nothing.
  absl::Status ScoreAndLeaves(const ConstMatrixRef& x, absl::Span<float> out,
                              absl::Span<uint8_t> leaves) const;

  // Which features isolate a row: for each tree t, adds tree_weights[t]
  // times the share of feature f in the isolation of `row` (dims() values)
  // to attribution[f]. Each split on the row's path cuts the node's sample
  // of n rows down to the n' on the row's side, worth log(n / n'); a
  // feature's share is the worth of its splits over the path's total, so a
  // split that cuts a row off from nearly all others counts most. Returns
  // the weight of trees whose path has no split (a root that is a leaf),
  // which no feature owns. FAILED_PRECONDITION before Fit(),
  // INVALID_ARGUMENT for sizes other than dims() / num_trees().
  absl::StatusOr<double> AttributePaths(absl::Span<const float> row,
                                        absl::Span<const double> tree_weights,
                                        absl::Span<double> attribution) const;

  bool fitted() const { return !nodes_.empty(); }
  int dims() const { return dims_; }
  int num_trees() const { return static_cast<int>(roots_.size()); }
  // Leaves of the largest tree; at most sample_size.
  int max_leaves() const { return max_leaves_; }

  void Serialize(ByteWriter* out) const;
  static absl::StatusOr<IsolationForest> Deserialize(ByteReader* in);

 private:
  // Flat node storage: all trees' nodes in one vector, each tree a root
  // index. A node's two children are adjacent (right == left + 1) and come
  // after it. In memory a leaf points at itself (feature 0, threshold -inf,
  // left = own index - 1: every row steps "right" onto the leaf again), so
  // that Score() can walk a whole block of rows a fixed number of steps
  // without branching on leaves. Serialize() writes the plain form.
  struct Node {
    int32_t feature;   // split feature (0 for leaves)
    float threshold;   // x < threshold goes left (-inf for leaves)
    int32_t left;      // index of the left child (own index - 1 for leaves)
    float leaf_depth;  // leaves: depth + c(size) adjustment, >= 0;
                       // internal nodes: -1
  };

  // Turns freshly grown or validated plain leaves into self-loops and
  // computes depths_, leaf_ordinal_, split_worth_, max_leaves_ and hop_.
  void Finish();
  // Builds hop_ from nodes_ when every tree fits it (isolation_forest_walk.cc).
  void BuildHopLayout();
  // split_worth_ from the leaves' sizes; `depth` holds each node's depth.
  void ComputeSplitWorth(const std::vector<int32_t>& depth);
  absl::Status CheckScoreArgs(const ConstMatrixRef& x, absl::Span<float> out) const;
  // The walk behind Score() and ScoreAndLeaves(); leaves may be null.
  // Sums each row's leaf depths tree by tree into out (zeroed first) and
  // turns them into scores; every walk adds the same values in the same
  // order, so they give the same bits.
  void Walk(const ConstMatrixRef& x, absl::Span<float> out, uint8_t* leaves) const;
  // Walks hop_, 16 rows at a time (AVX-512).
  void WalkHops(const ConstMatrixRef& x, absl::Span<float> out, uint8_t* leaves) const;
  // Walks nodes_, a block of rows one level at a time (no hop layout).
  void WalkNodes(const ConstMatrixRef& x, absl::Span<float> out, uint8_t* leaves) const;

  IsolationForestOptions options_;
  int dims_ = 0;
  float normaliser_ = 1.0f;      // c(effective sample size)
  std::vector<int32_t> roots_;   // per tree: index of its root in nodes_
  std::vector<int32_t> depths_;  // per tree: steps from the root to its deepest leaf
  std::vector<Node> nodes_;
  // Per node: its leaf's ordinal within its tree, 0 for internal nodes.
  std::vector<uint8_t> leaf_ordinal_;
  // Per node: log2(sample rows at its parent / sample rows at it), the
  // worth of the split that leads to it (0 for roots); AttributePaths().
  // Node sizes are not stored: a leaf's follows from its c(size) term.
  std::vector<float> split_worth_;
  int max_leaves_ = 0;

  // The layout Score() walks where the target has AVX-512, up to 64
  // features, derived from nodes_ (never stored; isolation_forest_walk.cc).
  // Each tree is padded to the complete binary tree of depth 4H (H =
  // ceil(depth / 4), at least 1) and cut into complete subtrees of depth 4:
  // 15 split nodes in level order (children of node p at 2p + 1 and 2p + 2),
  // one 128-byte record of thresholds and features. A row crosses a tree in
  // H hops, each deciding a subtree's four levels with one 16-wide
  // comparison (the row's features picked by the subtree's 16 split
  // features). Hop h of a tree has 16^h subtrees: the one a row enters is
  // numbered by its exits from the hops before (q = 16 q + exit), and so is
  // the bottom position after the last hop, which holds the leaf's depth
  // and ordinal. A leaf above the bottom becomes padding that sends every
  // row right (threshold -inf, as the self-loops of nodes_: no x is < -inf,
  // NaN included), so it owns exactly one bottom position. Empty elsewhere
  // and when a tree is deeper than kMaxHops hops: Score() then walks nodes_.
  // Depth 12 at most: 273 subtrees (34 KiB) and 4096 bottom positions a tree.
  static constexpr int kMaxHops = 3;
  struct alignas(64) Subtree {
    float threshold[16];  // 15 split nodes in level order, then padding
    int32_t feature[16];
  };
  struct HopLayout {
    std::vector<int32_t> hops;           // per tree: H
    std::vector<int32_t> first_subtree;  // per tree: its hop-0 subtree
    std::vector<int32_t> first_leaf;     // per tree: its 16^H bottom positions
    std::vector<Subtree> subtrees;       // per tree: hop 0, hop 1 (16), ...
    std::vector<float> leaf_depth;       // per bottom position
    std::vector<uint8_t> leaf_ordinal;   // per bottom position
  };
  HopLayout hop_;
};

}  // namespace aad

#endif  // AADD_CORE_DETECTORS_ISOLATION_FOREST_H_
