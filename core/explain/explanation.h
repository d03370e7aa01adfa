// Why the current model scores a row as it does: the row's active logit
// decomposed over its features.
//
// The UAI layer's logit is b + w . u(x) + the row's region logit, with every
// column of u standardised to mean 0 over the pool, so b is the logit of a
// typical row and each term says how far a part of the row moves it:
// - the columns of the row x itself (and of the autoencoder's per-feature
//   evidence) belong to their feature;
// - the detector's score column is spread over the features by their share
//   of its evidence (the autoencoder's reconstruction error);
// - the forest's terms (its score column's weight spread evenly over the
//   trees, plus the weight of the row's leaf in each tree when the layer
//   reads leaves) go, tree by tree, to the features the row's path splits
//   on, by how much of the sample each split cut away
//   (IsolationForest::AttributePaths);
// - the latent code's columns belong to no single feature: "unattributed".
// So base + the sum of all contributions + unattributed = logit, and the
// explanation follows the model: when labels move the weights, it moves.
#ifndef AADD_CORE_EXPLAIN_EXPLANATION_H_
#define AADD_CORE_EXPLAIN_EXPLANATION_H_

#include <vector>

#include "absl/status/status.h"
#include "core/active/active_model.h"
#include "core/explain/feature_profile.h"
#include "core/nn/tensor.h"

namespace aad {

struct FeatureContribution {
  int feature = 0;
  float contribution = 0.0f;  // logit units, from a typical row
  float value = 0.0f;         // the row's raw value
  float typical = 0.0f;       // the pool's median
  float spread = 0.0f;        // the pool's robust spread
};

struct Explanation {
  std::vector<FeatureContribution> top;  // largest contribution first
  float rest = 0.0f;          // sum of the contributions not in `top`
  float unattributed = 0.0f;  // parts owned by no feature
  float logit = 0.0f;         // the row's logit under the model
  float base = 0.0f;          // the logit of a typical row
};

// Buffers reused across calls, one per calling thread.
struct ExplainScratch {
  ScoreScratch score;
  Vector logits;
  std::vector<double> contribution, tree_weights;
  std::vector<int> order;
};

// Explains each raw row of `rows` (out gets rows.rows() entries) with the
// `top` largest contributions named (0 <= top; at most the row's width).
// INVALID_ARGUMENT when the rows or the profile are not model.input_dim()
// wide or top is negative. `scratch` may be null.
absl::Status Explain(const ActiveModel& model, const FeatureProfile& profile,
                     const ConstMatrixRef& rows, int top, std::vector<Explanation>* out,
                     ExplainScratch* scratch = nullptr);

}  // namespace aad

#endif  // AADD_CORE_EXPLAIN_EXPLANATION_H_
