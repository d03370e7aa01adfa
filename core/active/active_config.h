// Every knob of an active model, each with the default that the evaluation in
// bench/README.md measured. One configuration serves every data set.
#ifndef AADD_CORE_ACTIVE_ACTIVE_CONFIG_H_
#define AADD_CORE_ACTIVE_ACTIVE_CONFIG_H_

#include <cstdint>

#include "absl/status/status.h"
#include "core/active/uai_inputs.h"
#include "core/detectors/deep_detector.h"
#include "core/nn/activation.h"

namespace aad {

struct ActiveConfig {
  // Base detector and its shape.
  DetectorKind detector = DetectorKind::kAutoencoder;
  int hidden_units = 64;   // width of hidden layers
  int latent_units = 16;   // bottleneck / embedding width
  // Unsupervised pre-training: Adam on the detector's own loss.
  int pretrain_epochs = 50;
  // Caps pre-training work on large pools: epochs stop once this many rows
  // have been seen in total (50 epochs of 20k rows).
  int64_t max_pretrain_rows = 1'000'000;
  int batch_size = 128;
  float learning_rate = 1e-3f;
  float weight_decay = 0.0f;
  // The Isolation Forest read beside the deep detector (0 trees = off).
  int forest_trees = 100;
  int forest_sample_size = 256;
  // What the UAI layer reads.
  UaiInputOptions uai_inputs;
  // The UAI layer's pull of its weights towards the unsupervised prior. The
  // loss is a class-balanced mean, so this weight is relative to one unit of
  // cross-entropy whatever the number of labels (bench/README.md).
  float prior_strength = 0.1f;
  // The bias's pull; small, so one-class feedback shifts the bias instead of
  // turning the weights away from the unsupervised score.
  float bias_prior_strength = 1e-3f;
  // Weight of the prior on the unsupervised-score inputs: p starts as
  // sigmoid(prior_score_weight * s_std + prior_bias).
  float prior_score_weight = 1.0f;
  float prior_bias = 0.0f;
  // How cheaply labels move the scores of a region (gamma of DESIGN.md,
  // with uai_inputs.leaves): each leaf weight is pulled towards 0 by
  // prior_strength * forest_trees / leaf_input_scale^2, so with the
  // defaults a label moves the leaves it falls in about 90 times as easily
  // as a dense weight (bench/README.md has the sweep).
  float leaf_input_scale = 30.0f;
  // Joint training: when false, labels also fine-tune the detector (the
  // cross-entropy's gradient flows into it) for finetune_steps Adam steps
  // per update, each minibatch holding the labelled rows.
  bool freeze_detector = true;
  int finetune_steps = 50;
  float label_loss_weight = 1.0f;  // lambda: cross-entropy vs unsupervised loss
  int max_labelled_per_step = 256;
  uint64_t seed = 1;

  // INVALID_ARGUMENT naming the first field out of range and its value.
  absl::Status Validate() const;
  // Whether the UAI layer reads the forest's leaves under this configuration.
  bool reads_leaves() const { return uai_inputs.leaves && forest_trees > 0; }
  // Whether the Isolation Forest is grown: for its score column or its leaves.
  bool grows_forest() const { return (uai_inputs.forest || uai_inputs.leaves) && forest_trees > 0; }
  // The pull of each leaf weight (see leaf_input_scale).
  float leaf_prior_strength() const {
    return prior_strength * static_cast<float>(forest_trees) / (leaf_input_scale * leaf_input_scale);
  }
};

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_ACTIVE_CONFIG_H_
