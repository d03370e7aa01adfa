#include "core/active/uai_inputs.h"

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace aad {

UaiInputs::UaiInputs(const UaiInputOptions& options, int input_dim, int latent_dim,
                     int evidence_dim)
    : options_(options), input_dim_(input_dim), latent_dim_(latent_dim),
      evidence_dim_(evidence_dim) {
  Layout();
}

void UaiInputs::Layout() {
  int col = 0;
  auto take = [&col](bool on, int width) {
    if (!on) return -1;
    const int start = col;
    col += width;
    return start;
  };
  latent_col_ = take(options_.latent, latent_dim_);
  evidence_col_ = take(options_.evidence, evidence_dim_);
  score_col_ = take(options_.score, 1);
  forest_col_ = take(options_.forest, 1);
  input_col_ = take(options_.raw_input, input_dim_);
  width_ = col;
}

void UaiInputs::BuildRaw(const ConstMatrixRef& x, const DetectorOutput& det, const float* forest,
                         Matrix* u) const {
  const Eigen::Index n = x.rows();
  if (u->rows() != n || u->cols() != width_) u->resize(n, width_);
  const float eps = options_.log_epsilon;
  if (latent_col_ >= 0) u->middleCols(latent_col_, latent_dim_) = det.z;
  if (evidence_col_ >= 0) {
    if (options_.log_scale) {
      u->middleCols(evidence_col_, evidence_dim_).array() = (det.e.array() + eps).log();
    } else {
      u->middleCols(evidence_col_, evidence_dim_) = det.e;
    }
  }
  if (score_col_ >= 0) {
    if (options_.log_scale) {
      u->col(score_col_).array() = (det.s.array() + eps).log();
    } else {
      u->col(score_col_) = det.s;
    }
  }
  if (forest_col_ >= 0) {
    u->col(forest_col_) = Eigen::Map<const Vector>(forest, n);
  }
  if (input_col_ >= 0) u->middleCols(input_col_, input_dim_) = x;
}

void UaiInputs::Build(const ConstMatrixRef& x, const DetectorOutput& det, const float* forest,
                      Matrix* u) const {
  BuildRaw(x, det, forest, u);
  Standardize(*u);
}

void UaiInputs::BuildFromRaw(const ConstMatrixRef& raw, const Standardizer& input,
                             const float* forest, Matrix* u) const {
  const Eigen::Index n = raw.rows();
  if (u->rows() != n || u->cols() != width_) u->resize(n, width_);
  const RowVector& mean = standardizer_.mean();
  const RowVector& scale = standardizer_.scale();
  if (forest_col_ >= 0) {
    u->col(forest_col_) = (Eigen::Map<const Vector>(forest, n).array() - mean[forest_col_]) /
                          scale[forest_col_];
  }
  if (input_col_ >= 0) {
    // Each value rounded after every operation, as the two standardisations
    // one after the other round it.
    u->middleCols(input_col_, input_dim_) =
        (((raw.rowwise() - input.mean()).array().rowwise() / input.scale().array()).rowwise() -
         mean.segment(input_col_, input_dim_).array())
            .rowwise() /
        scale.segment(input_col_, input_dim_).array();
  }
}

void UaiInputs::Backward(const Matrix& du, const DetectorOutput& det, Matrix* dz, Matrix* de,
                         Vector* ds) const {
  const Eigen::Index n = du.rows();
  const RowVector& scale = standardizer_.scale();
  const float eps = options_.log_epsilon;
  dz->setZero(n, latent_dim_);
  de->setZero(n, evidence_dim_);
  ds->setZero(n);
  if (latent_col_ >= 0) {
    dz->array() = du.middleCols(latent_col_, latent_dim_).array().rowwise() /
                  scale.segment(latent_col_, latent_dim_).array();
  }
  if (evidence_col_ >= 0) {
    de->array() = du.middleCols(evidence_col_, evidence_dim_).array().rowwise() /
                  scale.segment(evidence_col_, evidence_dim_).array();
    if (options_.log_scale) de->array() /= det.e.array() + eps;
  }
  if (score_col_ >= 0) {
    ds->array() = du.col(score_col_).array() / scale[score_col_];
    if (options_.log_scale) ds->array() /= det.s.array() + eps;
  }
}

void UaiInputs::Serialize(ByteWriter* out) const {
  out->WriteString("uai_inputs");
  const uint32_t flags = (options_.latent ? 1u : 0u) | (options_.evidence ? 2u : 0u) |
                         (options_.score ? 4u : 0u) | (options_.forest ? 8u : 0u) |
                         (options_.raw_input ? 16u : 0u) | (options_.log_scale ? 32u : 0u);
  out->WriteU32(flags);
  out->WriteF32(options_.log_epsilon);
  out->WriteU32(static_cast<uint32_t>(input_dim_));
  out->WriteU32(static_cast<uint32_t>(latent_dim_));
  out->WriteU32(static_cast<uint32_t>(evidence_dim_));
  standardizer_.Serialize(out);
}

absl::StatusOr<UaiInputs> UaiInputs::Deserialize(ByteReader* in) {
  RETURN_IF_ERROR(in->ExpectTag("uai_inputs"));
  ASSIGN_OR_RETURN(uint32_t flags, in->ReadU32("uai_inputs.flags"));
  UaiInputOptions options;
  options.latent = flags & 1u;
  options.evidence = flags & 2u;
  options.score = flags & 4u;
  options.forest = flags & 8u;
  options.raw_input = flags & 16u;
  options.log_scale = flags & 32u;
  ASSIGN_OR_RETURN(options.log_epsilon, in->ReadF32("uai_inputs.log_epsilon"));
  ASSIGN_OR_RETURN(uint32_t input_dim, in->ReadU32("uai_inputs.input_dim"));
  ASSIGN_OR_RETURN(uint32_t latent_dim, in->ReadU32("uai_inputs.latent_dim"));
  ASSIGN_OR_RETURN(uint32_t evidence_dim, in->ReadU32("uai_inputs.evidence_dim"));
  // Widths come from untrusted bytes: bound them before they size a layout
  // (the fuzzer found an int overflow in Layout() here).
  constexpr uint32_t kMaxWidth = 1u << 20;
  if (input_dim > kMaxWidth || latent_dim > kMaxWidth || evidence_dim > kMaxWidth) {
    return absl::DataLossError(absl::StrCat("uai_inputs: implausible widths input=", input_dim,
                                            " latent=", latent_dim,
                                            " evidence=", evidence_dim));
  }
  UaiInputs inputs(options, static_cast<int>(input_dim), static_cast<int>(latent_dim),
                   static_cast<int>(evidence_dim));
  ASSIGN_OR_RETURN(inputs.standardizer_, Standardizer::Deserialize(in));
  if (inputs.standardizer_.dims() != inputs.width_) {
    return absl::DataLossError(absl::StrCat("uai_inputs: statistics for ",
                                            inputs.standardizer_.dims(), " columns, layout has ",
                                            inputs.width_));
  }
  return inputs;
}

}  // namespace aad
