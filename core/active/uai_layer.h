// The UAI layer (Universal Anomaly Inference; Pimentel et al., IJCNN 2020):
// a logistic layer p(x) = sigmoid(w . u(x) + b) over what the base detectors
// say about a row, trained on the expert's labels.
//
// The layer keeps a prior theta0 = (w0, b0), chosen so that before any label
// p is a monotone function of the unsupervised score. Fitting minimises the
// class-balanced cross-entropy over the labelled rows plus
// prior_strength * ||theta - theta0||^2: with few labels the pull keeps the
// unsupervised ranking, and each label bends it.
#ifndef AADD_CORE_ACTIVE_UAI_LAYER_H_
#define AADD_CORE_ACTIVE_UAI_LAYER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
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
  int max_newton_steps = 25;
  float tolerance = 1e-5f;      // stop when the Newton decrement falls below
};

// Immutable once fitted; Logits() is const and thread-safe.
class UaiLayer {
 public:
  UaiLayer() = default;
  // A layer over `inputs` features starting at, and pulled towards, (w0, b0).
  UaiLayer(Vector w0, float b0);

  int inputs() const { return static_cast<int>(w_.size()); }

  // a = u w + b for each row of u (standardised UAI inputs).
  void Logits(const ConstMatrixRef& u, Vector* out) const;

  // Refits (w, b) to convergence on labelled rows (u_labelled, anomaly flags),
  // warm-starting from the current weights. Damped Newton on a strictly
  // convex objective: a few steps of a (inputs+1)^2 system.
  // INVALID_ARGUMENT when sizes disagree.
  absl::Status Fit(const ConstMatrixRef& u_labelled, absl::Span<const uint8_t> anomaly,
                   const UaiFitOptions& options);

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
  void set_weights(Vector w, float b) {
    w_ = std::move(w);
    b_ = b;
  }

  void Serialize(ByteWriter* out) const;
  static absl::StatusOr<UaiLayer> Deserialize(ByteReader* in);

 private:
  Vector w_, w0_;
  float b_ = 0.0f, b0_ = 0.0f;
};

// Per-row weights of the class-balanced cross-entropy: each present class
// carries half of the total weight 1 (all of it if only one class is present).
Vector ClassBalancedWeights(absl::Span<const uint8_t> anomaly);

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_UAI_LAYER_H_
