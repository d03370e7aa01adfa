#include "core/data/standardizer.h"

#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {

constexpr char kTag[] = "aad.Standardizer.v1";

// Below this standard deviation, relative to the column's largest magnitude,
// a column is constant up to rounding: float32 data that truly varies has a
// relative spread of at least ~1e-7, and the double accumulation error of a
// constant column is ~1e-16.
constexpr double kConstantRelativeStddev = 1e-12;

}  // namespace

void Standardizer::Fit(const ConstMatrixRef& x) { Fit(PoolRows::View(x)); }

void Standardizer::Fit(const PoolRows& x) {
  const Eigen::Index rows = x.rows();
  const Eigen::Index cols = x.cols();
  // Two passes in double: the one-pass sum-of-squares formula cancels
  // catastrophically for columns with a large mean and a small spread.
  std::vector<double> sum(cols, 0.0);
  std::vector<double> max_abs(cols, 0.0);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const float* row = x.Row(r);
    for (Eigen::Index c = 0; c < cols; ++c) {
      sum[c] += row[c];
      max_abs[c] = std::fmax(max_abs[c], std::fabs(static_cast<double>(row[c])));
    }
  }
  std::vector<double> mean(cols, 0.0);
  if (rows > 0) {
    for (Eigen::Index c = 0; c < cols; ++c) mean[c] = sum[c] / static_cast<double>(rows);
  }
  std::vector<double> squares(cols, 0.0);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const float* row = x.Row(r);
    for (Eigen::Index c = 0; c < cols; ++c) {
      const double d = row[c] - mean[c];
      squares[c] += d * d;
    }
  }
  mean_.resize(cols);
  scale_.resize(cols);
  for (Eigen::Index c = 0; c < cols; ++c) {
    const double stddev = rows > 0 ? std::sqrt(squares[c] / static_cast<double>(rows)) : 0.0;
    mean_[c] = static_cast<float>(mean[c]);
    // A constant column carries no information; scale 1 maps it to 0 instead
    // of dividing by (almost) zero and blowing rounding noise up to O(1).
    const bool constant = stddev <= kConstantRelativeStddev * max_abs[c];
    scale_[c] = constant ? 1.0f : static_cast<float>(stddev);
    // A spread below float32's smallest normal would flush to zero.
    if (!(scale_[c] > 0.0f)) scale_[c] = 1.0f;
  }
}

void Standardizer::Transform(const ConstMatrixRef& x, Matrix* out) const {
  if (out->rows() != x.rows() || out->cols() != x.cols()) out->resize(x.rows(), x.cols());
  if (x.cols() != mean_.size()) {
    // A contract violation with no status to return: poison the output
    // rather than read past the statistics.
    out->setConstant(std::numeric_limits<float>::quiet_NaN());
    return;
  }
  // Coefficient-wise, so `out` may alias `x`.
  *out = (x.rowwise() - mean_).array().rowwise() / scale_.array();
}

void Standardizer::TransformInPlace(MatrixRef x) const {
  if (x.cols() != mean_.size()) {
    x.setConstant(std::numeric_limits<float>::quiet_NaN());
    return;
  }
  // The same expression as Transform, so both give bit-identical results.
  x = (x.rowwise() - mean_).array().rowwise() / scale_.array();
}

void Standardizer::Serialize(ByteWriter* out) const {
  out->WriteString(kTag);
  out->WriteRowVector(mean_);
  out->WriteRowVector(scale_);
}

absl::StatusOr<Standardizer> Standardizer::Deserialize(ByteReader* in) {
  RETURN_IF_ERROR(in->ExpectTag(kTag));
  Standardizer s;
  ASSIGN_OR_RETURN(s.mean_, in->ReadRowVector("standardizer.mean"));
  ASSIGN_OR_RETURN(s.scale_, in->ReadRowVector("standardizer.scale"));
  if (s.mean_.size() != s.scale_.size()) {
    return absl::DataLossError(absl::StrCat("standardizer has ", s.mean_.size(),
                                            " means but ", s.scale_.size(), " scales"));
  }
  for (Eigen::Index c = 0; c < s.mean_.size(); ++c) {
    if (!std::isfinite(s.mean_[c]) || !std::isfinite(s.scale_[c]) || !(s.scale_[c] > 0.0f)) {
      return absl::DataLossError(absl::StrCat("standardizer column ", c, " has mean ",
                                              s.mean_[c], " and scale ", s.scale_[c],
                                              "; a scale must be finite and positive"));
    }
  }
  return s;
}

}  // namespace aad
