#include "core/active/active_config.h"

#include "absl/strings/str_cat.h"

namespace aad {
namespace {
template <typename T>
absl::Status Require(bool ok, const char* field, T value, const char* rule) {
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " must be ", rule, ", got ", value));
}
}  // namespace

absl::Status ActiveConfig::Validate() const {
  for (absl::Status s : {
           Require(hidden_units >= 1 && hidden_units <= 4096, "hidden_units", hidden_units,
                   "in [1, 4096]"),
           Require(latent_units >= 1 && latent_units <= 1024, "latent_units", latent_units,
                   "in [1, 1024]"),
           Require(pretrain_epochs >= 0 && pretrain_epochs <= 10000, "pretrain_epochs",
                   pretrain_epochs, "in [0, 10000]"),
           Require(max_pretrain_rows >= 0, "max_pretrain_rows", max_pretrain_rows, ">= 0"),
           Require(batch_size >= 1 && batch_size <= 65536, "batch_size", batch_size,
                   "in [1, 65536]"),
           Require(learning_rate > 0 && learning_rate < 1, "learning_rate", learning_rate,
                   "in (0, 1)"),
           Require(weight_decay >= 0 && weight_decay < 1, "weight_decay", weight_decay,
                   "in [0, 1)"),
           Require(forest_trees >= 0 && forest_trees <= 10000, "forest_trees", forest_trees,
                   "in [0, 10000]"),
           Require(forest_sample_size >= 2, "forest_sample_size", forest_sample_size, ">= 2"),
           Require(prior_strength > 0, "prior_strength", prior_strength, "> 0"),
           Require(bias_prior_strength > 0, "bias_prior_strength", bias_prior_strength, "> 0"),
           Require(leaf_input_scale > 0 && leaf_input_scale <= 1e4f, "leaf_input_scale",
                   leaf_input_scale, "in (0, 10000]"),
           Require(finetune_steps >= 0 && finetune_steps <= 100000, "finetune_steps",
                   finetune_steps, "in [0, 100000]"),
           Require(label_loss_weight >= 0, "label_loss_weight", label_loss_weight, ">= 0"),
           Require(max_labelled_per_step >= 1, "max_labelled_per_step", max_labelled_per_step,
                   ">= 1"),
       }) {
    if (!s.ok()) return s;
  }
  if (reads_leaves() && forest_sample_size > 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "forest_sample_size must be <= 256 while uai_inputs.leaves is on (a tree of at most "
        "256 samples has at most 256 leaves, one byte a row), got ",
        forest_sample_size));
  }
  if (!uai_inputs.latent && !uai_inputs.evidence && !uai_inputs.score && !uai_inputs.forest &&
      !uai_inputs.raw_input) {
    return absl::InvalidArgumentError("uai_inputs: at least one input part must be enabled");
  }
  if (!uai_inputs.score && !(uai_inputs.forest && forest_trees > 0)) {
    return absl::InvalidArgumentError(
        "uai_inputs: the prior needs an unsupervised score: enable score, or forest with "
        "forest_trees > 0");
  }
  return absl::OkStatus();
}

}  // namespace aad
