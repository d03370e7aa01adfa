#include "core/active/uai_layer.h"

#include <Eigen/Cholesky>

#include "absl/strings/str_cat.h"
#include "core/nn/loss.h"
#include "core/util/status_macros.h"

namespace aad {

Vector ClassBalancedWeights(absl::Span<const uint8_t> anomaly) {
  int64_t positives = 0;
  for (uint8_t a : anomaly) positives += a ? 1 : 0;
  const int64_t negatives = static_cast<int64_t>(anomaly.size()) - positives;
  const int classes = (positives > 0) + (negatives > 0);
  Vector w(anomaly.size());
  for (size_t i = 0; i < anomaly.size(); ++i) {
    const int64_t n = anomaly[i] ? positives : negatives;
    w[i] = 1.0f / static_cast<float>(classes * n);
  }
  return w;
}

UaiLayer::UaiLayer(Vector w0, float b0) : w_(w0), w0_(std::move(w0)), b_(b0), b0_(b0) {}

void UaiLayer::Logits(const ConstMatrixRef& u, Vector* out) const {
  if (out->size() != u.rows()) out->resize(u.rows());
  out->noalias() = u * w_;
  out->array() += b_;
}

double UaiLayer::Objective(const ConstMatrixRef& u, absl::Span<const uint8_t> anomaly,
                           float prior_strength, float bias_prior_strength, Vector* grad) const {
  const Eigen::Index m = u.rows();
  const Vector c = ClassBalancedWeights(anomaly);
  Vector y(m);
  for (Eigen::Index i = 0; i < m; ++i) y[i] = anomaly[i] ? 1.0f : 0.0f;
  Vector a;
  Logits(u, &a);
  Vector da;
  double value = WeightedBceWithLogits(a, y, c, grad != nullptr ? &da : nullptr);
  value += prior_strength * (w_ - w0_).squaredNorm() + bias_prior_strength * (b_ - b0_) * (b_ - b0_);
  if (grad != nullptr) {
    grad->resize(w_.size() + 1);
    grad->head(w_.size()).noalias() = u.transpose() * da + 2.0f * prior_strength * (w_ - w0_);
    (*grad)[w_.size()] = da.sum() + 2.0f * bias_prior_strength * (b_ - b0_);
  }
  return value;
}

absl::Status UaiLayer::Fit(const ConstMatrixRef& u, absl::Span<const uint8_t> anomaly,
                           const UaiFitOptions& options) {
  if (u.cols() != w_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("UAI layer has ", w_.size(),
                                                   " inputs, got rows of ", u.cols()));
  }
  if (static_cast<size_t>(u.rows()) != anomaly.size()) {
    return absl::InvalidArgumentError(absl::StrCat("UAI fit: ", u.rows(), " rows but ",
                                                   anomaly.size(), " labels"));
  }
  if (options.prior_strength <= 0.0f) {
    return absl::InvalidArgumentError(absl::StrCat(
        "UAI fit: prior_strength must be positive, got ", options.prior_strength));
  }
  if (u.rows() == 0) {
    w_ = w0_;
    b_ = b0_;
    return absl::OkStatus();
  }
  // Newton in double precision: the system is tiny, and float Hessians of
  // nearly separable data lose the small curvature that matters.
  const Eigen::Index m = u.rows(), p = u.cols();
  Eigen::MatrixXd ua(m, p + 1);
  ua.leftCols(p) = u.cast<double>();
  ua.col(p).setOnes();
  const Vector cw = ClassBalancedWeights(anomaly);
  const Eigen::VectorXd c = cw.cast<double>();
  Eigen::VectorXd y(m);
  for (Eigen::Index i = 0; i < m; ++i) y[i] = anomaly[i] ? 1.0 : 0.0;
  Eigen::VectorXd theta(p + 1), theta0(p + 1);
  theta << w_.cast<double>(), b_;
  theta0 << w0_.cast<double>(), b0_;
  // Per-coordinate pull: weights towards w0, the bias barely (see
  // UaiFitOptions::bias_prior_strength).
  Eigen::VectorXd lambda = Eigen::VectorXd::Constant(p + 1, options.prior_strength);
  lambda[p] = options.bias_prior_strength;

  auto objective = [&](const Eigen::VectorXd& t, Eigen::VectorXd* a_out) {
    Eigen::VectorXd a = ua * t;
    double v = 0.0;
    for (Eigen::Index i = 0; i < m; ++i) {
      const double ai = a[i];
      const double sp = ai > 0 ? ai + std::log1p(std::exp(-ai)) : std::log1p(std::exp(ai));
      v += c[i] * (sp - y[i] * ai);
    }
    v += (lambda.array() * (t - theta0).array().square()).sum();
    if (a_out != nullptr) *a_out = std::move(a);
    return v;
  };

  Eigen::VectorXd a;
  double value = objective(theta, &a);
  Eigen::MatrixXd hessian(p + 1, p + 1);
  Eigen::VectorXd grad(p + 1), r(m), curvature(m);
  Eigen::LDLT<Eigen::MatrixXd> solver;
  for (int step = 0; step < options.max_newton_steps; ++step) {
    for (Eigen::Index i = 0; i < m; ++i) {
      const double pi = 1.0 / (1.0 + std::exp(-a[i]));
      r[i] = c[i] * (pi - y[i]);
      curvature[i] = c[i] * pi * (1.0 - pi);
    }
    grad.noalias() = ua.transpose() * r;
    grad.array() += 2.0 * lambda.array() * (theta - theta0).array();
    hessian.noalias() = ua.transpose() * curvature.asDiagonal() * ua;
    hessian.diagonal().array() += 2.0 * lambda.array();
    solver.compute(hessian);
    const Eigen::VectorXd delta = solver.solve(grad);
    const double decrement = grad.dot(delta);
    if (decrement < 2.0 * options.tolerance) break;
    // Backtracking line search keeps every step a descent step.
    double t = 1.0;
    for (int ls = 0; ls < 30; ++ls, t *= 0.5) {
      Eigen::VectorXd candidate = theta - t * delta;
      Eigen::VectorXd a_candidate;
      const double v = objective(candidate, &a_candidate);
      if (v <= value - 0.25 * t * decrement) {
        theta = std::move(candidate);
        a = std::move(a_candidate);
        value = v;
        break;
      }
    }
  }
  w_ = theta.head(p).cast<float>();
  b_ = static_cast<float>(theta[p]);
  return absl::OkStatus();
}

void UaiLayer::BackwardInput(const Vector& da, Matrix* du) const {
  if (du->rows() != da.size() || du->cols() != w_.size()) du->resize(da.size(), w_.size());
  du->noalias() = da * w_.transpose();
}

void UaiLayer::Serialize(ByteWriter* out) const {
  out->WriteString("uai");
  out->WriteVector(w_);
  out->WriteF32(b_);
  out->WriteVector(w0_);
  out->WriteF32(b0_);
}

absl::StatusOr<UaiLayer> UaiLayer::Deserialize(ByteReader* in) {
  RETURN_IF_ERROR(in->ExpectTag("uai"));
  UaiLayer layer;
  ASSIGN_OR_RETURN(layer.w_, in->ReadVector("uai.w"));
  ASSIGN_OR_RETURN(layer.b_, in->ReadF32("uai.b"));
  ASSIGN_OR_RETURN(layer.w0_, in->ReadVector("uai.w0"));
  ASSIGN_OR_RETURN(layer.b0_, in->ReadF32("uai.b0"));
  if (layer.w0_.size() != layer.w_.size()) {
    return absl::DataLossError(absl::StrCat("uai: prior has ", layer.w0_.size(),
                                            " weights, layer has ", layer.w_.size()));
  }
  return layer;
}

}  // namespace aad
