#include "core/active/uai_layer.h"

#include <Eigen/Cholesky>

#include "absl/strings/str_cat.h"
#include "core/active/sparse_logistic_fit.h"
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

UaiLayer::UaiLayer(Vector w0, float b0, LeafWeights leaves)
    : w_(w0), w0_(std::move(w0)), b_(b0), b0_(b0), leaves_(std::move(leaves)) {}

void UaiLayer::Logits(const ConstMatrixRef& u, Vector* out) const {
  if (out->size() != u.rows()) out->resize(u.rows());
  out->noalias() = u * w_;
  out->array() += b_;
}

void UaiLayer::Logits(const ConstMatrixRef& u, absl::Span<const LeafCode> codes,
                      Vector* out) const {
  Logits(u, out);
  if (has_leaves()) leaves_.AddTo(codes, u.rows(), out->data());
}

void UaiLayer::Logits(const ConstMatrixRef& u, const LeafCodeBlocks& codes, Vector* out) const {
  Logits(u, out);
  if (has_leaves()) leaves_.AddTo(codes, out->data());
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

absl::Status UaiLayer::Fit(const ConstMatrixRef& u, absl::Span<const LeafCode> codes,
                           absl::Span<const uint8_t> anomaly, const UaiFitOptions& options) {
  if (!has_leaves()) return Fit(u, anomaly, options);
  return FitWithLeaves(u, codes, anomaly, options);
}

absl::Status UaiLayer::Fit(const ConstMatrixRef& u, absl::Span<const uint8_t> anomaly,
                           const UaiFitOptions& options) {
  if (has_leaves()) {
    return absl::InvalidArgumentError("UAI fit: the layer reads leaves, give their codes");
  }
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

absl::Status UaiLayer::FitWithLeaves(const ConstMatrixRef& u,
                                     absl::Span<const LeafCode> codes,
                                     absl::Span<const uint8_t> anomaly,
                                     const UaiFitOptions& options) {
  const Eigen::Index m = u.rows(), p = u.cols();
  const int trees = leaves_.trees();
  if (p != w_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("UAI layer has ", w_.size(),
                                                   " inputs, got rows of ", p));
  }
  if (static_cast<size_t>(m) != anomaly.size() ||
      codes.size() != static_cast<size_t>(m) * trees) {
    return absl::InvalidArgumentError(absl::StrCat("UAI fit: ", m, " rows, ", anomaly.size(),
                                                   " labels and ", codes.size(),
                                                   " leaf codes for ", trees, " trees"));
  }
  if (options.prior_strength <= 0.0f || options.leaf_prior_strength <= 0.0f) {
    return absl::InvalidArgumentError(absl::StrCat(
        "UAI fit: prior_strength and leaf_prior_strength must be positive, got ",
        options.prior_strength, " and ", options.leaf_prior_strength));
  }
  if (m == 0) {
    w_ = w0_;
    b_ = b0_;
    leaves_.Clear();
    return absl::OkStatus();
  }
  SparseLogisticProblem problem;
  problem.x.resize(m, p + 1);
  problem.x.leftCols(p) = u.cast<double>();
  problem.x.col(p).setOnes();
  problem.c = ClassBalancedWeights(anomaly).cast<double>();
  problem.y.resize(m);
  for (Eigen::Index i = 0; i < m; ++i) problem.y[i] = anomaly[i] ? 1.0 : 0.0;
  problem.lambda = Eigen::VectorXd::Constant(p + 1, options.prior_strength);
  problem.lambda[p] = options.bias_prior_strength;
  problem.theta0.resize(p + 1);
  problem.theta0 << w0_.cast<double>(), b0_;
  problem.mu = options.leaf_prior_strength;
  problem.trees = trees;
  // One variable per leaf that holds a labelled row, numbered in order of
  // first appearance (deterministic).
  std::vector<int32_t> slot_of(static_cast<size_t>(leaves_.size()), -1);
  std::vector<int32_t> leaf_of_slot;
  problem.slots.resize(codes.size());
  for (Eigen::Index i = 0; i < m; ++i) {
    for (int t = 0; t < trees; ++t) {
      const size_t at = static_cast<size_t>(i) * trees + t;
      const int32_t leaf = t * LeafWeights::kLeavesPerTree + codes[at];
      if (slot_of[leaf] < 0) {
        slot_of[leaf] = static_cast<int32_t>(leaf_of_slot.size());
        leaf_of_slot.push_back(leaf);
      }
      problem.slots[at] = slot_of[leaf];
    }
  }
  problem.leaf_count = static_cast<int>(leaf_of_slot.size());
  // Warm start from the current weights.
  Eigen::VectorXd theta(p + 1), v(problem.leaf_count);
  theta << w_.cast<double>(), b_;
  for (int k = 0; k < problem.leaf_count; ++k) v[k] = leaves_.Get(leaf_of_slot[k]);
  NewtonCgOptions solver;
  solver.max_newton_steps = options.max_newton_steps;
  solver.tolerance = options.tolerance;
  MinimiseSparseLogistic(problem, solver, &theta, &v);
  w_ = theta.head(p).cast<float>();
  b_ = static_cast<float>(theta[p]);
  leaves_.Clear();
  for (int k = 0; k < problem.leaf_count; ++k) leaves_.Set(leaf_of_slot[k], v[k]);
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
  out->WriteU32(has_leaves() ? 1 : 0);
  if (has_leaves()) leaves_.Serialize(out);
}

absl::StatusOr<UaiLayer> UaiLayer::Deserialize(ByteReader* in, bool with_leaves) {
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
  if (with_leaves) {
    ASSIGN_OR_RETURN(const uint32_t has_leaves, in->ReadU32("uai.has_leaves"));
    if (has_leaves > 1) {
      return absl::DataLossError(absl::StrCat("uai: has_leaves is ", has_leaves));
    }
    if (has_leaves == 1) {
      ASSIGN_OR_RETURN(layer.leaves_, LeafWeights::Deserialize(in));
      if (layer.leaves_.empty()) return absl::DataLossError("uai: region block of 0 trees");
    }
  }
  return layer;
}

}  // namespace aad
