// Finite-difference gradient checking for the core's networks.
#ifndef AADD_TESTS_CORE_GRADIENT_CHECK_H_
#define AADD_TESTS_CORE_GRADIENT_CHECK_H_

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "core/nn/parameter.h"
#include "core/util/random.h"
#include "gtest/gtest.h"

namespace aad::testing {

// Compares the analytic gradient in each parameter's grad buffer with central
// differences of `loss` (evaluated in double, perturbing float storage).
// Checks up to `samples` entries per tensor. Relative error is measured
// against max(|analytic|, |numeric|, floor).
inline void ExpectGradientsMatch(const std::vector<Parameter>& params,
                                 const std::function<double()>& loss, int samples = 40,
                                 double eps = 1e-3, double tolerance = 2e-2, double floor = 1e-2) {
  Rng rng(1234);
  for (size_t k = 0; k < params.size(); ++k) {
    const Parameter& p = params[k];
    const size_t n = std::min<size_t>(p.size, static_cast<size_t>(samples));
    for (size_t s = 0; s < n; ++s) {
      const size_t i = p.size <= static_cast<size_t>(samples) ? s : rng.UniformInt(p.size);
      const float saved = p.value[i];
      p.value[i] = saved + static_cast<float>(eps);
      const double up = loss();
      p.value[i] = saved - static_cast<float>(eps);
      const double down = loss();
      p.value[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      const double analytic = p.grad[i];
      const double scale = std::max({std::abs(numeric), std::abs(analytic), floor});
      EXPECT_LE(std::abs(numeric - analytic) / scale, tolerance)
          << "tensor " << k << " entry " << i << ": analytic " << analytic << ", numeric "
          << numeric;
    }
  }
}

}  // namespace aad::testing

#endif  // AADD_TESTS_CORE_GRADIENT_CHECK_H_
