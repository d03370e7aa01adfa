#include "core/explain/feature_profile.h"

#include <algorithm>
#include <cmath>

namespace aad {
namespace {

// The median of `v` (reordered); the mean of the two middle values when
// the count is even.
float Median(std::vector<float>* v) {
  const size_t n = v->size();
  if (n == 0) return 0.0f;
  auto mid = v->begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(v->begin(), mid, v->end());
  const float upper = *mid;
  if (n % 2 == 1) return upper;
  const float lower = *std::max_element(v->begin(), mid);
  return 0.5f * (lower + upper);
}

}  // namespace

std::vector<int64_t> FeatureProfile::SampleRows(int64_t n) {
  const int64_t take = std::min<int64_t>(n, kMaxRows);
  std::vector<int64_t> ids(static_cast<size_t>(take));
  for (int64_t i = 0; i < take; ++i) ids[i] = i * n / take;
  return ids;
}

FeatureProfile FeatureProfile::FromRows(const ConstMatrixRef& rows) {
  FeatureProfile profile;
  const int64_t n = rows.rows();
  const Eigen::Index dims = rows.cols();
  const std::vector<int64_t> sample = SampleRows(n);
  const int64_t take = static_cast<int64_t>(sample.size());
  profile.median_.assign(dims, 0.0f);
  profile.spread_.assign(dims, 0.0f);
  if (take == 0) return profile;
  // Gather the sample row by row (rows are contiguous) into columns.
  std::vector<float> columns(static_cast<size_t>(take * dims));
  for (int64_t i = 0; i < take; ++i) {
    const float* row = rows.data() + sample[i] * rows.outerStride();
    for (Eigen::Index f = 0; f < dims; ++f) columns[f * take + i] = row[f];
  }
  std::vector<float> column(static_cast<size_t>(take));
  for (Eigen::Index f = 0; f < dims; ++f) {
    std::copy_n(columns.begin() + f * take, take, column.begin());
    const float median = Median(&column);
    for (float& v : column) v = std::fabs(v - median);
    profile.median_[f] = median;
    profile.spread_[f] = 1.4826f * Median(&column);
  }
  return profile;
}

FeatureProfile FeatureProfile::FromStandardized(const ConstMatrixRef& rows,
                                                const Standardizer& standardizer) {
  FeatureProfile profile = FromRows(rows);
  if (standardizer.dims() != profile.dims()) return profile;
  for (int f = 0; f < profile.dims(); ++f) {
    const float scale = standardizer.scale()[f];
    profile.median_[f] = profile.median_[f] * scale + standardizer.mean()[f];
    profile.spread_[f] *= scale;
  }
  return profile;
}

}  // namespace aad
