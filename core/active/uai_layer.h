// The UAI layer (Universal Anomaly Inference; Pimentel et al., IJCNN 2020):
// a logistic layer p(x) = sigmoid(w . u(x) + b) over what the base detectors
// say about a row, trained on the expert's labels.
//
// The layer keeps a prior theta0 = (w0, b0), chosen so that before any label
// p is a monotone function of the unsupervised score. Fitting minimises the
// class-balanced cross-entropy over the labelled rows plus
// prior_strength * ||theta - theta0||^2: with few labels the pull keeps the
// unsupervised ranking, and each label bends it.
//
// Optionally the layer also reads the Isolation Forest's leaves (a region
// block, LeafWeights): the logit gains the sum of the weights of the row's
// leaves, each pulled towards 0 (so the prior is unchanged) by
// leaf_prior_strength. Then the layer contains AAD's model as a special
// case, and a label moves the scores of the rows in its region.
#ifndef AADD_CORE_ACTIVE_UAI_LAYER_H_
#define AADD_CORE_ACTIVE_UAI_LAYER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/active/leaf_code_blocks.h"
#include "core/active/leaf_weights.h"
#include "core/nn/tensor.h"
#include "core/util/byte_stream.h"

namespace aad {

struct UaiFitOptions {
  float prior_strength = 0.1f;  // weight of the L2 pull of w towards w0
  // The bias is pulled only lightly: with labels of one class only (the
  // first queries are often all nominal) a free bias absorbs them by shifting
  // every logit, instead of turning w away from the unsupervised score. It
  // stays positive so the problem remains strictly convex.
  float bias_prior_strength = 1e-3f;
  // Pull of each leaf weight (logit units) towards 0; used with leaves.
  float leaf_prior_strength = 0.011f;
  int max_newton_steps = 25;
  float tolerance = 1e-5f;      // stop when the Newton decrement falls below
};

// Immutable once fitted; Logits() is const and thread-safe.
class UaiLayer {
 public:
  UaiLayer() = default;
  // A layer over `inputs` features starting at, and pulled towards, (w0, b0);
  // with a non-empty `leaves`, also over the leaves of that many trees
  // (weights start at 0).
  UaiLayer(Vector w0, float b0, LeafWeights leaves = {});

  int inputs() const { return static_cast<int>(w_.size()); }
  bool has_leaves() const { return !leaves_.empty(); }
  // Trees whose leaves the layer reads (0 without a region block).
  int leaf_trees() const { return leaves_.trees(); }

  // a = u w + b for each row of u (standardised UAI inputs): the dense part.
  void Logits(const ConstMatrixRef& u, Vector* out) const;
  // The full logit: the dense part plus, with has_leaves(), each row's
  // region logit. `codes` holds u.rows() x leaf_trees() leaf ordinals (empty
  // without leaves).
  void Logits(const ConstMatrixRef& u, absl::Span<const LeafCode> codes, Vector* out) const;
  // The same bits from codes in blocks (a whole pool's: codes.rows() ==
  // u.rows()).
  void Logits(const ConstMatrixRef& u, const LeafCodeBlocks& codes, Vector* out) const;

  // Refits (w, b) to convergence on labelled rows (u_labelled, anomaly flags),
  // warm-starting from the current weights. Damped Newton on a strictly
  // convex objective: a few steps of a (inputs+1)^2 system.
  // INVALID_ARGUMENT when sizes disagree or the layer has leaves.
  absl::Status Fit(const ConstMatrixRef& u_labelled, absl::Span<const uint8_t> anomaly,
                   const UaiFitOptions& options);
  // The same with the leaf codes of the labelled rows (m x leaf_trees());
  // with leaves, truncated Newton over the dense weights and the weights of
  // the leaves that hold a labelled row (every other leaf's optimum is 0).
  // INVALID_ARGUMENT when sizes disagree.
  absl::Status Fit(const ConstMatrixRef& u_labelled, absl::Span<const LeafCode> codes,
                   absl::Span<const uint8_t> anomaly, const UaiFitOptions& options);

  // Objective value and gradient (w then b) of Fit()'s problem at the current
  // weights; exposed for gradient checks.
  double Objective(const ConstMatrixRef& u_labelled, absl::Span<const uint8_t> anomaly,
                   float prior_strength, float bias_prior_strength, Vector* grad) const;

  // For joint training: gradient of sum_i da_i * a_i with respect to u
  // (du = da w^T), and accumulation of the parameter gradient.
  void BackwardInput(const Vector& da, Matrix* du) const;

  const Vector& w() const { return w_; }
  float b() const { return b_; }
  const Vector& w0() const { return w0_; }
  float b0() const { return b0_; }
  const LeafWeights& leaves() const { return leaves_; }
  void set_weights(Vector w, float b) {
    w_ = std::move(w);
    b_ = b;
  }

  // The "uai" record, then (since model format 2) the region block.
  void Serialize(ByteWriter* out) const;
  // `with_leaves`: the record was written by format 2 or later.
  static absl::StatusOr<UaiLayer> Deserialize(ByteReader* in, bool with_leaves);

 private:
  absl::Status FitWithLeaves(const ConstMatrixRef& u, absl::Span<const LeafCode> codes,
                             absl::Span<const uint8_t> anomaly, const UaiFitOptions& options);

  Vector w_, w0_;
  float b_ = 0.0f, b0_ = 0.0f;
  LeafWeights leaves_;
};

// Per-row weights of the class-balanced cross-entropy: each present class
// carries half of the total weight 1 (all of it if only one class is present).
Vector ClassBalancedWeights(absl::Span<const uint8_t> anomaly);

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_UAI_LAYER_H_
