// An immutable, trained active anomaly detector: the standardiser, the base
// detector, the Isolation Forest, the UAI inputs and the UAI layer of one
// model version. Sessions share it as std::shared_ptr<const ActiveModel>;
// scoring never waits for training because training builds a new one.
#ifndef AADD_CORE_ACTIVE_ACTIVE_MODEL_H_
#define AADD_CORE_ACTIVE_ACTIVE_MODEL_H_

#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "core/active/uai_inputs.h"
#include "core/active/uai_layer.h"
#include "core/data/standardizer.h"
#include "core/detectors/deep_detector.h"
#include "core/detectors/isolation_forest.h"
#include "core/nn/tensor.h"

namespace aad {

// Scores of a batch of rows.
struct ModelScores {
  Vector p;             // active score: probability of anomaly
  Vector logit;         // logit of p; ranks without saturating
  Vector unsupervised;  // s: the unsupervised score (the prior's direction)
};

// Reusable buffers for ActiveModel::Score(), one per calling thread.
struct ScoreScratch {
  Matrix x, u;
  DetectorOutput det;
  InferScratch infer;
  std::vector<float> forest;
  std::vector<LeafCode> leaves;  // rows x trees, when the UAI layer reads leaves
};

// Thread-safe: every method is const.
class ActiveModel {
 public:
  ActiveModel(Standardizer input, std::shared_ptr<const DeepDetector> detector,
              std::shared_ptr<const IsolationForest> forest, UaiInputs inputs, UaiLayer uai,
              int64_t labels_used);

  int input_dim() const { return input_.dims(); }
  int latent_dim() const { return detector_->latent_dim(); }
  DetectorKind detector_kind() const { return detector_->kind(); }
  // How many labelled rows the UAI layer was fitted on.
  int64_t labels_used() const { return labels_used_; }

  // Scores raw (unstandardised) rows. INVALID_ARGUMENT when the column count
  // is not input_dim(). `scratch` may be null (buffers are then local).
  absl::Status Score(const ConstMatrixRef& rows, ModelScores* out,
                     ScoreScratch* scratch = nullptr) const;

  // The detector's latent vectors of raw rows, for diversity-aware queries.
  // INVALID_ARGUMENT when the column count is not input_dim().
  absl::Status Embed(const ConstMatrixRef& rows, Matrix* z) const;

  // What Score() reads, exposed for explanations: raw rows standardised
  // into scratch->x, the detector's outputs into scratch->det (only when
  // inputs().reads_detector(); otherwise it is left as it was), the
  // standardised UAI inputs into scratch->u (rows x inputs().width()) and,
  // when uai().has_leaves(), the leaf codes into scratch->leaves. The
  // forest's error when the column count is wrong.
  absl::Status BuildInputs(const ConstMatrixRef& rows, ScoreScratch* scratch) const;

  const Standardizer& input_standardizer() const { return input_; }
  const std::shared_ptr<const DeepDetector>& detector() const { return detector_; }
  const std::shared_ptr<const IsolationForest>& forest() const { return forest_; }
  const UaiInputs& inputs() const { return inputs_; }
  const UaiLayer& uai() const { return uai_; }

  // Serialisation: a restored model gives bit-identical scores.
  std::string Serialize() const;
  // DATA_LOSS naming the part for truncated, corrupt or inconsistent bytes,
  // and for a format version this build does not read (1 and 2 it does).
  static absl::StatusOr<std::shared_ptr<const ActiveModel>> Deserialize(absl::string_view bytes);

 private:
  Standardizer input_;
  std::shared_ptr<const DeepDetector> detector_;
  std::shared_ptr<const IsolationForest> forest_;  // null when off
  UaiInputs inputs_;
  UaiLayer uai_;
  int64_t labels_used_;
};

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_ACTIVE_MODEL_H_
