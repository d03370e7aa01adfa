// IsolationForest's stored form (the plain node layout, versioned) and the
// validation that lets Score() trust a forest read from untrusted bytes.
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/detectors/isolation_forest.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {

constexpr char kTag[] = "isolation_forest";
// Bump when the byte layout changes; Deserialize rejects other versions.
constexpr uint32_t kFormatVersion = 1;
// Bytes per serialised node: feature (u32), value (f32), left (u32).
constexpr size_t kNodeBytes = 12;

}  // namespace

void IsolationForest::Serialize(ByteWriter* out) const {
  out->WriteString(kTag);
  out->WriteU32(kFormatVersion);
  out->WriteU32(static_cast<uint32_t>(options_.num_trees));
  out->WriteU32(static_cast<uint32_t>(options_.sample_size));
  out->WriteU64(options_.seed);
  out->WriteU32(static_cast<uint32_t>(dims_));
  out->WriteF32(normaliser_);
  out->WriteU64(roots_.size());
  for (const int32_t root : roots_) out->WriteU32(static_cast<uint32_t>(root));
  out->WriteU64(nodes_.size());
  // The plain form: leaves as {-1, depth, 0}, internal nodes as
  // {feature, threshold, left}.
  for (const Node& n : nodes_) {
    const bool leaf = n.leaf_depth >= 0.0f;
    out->WriteU32(leaf ? 0xFFFFFFFFu : static_cast<uint32_t>(n.feature));
    out->WriteF32(leaf ? n.leaf_depth : n.threshold);
    out->WriteU32(leaf ? 0u : static_cast<uint32_t>(n.left));
  }
}

absl::StatusOr<IsolationForest> IsolationForest::Deserialize(ByteReader* in) {
  RETURN_IF_ERROR(in->ExpectTag(kTag));
  ASSIGN_OR_RETURN(const uint32_t version, in->ReadU32("isolation_forest.version"));
  if (version != kFormatVersion) {
    return absl::DataLossError(absl::StrCat("unsupported isolation_forest format version ", version,
                                            " (this build reads ", kFormatVersion, ")"));
  }
  constexpr uint32_t kIntMax = std::numeric_limits<int32_t>::max();
  IsolationForestOptions options;
  ASSIGN_OR_RETURN(const uint32_t num_trees, in->ReadU32("isolation_forest.num_trees"));
  ASSIGN_OR_RETURN(const uint32_t sample_size, in->ReadU32("isolation_forest.sample_size"));
  ASSIGN_OR_RETURN(options.seed, in->ReadU64("isolation_forest.seed"));
  ASSIGN_OR_RETURN(const uint32_t dims, in->ReadU32("isolation_forest.dims"));
  ASSIGN_OR_RETURN(const float normaliser, in->ReadF32("isolation_forest.normaliser"));
  if (num_trees < 1 || num_trees > kIntMax || sample_size < 2 || sample_size > kIntMax ||
      dims < 1 || dims > kIntMax || !std::isfinite(normaliser) || !(normaliser > 0.0f)) {
    return absl::DataLossError(
        absl::StrCat("corrupt isolation_forest header: num_trees=", num_trees,
                     " sample_size=", sample_size, " dims=", dims, " normaliser=", normaliser));
  }
  options.num_trees = static_cast<int>(num_trees);
  options.sample_size = static_cast<int>(sample_size);

  ASSIGN_OR_RETURN(const uint64_t num_roots, in->ReadU64("isolation_forest.roots"));
  if (num_roots != num_trees || num_roots > in->remaining() / sizeof(uint32_t)) {
    return absl::DataLossError(absl::StrCat("isolation_forest claims ", num_roots, " roots for ",
                                            num_trees, " trees, with ", in->remaining(),
                                            " bytes left"));
  }
  std::vector<int32_t> roots(num_roots);
  for (int32_t& root : roots) {
    ASSIGN_OR_RETURN(const uint32_t r, in->ReadU32("isolation_forest.root"));
    if (r > kIntMax) return absl::DataLossError(absl::StrCat("bad isolation_forest root ", r));
    root = static_cast<int32_t>(r);
  }
  ASSIGN_OR_RETURN(const uint64_t num_nodes, in->ReadU64("isolation_forest.nodes"));
  if (num_nodes > kIntMax || num_nodes > in->remaining() / kNodeBytes) {
    return absl::DataLossError(absl::StrCat("isolation_forest claims ", num_nodes, " nodes, only ",
                                            in->remaining(), " bytes left"));
  }
  std::vector<Node> nodes(num_nodes);
  for (Node& n : nodes) {
    ASSIGN_OR_RETURN(const uint32_t feature, in->ReadU32("isolation_forest.node.feature"));
    ASSIGN_OR_RETURN(const float value, in->ReadF32("isolation_forest.node.value"));
    ASSIGN_OR_RETURN(const uint32_t left, in->ReadU32("isolation_forest.node.left"));
    n.feature = static_cast<int32_t>(feature);
    n.left = static_cast<int32_t>(left);
    n.threshold = n.feature < 0 ? 0.0f : value;
    n.leaf_depth = n.feature < 0 ? value : -1.0f;
  }

  // Scoring trusts the structure, so check it here: tree t owns the node
  // range [roots[t], roots[t+1]); an internal node's children lie after it
  // inside its tree's range, so every traversal ends at a leaf in finitely
  // many steps and never leaves the array; features index a row of dims.
  const int64_t total = static_cast<int64_t>(num_nodes);
  for (size_t t = 0; t < roots.size(); ++t) {
    const int64_t begin = roots[t];
    const int64_t end = t + 1 < roots.size() ? roots[t + 1] : total;
    if (t == 0 && begin != 0) {
      return absl::DataLossError("isolation_forest tree 0 does not start at node 0");
    }
    if (!(begin < end) || end > total) {
      return absl::DataLossError(
          absl::StrCat("isolation_forest tree ", t, " has node range [", begin, ", ", end, ")"));
    }
    for (int64_t i = begin; i < end; ++i) {
      const Node& n = nodes[i];
      if (n.feature == -1) {
        // Score() tells leaves by a non-negative depth.
        if (!std::isfinite(n.leaf_depth) || n.leaf_depth < 0.0f || n.left != 0) {
          return absl::DataLossError(absl::StrCat("isolation_forest leaf ", i, " has depth ",
                                                  n.leaf_depth, " and child ", n.left));
        }
        continue;
      }
      if (!std::isfinite(n.threshold)) {
        return absl::DataLossError(
            absl::StrCat("isolation_forest node ", i, " has non-finite threshold"));
      }
      if (n.feature < 0 || n.feature >= static_cast<int64_t>(dims)) {
        return absl::DataLossError(absl::StrCat("isolation_forest node ", i, " splits on feature ",
                                                n.feature, " of ", dims));
      }
      if (n.left <= i || int64_t{n.left} + 1 >= end) {
        return absl::DataLossError(absl::StrCat("isolation_forest node ", i, " has children ",
                                                n.left, ",", int64_t{n.left} + 1, " outside (", i,
                                                ", ", end, ")"));
      }
    }
  }

  IsolationForest forest(options);
  forest.dims_ = static_cast<int>(dims);
  forest.normaliser_ = normaliser;
  forest.roots_ = std::move(roots);
  forest.nodes_ = std::move(nodes);
  forest.Finish();
  return forest;
}

}  // namespace aad
