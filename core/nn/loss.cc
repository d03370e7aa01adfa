#include "core/nn/loss.h"

#include <cmath>

namespace aad {

float MeanSquaredError(const ConstMatrixRef& pred, const ConstMatrixRef& target, Matrix* grad) {
  const float n = static_cast<float>(pred.size());
  if (grad != nullptr) {
    if (grad->rows() != pred.rows() || grad->cols() != pred.cols()) {
      grad->resize(pred.rows(), pred.cols());
    }
    grad->noalias() = (2.0f / n) * (pred - target);
    return (pred - target).squaredNorm() / n;
  }
  return (pred - target).squaredNorm() / n;
}

float WeightedBceWithLogits(const Eigen::Ref<const Vector>& logits,
                            const Eigen::Ref<const Vector>& labels,
                            const Eigen::Ref<const Vector>& weights, Vector* grad) {
  const Eigen::Index n = logits.size();
  if (grad != nullptr && grad->size() != n) grad->resize(n);
  double loss = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const float a = logits[i];
    loss += weights[i] * (Softplus(a) - labels[i] * a);
    if (grad != nullptr) (*grad)[i] = weights[i] * (Sigmoid(a) - labels[i]);
  }
  return static_cast<float>(loss);
}

}  // namespace aad
