// Losses with their gradients, over a batch.
#ifndef AADD_CORE_NN_LOSS_H_
#define AADD_CORE_NN_LOSS_H_

#include <cmath>

#include "core/nn/tensor.h"

namespace aad {

// Mean squared error over all entries: L = mean((pred - target)^2).
// Writes dL/dpred into grad (resized if needed) when grad is non-null.
float MeanSquaredError(const ConstMatrixRef& pred, const ConstMatrixRef& target, Matrix* grad);

// Weighted binary cross-entropy on logits, numerically stable:
// L = sum_i w_i * (softplus(a_i) - y_i a_i), i.e. -w_i [y log p + (1-y) log(1-p)]
// with p = sigmoid(a). Writes dL/da_i = w_i (p_i - y_i) into grad when
// non-null. Labels are 0 or 1; weights carry class balance and normalisation.
float WeightedBceWithLogits(const Eigen::Ref<const Vector>& logits,
                            const Eigen::Ref<const Vector>& labels,
                            const Eigen::Ref<const Vector>& weights, Vector* grad);

// Numerically stable sigmoid and softplus, element-wise.
inline float Sigmoid(float a) {
  return a >= 0 ? 1.0f / (1.0f + std::exp(-a)) : std::exp(a) / (1.0f + std::exp(a));
}
inline float Softplus(float a) { return a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a)); }

}  // namespace aad

#endif  // AADD_CORE_NN_LOSS_H_
