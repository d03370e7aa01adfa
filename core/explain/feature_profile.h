// The pool's typical value of each feature, what an explanation sets a
// row's value against: the median and a robust spread (1.4826 times the
// median absolute deviation, the standard deviation for normal data; an
// outlier moves neither).
#ifndef AADD_CORE_EXPLAIN_FEATURE_PROFILE_H_
#define AADD_CORE_EXPLAIN_FEATURE_PROFILE_H_

#include <cstdint>
#include <vector>

#include "core/data/standardizer.h"
#include "core/nn/tensor.h"

namespace aad {

// Immutable once built; const methods are thread-safe.
class FeatureProfile {
 public:
  // Rows read at most: evenly strided over the pool, so a profile of a
  // million rows costs what one of 4096 does, and is the same at every call.
  // 4096 rows put the median within about 0.02 standard deviations of the
  // pool's (its standard error is 1.25 sigma / sqrt(n) for normal data).
  static constexpr int64_t kMaxRows = 4096;

  FeatureProfile() = default;
  // From raw rows: from rows SampleRows(rows.rows()) of them.
  static FeatureProfile FromRows(const ConstMatrixRef& rows);
  // The rows of n that a profile reads: at most kMaxRows, evenly spread,
  // the first included, no repeats, ascending. A profile of just these rows,
  // in this order, is the profile of all n.
  static std::vector<int64_t> SampleRows(int64_t n);
  // From rows standardised by `standardizer`, reported in raw units (the
  // median and the MAD commute with its increasing affine map).
  static FeatureProfile FromStandardized(const ConstMatrixRef& rows,
                                         const Standardizer& standardizer);

  int dims() const { return static_cast<int>(median_.size()); }
  float median(int feature) const { return median_[feature]; }
  float spread(int feature) const { return spread_[feature]; }

 private:
  std::vector<float> median_, spread_;
};

}  // namespace aad

#endif  // AADD_CORE_EXPLAIN_FEATURE_PROFILE_H_
