#include "core/active/active_model.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {
// 2: the UAI layer's region block (LeafWeights) follows the "uai" record.
// Version 1 models (no region block) are still read.
constexpr uint32_t kFormatVersion = 2;
// Rows scored per block: bounds scratch memory for very large requests.
constexpr Eigen::Index kBlockRows = 4096;
}  // namespace

ActiveModel::ActiveModel(Standardizer input, std::shared_ptr<const DeepDetector> detector,
                         std::shared_ptr<const IsolationForest> forest, UaiInputs inputs,
                         UaiLayer uai, int64_t labels_used)
    : input_(std::move(input)),
      detector_(std::move(detector)),
      forest_(std::move(forest)),
      inputs_(std::move(inputs)),
      uai_(std::move(uai)),
      labels_used_(labels_used) {}

absl::Status ActiveModel::BuildInputs(const ConstMatrixRef& rows, ScoreScratch* scratch) const {
  input_.Transform(rows, &scratch->x);
  // The detector's outputs matter only to inputs that read them (not the
  // default ones, the forest score and the row): otherwise its inference
  // would be a fifth of the time of scoring, spent on nothing.
  if (inputs_.reads_detector()) detector_->Infer(scratch->x, &scratch->infer, &scratch->det);
  const float* forest = nullptr;
  if (forest_ != nullptr) {
    scratch->forest.resize(rows.rows());
    if (uai_.has_leaves()) {
      scratch->leaves.resize(static_cast<size_t>(rows.rows()) * forest_->num_trees());
      RETURN_IF_ERROR(forest_->ScoreAndLeaves(scratch->x, absl::MakeSpan(scratch->forest),
                                              absl::MakeSpan(scratch->leaves)));
    } else {
      RETURN_IF_ERROR(forest_->Score(scratch->x, absl::MakeSpan(scratch->forest)));
    }
    forest = scratch->forest.data();
  }
  inputs_.Build(scratch->x, scratch->det, forest, &scratch->u);
  return absl::OkStatus();
}

absl::Status ActiveModel::Score(const ConstMatrixRef& rows, ModelScores* out,
                                ScoreScratch* scratch) const {
  if (rows.cols() != input_dim()) {
    return absl::InvalidArgumentError(absl::StrCat("rows have ", rows.cols(),
                                                   " features, the model expects ", input_dim()));
  }
  ScoreScratch local;
  if (scratch == nullptr) scratch = &local;
  const Eigen::Index n = rows.rows();
  out->logit.resize(n);
  out->unsupervised.resize(n);
  Vector block_logit;
  for (Eigen::Index start = 0; start < n; start += kBlockRows) {
    const Eigen::Index len = std::min(kBlockRows, n - start);
    RETURN_IF_ERROR(BuildInputs(rows.middleRows(start, len), scratch));
    uai_.Logits(scratch->u, scratch->leaves, &block_logit);
    out->logit.segment(start, len) = block_logit;
    out->unsupervised.segment(start, len).noalias() = scratch->u * uai_.w0();
  }
  out->p = out->logit.unaryExpr([](float a) {
    return a >= 0 ? 1.0f / (1.0f + std::exp(-a)) : std::exp(a) / (1.0f + std::exp(a));
  });
  return absl::OkStatus();
}

absl::Status ActiveModel::Embed(const ConstMatrixRef& rows, Matrix* z) const {
  if (rows.cols() != input_dim()) {
    return absl::InvalidArgumentError(absl::StrCat("rows have ", rows.cols(),
                                                   " features, the model expects ", input_dim()));
  }
  ScoreScratch scratch;
  input_.Transform(rows, &scratch.x);
  detector_->Infer(scratch.x, &scratch.infer, &scratch.det);
  *z = std::move(scratch.det.z);
  return absl::OkStatus();
}

std::string ActiveModel::Serialize() const {
  ByteWriter out;
  out.WriteString("aad_active_model");
  out.WriteU32(kFormatVersion);
  out.WriteU64(static_cast<uint64_t>(labels_used_));
  input_.Serialize(&out);
  detector_->Serialize(&out);
  out.WriteU32(forest_ != nullptr ? 1 : 0);
  if (forest_ != nullptr) forest_->Serialize(&out);
  inputs_.Serialize(&out);
  uai_.Serialize(&out);
  return out.Release();
}

absl::StatusOr<std::shared_ptr<const ActiveModel>> ActiveModel::Deserialize(
    absl::string_view bytes) {
  ByteReader in(bytes);
  RETURN_IF_ERROR(in.ExpectTag("aad_active_model"));
  ASSIGN_OR_RETURN(uint32_t version, in.ReadU32("format version"));
  if (version < 1 || version > kFormatVersion) {
    return absl::DataLossError(absl::StrCat("model format version ", version,
                                            " is not supported (this build reads ",
                                            kFormatVersion, ")"));
  }
  ASSIGN_OR_RETURN(uint64_t labels_used, in.ReadU64("labels_used"));
  ASSIGN_OR_RETURN(Standardizer input, Standardizer::Deserialize(&in));
  ASSIGN_OR_RETURN(std::unique_ptr<DeepDetector> detector, DeserializeDetector(&in));
  ASSIGN_OR_RETURN(uint32_t has_forest, in.ReadU32("has_forest"));
  std::shared_ptr<const IsolationForest> forest;
  if (has_forest != 0) {
    ASSIGN_OR_RETURN(IsolationForest f, IsolationForest::Deserialize(&in));
    forest = std::make_shared<const IsolationForest>(std::move(f));
  }
  ASSIGN_OR_RETURN(UaiInputs inputs, UaiInputs::Deserialize(&in));
  ASSIGN_OR_RETURN(UaiLayer uai, UaiLayer::Deserialize(&in, /*with_leaves=*/version >= 2));
  if (!in.AtEnd()) {
    return absl::DataLossError(absl::StrCat(in.remaining(), " unexpected bytes after the model"));
  }
  if (detector->input_dim() != input.dims() || uai.inputs() != inputs.width() ||
      (forest != nullptr) != (inputs.forest_column() >= 0 || uai.has_leaves())) {
    return absl::DataLossError("model parts disagree on their dimensions");
  }
  if (uai.has_leaves() &&
      (uai.leaf_trees() != forest->num_trees() || forest->max_leaves() > LeafWeights::kLeavesPerTree)) {
    return absl::DataLossError(absl::StrCat("the UAI layer reads the leaves of ", uai.leaf_trees(),
                                            " trees, the forest has ", forest->num_trees(),
                                            " trees of up to ", forest->max_leaves(), " leaves"));
  }
  return std::make_shared<const ActiveModel>(std::move(input), std::move(detector),
                                             std::move(forest), std::move(inputs),
                                             std::move(uai), static_cast<int64_t>(labels_used));
}

}  // namespace aad
