#include "core/detectors/isolation_forest.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/random.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {

// Rows scored together against every tree: 512 rows of up to a few dozen
// features stay in L1/L2 while the trees stream past, instead of the whole
// batch streaming through the cache once per tree. Also the size of
// Score()'s on-stack cursor array.
constexpr Eigen::Index kScoreBlockRows = 512;

// c(n) for n = 0..max_n: the average path length of an unsuccessful search
// in a binary search tree of n keys, which is the expected remaining depth
// below a leaf that the height limit cut off with n rows left in it. Uses the
// exact harmonic number rather than the paper's ln(i) + Euler gamma, which is
// off by up to 0.08 for the small n that most leaves hold.
std::vector<float> AveragePathLengths(int max_n) {
  std::vector<float> c(static_cast<size_t>(max_n) + 1, 0.0f);
  double harmonic = 0.0;  // H(n - 1)
  for (int n = 2; n <= max_n; ++n) {
    harmonic += 1.0 / (n - 1);
    c[n] = static_cast<float>(2.0 * harmonic - 2.0 * (n - 1) / n);
  }
  return c;
}

// Grows one tree. Holds the buffers reused across trees so that Fit
// allocates once, not per tree or per node.
class TreeGrower {
 public:
  TreeGrower(const ConstMatrixRef& x, int sample_size)
      : x_(x),
        sample_size_(sample_size),
        dims_(static_cast<int>(x.cols())),
        height_limit_(HeightLimit(sample_size)),
        path_lengths_(AveragePathLengths(sample_size)),
        row_perm_(static_cast<size_t>(x.rows())),
        row_swaps_(static_cast<size_t>(sample_size)),
        feature_perm_(static_cast<size_t>(dims_)),
        sample_(static_cast<size_t>(sample_size) * dims_),
        index_(static_cast<size_t>(sample_size)) {
    for (size_t i = 0; i < row_perm_.size(); ++i) row_perm_[i] = static_cast<int64_t>(i);
    for (int f = 0; f < dims_; ++f) feature_perm_[f] = f;
  }

  // ceil(log2(sample_size)): the average height of a random binary tree on
  // sample_size keys; deeper nodes hold normal points, which need no detail.
  static int HeightLimit(int sample_size) {
    int limit = 0;
    while ((int64_t{1} << limit) < sample_size) ++limit;
    return limit;
  }

  // Appends a tree grown with `rng` to `nodes`, in plain form: leaves
  // {-1, 0, 0, depth + c(size)}, internal nodes {feature, threshold, left,
  // -1}. NodeT is the forest's private node type.
  template <typename NodeT>
  void Grow(Rng* rng, std::vector<NodeT>* nodes) {
    DrawSample(rng);
    for (int i = 0; i < sample_size_; ++i) index_[i] = i;

    stack_.clear();
    stack_.push_back({static_cast<int32_t>(nodes->size()), 0, sample_size_, 0});
    nodes->push_back({});
    while (!stack_.empty()) {
      const PendingNode p = stack_.back();
      stack_.pop_back();
      const int size = p.end - p.begin;
      float lo = 0.0f, hi = 0.0f;
      const int feature =
          (p.depth >= height_limit_ || size <= 1) ? -1 : PickFeature(rng, p.begin, p.end, &lo, &hi);
      if (feature < 0) {
        (*nodes)[p.node] = {-1, 0.0f, 0, static_cast<float>(p.depth) + path_lengths_[size]};
        continue;
      }
      const float threshold = DrawThreshold(rng, lo, hi);
      const float* column = &sample_[static_cast<size_t>(feature) * sample_size_];
      // Rows below the threshold first. Both sides are non-empty because
      // lo < threshold <= hi.
      const int mid =
          static_cast<int>(std::partition(&index_[p.begin], &index_[p.end],
                                          [&](int i) { return column[i] < threshold; }) -
                           &index_[0]);
      const int32_t left = static_cast<int32_t>(nodes->size());
      (*nodes)[p.node] = {feature, threshold, left, -1.0f};
      nodes->push_back({});
      nodes->push_back({});
      // Right pushed first so the left subtree is grown first; the order
      // only affects node numbering, which must be deterministic.
      stack_.push_back({left + 1, mid, p.end, p.depth + 1});
      stack_.push_back({left, p.begin, mid, p.depth + 1});
    }
  }

 private:
  // Copies sample_size_ rows, drawn without replacement by a partial
  // Fisher-Yates shuffle of row_perm_, into sample_ (feature-major, so a
  // node scans one contiguous column). The swaps are undone afterwards so
  // that each tree's sample depends on its own seed only, not on the trees
  // grown before it.
  void DrawSample(Rng* rng) {
    const uint64_t n = row_perm_.size();
    for (int k = 0; k < sample_size_; ++k) {
      const int64_t j = k + static_cast<int64_t>(rng->UniformInt(n - k));
      row_swaps_[k] = j;
      std::swap(row_perm_[k], row_perm_[j]);
      const int64_t row = row_perm_[k];
      for (int f = 0; f < dims_; ++f) {
        sample_[static_cast<size_t>(f) * sample_size_ + k] = x_(row, f);
      }
    }
    for (int k = sample_size_ - 1; k >= 0; --k) std::swap(row_perm_[k], row_perm_[row_swaps_[k]]);
  }

  // Draws features without replacement until one is not constant over the
  // node's rows, which amounts to a uniform choice among the features that
  // can split the node. Returns -1 when every feature is constant (duplicate
  // rows): the node becomes a leaf. Sets [*lo, *hi] to the feature's range.
  int PickFeature(Rng* rng, int begin, int end, float* lo, float* hi) {
    for (int k = 0; k < dims_; ++k) {
      const int j = k + static_cast<int>(rng->UniformInt(static_cast<uint64_t>(dims_ - k)));
      std::swap(feature_perm_[k], feature_perm_[j]);
      const int f = feature_perm_[k];
      const float* column = &sample_[static_cast<size_t>(f) * sample_size_];
      float mn = column[index_[begin]], mx = mn;
      for (int i = begin + 1; i < end; ++i) {
        const float v = column[index_[i]];
        mn = std::min(mn, v);
        mx = std::max(mx, v);
      }
      if (mn < mx) {
        *lo = mn;
        *hi = mx;
        return f;
      }
    }
    return -1;
  }

  // Uniform in (lo, hi]. The open lower end guarantees that the rows at lo
  // go left and those at hi go right, so every split shrinks both sides;
  // rounding the double draw to float may land on lo, hence the nudge.
  static float DrawThreshold(Rng* rng, float lo, float hi) {
    float t = static_cast<float>(static_cast<double>(lo) +
                                 (static_cast<double>(hi) - lo) * rng->Uniform());
    if (!(t > lo)) t = std::nextafter(lo, hi);
    return std::min(t, hi);
  }

  const ConstMatrixRef& x_;
  const int sample_size_;
  const int dims_;
  const int height_limit_;
  const std::vector<float> path_lengths_;
  std::vector<int64_t> row_perm_;
  std::vector<int64_t> row_swaps_;
  std::vector<int> feature_perm_;
  std::vector<float> sample_;  // sample_size_ x dims_, feature-major
  std::vector<int> index_;     // rows of sample_, partitioned per node
  // A node whose rows index_[begin, end) are known but not yet split.
  struct PendingNode {
    int32_t node;
    int begin;
    int end;
    int depth;
  };
  std::vector<PendingNode> stack_;
};

}  // namespace

absl::Status IsolationForest::Fit(const ConstMatrixRef& x) {
  if (x.rows() == 0 || x.cols() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("isolation forest needs a non-empty matrix, got ", x.rows(), "x", x.cols()));
  }
  if (x.cols() > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat("too many features: ", x.cols()));
  }
  if (options_.num_trees < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_trees must be >= 1, got ", options_.num_trees));
  }
  if (options_.sample_size < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample_size must be >= 2, got ", options_.sample_size));
  }
  // A NaN would make min/max and the split comparisons meaningless.
  if (!x.allFinite()) {
    return absl::InvalidArgumentError("isolation forest input contains NaN or infinity");
  }
  const int sample_size =
      static_cast<int>(std::min<int64_t>(options_.sample_size, static_cast<int64_t>(x.rows())));
  // A tree on s rows has at most 2s - 1 nodes; node indices are int32.
  const int64_t max_nodes = int64_t{options_.num_trees} * (2 * int64_t{sample_size} - 1);
  if (max_nodes > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("forest too large: num_trees=", options_.num_trees,
                     " x sample_size=", sample_size, " exceeds 2^31 nodes"));
  }

  std::vector<int32_t> roots;
  std::vector<Node> nodes;
  roots.reserve(options_.num_trees);
  // Trees stop at depth ceil(log2 s), so most have far fewer than 2s - 1
  // nodes; reserving for a full binary tree of that depth is an upper bound.
  const int64_t per_tree = std::min<int64_t>(
      2 * int64_t{sample_size} - 1, (int64_t{2} << TreeGrower::HeightLimit(sample_size)) - 1);
  nodes.reserve(static_cast<size_t>(per_tree * options_.num_trees));
  TreeGrower grower(x, sample_size);
  for (int t = 0; t < options_.num_trees; ++t) {
    Rng rng(Rng::Derive(options_.seed, static_cast<uint64_t>(t)));
    roots.push_back(static_cast<int32_t>(nodes.size()));
    grower.Grow(&rng, &nodes);
  }

  dims_ = static_cast<int>(x.cols());
  // c(1) = 0 would divide by zero; a one-row forest scores every row 1.
  normaliser_ = sample_size > 2 ? AveragePathLengths(sample_size)[sample_size] : 1.0f;
  roots_ = std::move(roots);
  nodes_ = std::move(nodes);
  Finish();
  return absl::OkStatus();
}

void IsolationForest::Finish() {
  depths_.assign(roots_.size(), 0);
  leaf_ordinal_.assign(nodes_.size(), 0);
  max_leaves_ = 0;
  std::vector<int32_t> depth(nodes_.size(), -1);  // -1: not reachable
  for (size_t t = 0; t < roots_.size(); ++t) {
    const size_t begin = roots_[t];
    const size_t end = t + 1 < roots_.size() ? roots_[t + 1] : nodes_.size();
    depth[begin] = 0;
    int leaves = 0;
    // Children come after their parent, so one forward pass sees every
    // parent before its children.
    for (size_t i = begin; i < end; ++i) {
      Node& n = nodes_[i];
      if (n.feature < 0) {
        // Ordinals past 255 wrap; ScoreAndLeaves() refuses such forests.
        leaf_ordinal_[i] = static_cast<uint8_t>(leaves++);
        if (depth[i] >= 0) depths_[t] = std::max(depths_[t], depth[i]);
        n = {0, -std::numeric_limits<float>::infinity(), static_cast<int32_t>(i) - 1, n.leaf_depth};
      } else if (depth[i] >= 0) {
        depth[n.left] = std::max(depth[n.left], depth[i] + 1);
        depth[n.left + 1] = std::max(depth[n.left + 1], depth[i] + 1);
      }
    }
    max_leaves_ = std::max(max_leaves_, leaves);
  }
  ComputeSplitWorth(depth);
  BuildHopLayout();
}

void IsolationForest::ComputeSplitWorth(const std::vector<int32_t>& depth) {
  // A leaf's sample size n is the inverse of its c(n) term (leaf_depth minus
  // its depth); c grows strictly from n = 1, so the nearest table entry is
  // exact. The table stops at 2^16 rows, far above any sample a tree keeps.
  const int max_n = std::min(std::max(options_.sample_size, 2), 1 << 16);
  const std::vector<float> c = AveragePathLengths(max_n);
  std::vector<float> size(nodes_.size(), 1.0f);
  split_worth_.assign(nodes_.size(), 0.0f);
  // Children come after their parent: a backward pass sees children first.
  for (size_t i = nodes_.size(); i-- > 0;) {
    const Node& n = nodes_[i];
    if (n.leaf_depth >= 0.0f) {
      const float tail = n.leaf_depth - static_cast<float>(std::max(depth[i], 0));
      const auto at = std::lower_bound(c.begin() + 1, c.end(), tail);
      size_t k = static_cast<size_t>(at - c.begin());
      if (k >= c.size() || (k > 1 && tail - c[k - 1] < c[k] - tail)) --k;
      size[i] = static_cast<float>(std::max<size_t>(k, 1));
    } else {
      size[i] = size[n.left] + size[n.left + 1];
      split_worth_[n.left] = std::log2(size[i] / size[n.left]);
      split_worth_[n.left + 1] = std::log2(size[i] / size[n.left + 1]);
    }
  }
}

absl::StatusOr<double> IsolationForest::AttributePaths(absl::Span<const float> row,
                                                       absl::Span<const double> tree_weights,
                                                       absl::Span<double> attribution) const {
  if (!fitted()) return absl::FailedPreconditionError("isolation forest is not fitted");
  if (row.size() != static_cast<size_t>(dims_) || attribution.size() != row.size() ||
      tree_weights.size() != roots_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "isolation forest of ", dims_, " features and ", roots_.size(), " trees got a row of ",
        row.size(), ", ", tree_weights.size(), " tree weights and room for ", attribution.size(),
        " attributions"));
  }
  const Node* nodes = nodes_.data();
  double unowned = 0.0;
  for (size_t t = 0; t < roots_.size(); ++t) {
    const double weight = tree_weights[t];
    if (weight == 0.0) continue;
    // Two walks of the same path: the first totals its worth, the second
    // hands each split its share.
    double total = 0.0;
    for (int32_t i = roots_[t]; nodes[i].leaf_depth < 0.0f;) {
      const Node& n = nodes[i];
      i = n.left + (row[n.feature] < n.threshold ? 0 : 1);
      total += split_worth_[i];
    }
    if (!(total > 0.0)) {
      unowned += weight;
      continue;
    }
    const double per_worth = weight / total;
    for (int32_t i = roots_[t]; nodes[i].leaf_depth < 0.0f;) {
      const Node& n = nodes[i];
      i = n.left + (row[n.feature] < n.threshold ? 0 : 1);
      attribution[n.feature] += per_worth * split_worth_[i];
    }
  }
  return unowned;
}

absl::Status IsolationForest::CheckScoreArgs(const ConstMatrixRef& x,
                                             absl::Span<float> out) const {
  if (!fitted()) return absl::FailedPreconditionError("isolation forest is not fitted");
  if (x.cols() != dims_) {
    return absl::InvalidArgumentError(absl::StrCat("isolation forest of ", dims_,
                                                   " features got rows of ", x.cols()));
  }
  if (static_cast<Eigen::Index>(out.size()) != x.rows()) {
    return absl::InvalidArgumentError(absl::StrCat("isolation forest: ", x.rows(),
                                                   " rows but room for ", out.size(),
                                                   " scores"));
  }
  return absl::OkStatus();
}

absl::Status IsolationForest::Score(const ConstMatrixRef& x, absl::Span<float> out) const {
  absl::Status status = CheckScoreArgs(x, out);
  if (!status.ok()) {
    std::fill(out.begin(), out.end(), std::numeric_limits<float>::quiet_NaN());
    return status;
  }
  Walk(x, out, nullptr);
  return absl::OkStatus();
}

absl::Status IsolationForest::ScoreAndLeaves(const ConstMatrixRef& x, absl::Span<float> out,
                                             absl::Span<uint8_t> leaves) const {
  absl::Status status = CheckScoreArgs(x, out);
  if (status.ok() && max_leaves_ > 256) {
    status = absl::FailedPreconditionError(absl::StrCat(
        "isolation forest has trees of ", max_leaves_, " leaves: leaf codes hold 256"));
  }
  if (status.ok() && leaves.size() != static_cast<size_t>(x.rows()) * roots_.size()) {
    status = absl::InvalidArgumentError(absl::StrCat("isolation forest: room for ", leaves.size(),
                                                     " leaf codes, need ", x.rows(), " x ",
                                                     roots_.size()));
  }
  if (!status.ok()) {
    std::fill(out.begin(), out.end(), std::numeric_limits<float>::quiet_NaN());
    std::fill(leaves.begin(), leaves.end(), 0);
    return status;
  }
  Walk(x, out, leaves.data());
  return absl::OkStatus();
}

void IsolationForest::Walk(const ConstMatrixRef& x, absl::Span<float> out,
                           uint8_t* leaves) const {
  // Sum of path lengths per row in out, then turned into the score. The
  // summation order (tree by tree) is fixed, so scores are reproducible.
  std::fill(out.begin(), out.end(), 0.0f);
  if (!hop_.hops.empty()) {
    WalkHops(x, out, leaves);
  } else {
    WalkNodes(x, out, leaves);
  }
  const float inv_trees_norm = 1.0f / (static_cast<float>(roots_.size()) * normaliser_);
  for (float& s : out) s = std::exp2(-s * inv_trees_norm);
}

void IsolationForest::WalkNodes(const ConstMatrixRef& x, absl::Span<float> out,
                                uint8_t* leaves) const {
  const Node* nodes = nodes_.data();
  const Eigen::Index stride = x.outerStride();
  const Eigen::Index rows = x.rows();
  int32_t at[kScoreBlockRows];  // each row's current node in the tree
  for (Eigen::Index block = 0; block < rows; block += kScoreBlockRows) {
    const int n = static_cast<int>(std::min(kScoreBlockRows, rows - block));
    const float* data = x.data() + block * stride;
    for (size_t t = 0; t < roots_.size(); ++t) {
      std::fill(at, at + n, roots_[t]);
      // One row's walk is a chain of dependent loads (node, then the row's
      // feature, then the next node); stepping all rows of the block one
      // level at a time makes the chains independent, so they overlap.
      // Leaves loop onto themselves, so a fixed number of steps is right
      // for every row and the loop has no branch on the data.
      for (int level = 0; level < depths_[t]; ++level) {
        for (int r = 0; r < n; ++r) {
          const Node& node = nodes[at[r]];
          at[r] = node.left + (data[r * stride + node.feature] < node.threshold ? 0 : 1);
        }
      }
      for (int r = 0; r < n; ++r) out[block + r] += nodes[at[r]].leaf_depth;
      if (leaves != nullptr) {
        const size_t trees = roots_.size();
        uint8_t* codes = leaves + static_cast<size_t>(block) * trees + t;
        for (int r = 0; r < n; ++r) codes[r * trees] = leaf_ordinal_[at[r]];
      }
    }
  }
}

}  // namespace aad
