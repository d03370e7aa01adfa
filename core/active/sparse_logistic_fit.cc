#include "core/active/sparse_logistic_fit.h"

#include <algorithm>
#include <cmath>

namespace aad {
namespace {

double Softplus(double a) { return a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a)); }

// The linear map (theta, v) -> a and its transpose, over the labelled rows.
class Design {
 public:
  explicit Design(const SparseLogisticProblem& p) : p_(p) {}

  // a = x theta + S v
  void Apply(const Eigen::VectorXd& theta, const Eigen::VectorXd& v, Eigen::VectorXd* a) const {
    a->noalias() = p_.x * theta;
    const int32_t* s = p_.slots.data();
    for (Eigen::Index i = 0; i < a->size(); ++i, s += p_.trees) {
      double sum = 0.0;
      for (int t = 0; t < p_.trees; ++t) sum += v[s[t]];
      (*a)[i] += sum;
    }
  }

  // g_theta = x^T r, g_v = S^T r
  void ApplyTransposed(const Eigen::VectorXd& r, Eigen::VectorXd* g_theta,
                       Eigen::VectorXd* g_v) const {
    g_theta->noalias() = p_.x.transpose() * r;
    g_v->setZero(p_.leaf_count);
    const int32_t* s = p_.slots.data();
    for (Eigen::Index i = 0; i < r.size(); ++i, s += p_.trees) {
      for (int t = 0; t < p_.trees; ++t) (*g_v)[s[t]] += r[i];
    }
  }

 private:
  const SparseLogisticProblem& p_;
};

double Loss(const SparseLogisticProblem& p, const Eigen::VectorXd& a) {
  double value = 0.0;
  for (Eigen::Index i = 0; i < a.size(); ++i) value += p.c[i] * (Softplus(a[i]) - p.y[i] * a[i]);
  return value;
}

double Penalty(const SparseLogisticProblem& p, const Eigen::VectorXd& theta,
               const Eigen::VectorXd& v) {
  return (p.lambda.array() * (theta - p.theta0).array().square()).sum() + p.mu * v.squaredNorm();
}

}  // namespace

double SparseLogisticObjective(const SparseLogisticProblem& problem,
                               const Eigen::VectorXd& theta, const Eigen::VectorXd& v) {
  Eigen::VectorXd a(problem.x.rows());
  Design(problem).Apply(theta, v, &a);
  return Loss(problem, a) + Penalty(problem, theta, v);
}

NewtonCgReport MinimiseSparseLogistic(const SparseLogisticProblem& p,
                                      const NewtonCgOptions& options, Eigen::VectorXd* theta,
                                      Eigen::VectorXd* v) {
  const Design design(p);
  const Eigen::Index m = p.x.rows(), k = p.x.cols();
  const Eigen::Index leaves = p.leaf_count;
  NewtonCgReport report;
  Eigen::VectorXd a(m);
  design.Apply(*theta, *v, &a);
  double value = Loss(p, a) + Penalty(p, *theta, *v);

  Eigen::VectorXd r(m), curvature(m), q(m);
  Eigen::VectorXd g_theta(k), g_v(leaves), m_theta(k), m_v(leaves);
  Eigen::VectorXd x_theta(k), x_v(leaves), res_theta(k), res_v(leaves);
  Eigen::VectorXd z_theta(k), z_v(leaves), d_theta(k), d_v(leaves);
  Eigen::VectorXd h_theta(k), h_v(leaves), step_a(m);
  // H d = A^T D A d + 2 diag(lambda, mu) d
  auto hessian_times = [&](const Eigen::VectorXd& dt, const Eigen::VectorXd& dv) {
    design.Apply(dt, dv, &q);
    q.array() *= curvature.array();
    design.ApplyTransposed(q, &h_theta, &h_v);
    h_theta.array() += 2.0 * p.lambda.array() * dt.array();
    h_v += 2.0 * p.mu * dv;
  };

  for (int step = 0; step < options.max_newton_steps; ++step) {
    for (Eigen::Index i = 0; i < m; ++i) {
      const double pi = 1.0 / (1.0 + std::exp(-a[i]));
      r[i] = p.c[i] * (pi - p.y[i]);
      curvature[i] = p.c[i] * pi * (1.0 - pi);
    }
    design.ApplyTransposed(r, &g_theta, &g_v);
    g_theta.array() += 2.0 * p.lambda.array() * (theta->array() - p.theta0.array());
    g_v += 2.0 * p.mu * (*v);
    const double g_norm = std::sqrt(g_theta.squaredNorm() + g_v.squaredNorm());
    if (g_norm == 0.0) break;

    // Jacobi preconditioner: the Hessian's diagonal.
    m_theta = (p.x.array().square().colwise() * curvature.array()).colwise().sum().transpose();
    m_theta.array() += 2.0 * p.lambda.array();
    m_v.setConstant(2.0 * p.mu);
    const int32_t* s = p.slots.data();
    for (Eigen::Index i = 0; i < m; ++i, s += p.trees) {
      for (int t = 0; t < p.trees; ++t) m_v[s[t]] += curvature[i];
    }

    // Conjugate gradients on H x = g, to a relative residual that tightens
    // as the gradient shrinks (superlinear convergence of truncated Newton).
    const double forcing = std::min(0.5, std::sqrt(g_norm));
    x_theta.setZero();
    x_v.setZero();
    res_theta = g_theta;
    res_v = g_v;
    z_theta = res_theta.cwiseQuotient(m_theta);
    z_v = res_v.cwiseQuotient(m_v);
    d_theta = z_theta;
    d_v = z_v;
    double rz = res_theta.dot(z_theta) + res_v.dot(z_v);
    for (int cg = 0; cg < options.max_cg_steps; ++cg) {
      ++report.cg_steps;
      hessian_times(d_theta, d_v);
      const double dhd = d_theta.dot(h_theta) + d_v.dot(h_v);
      if (!(dhd > 0.0)) break;
      const double alpha = rz / dhd;
      x_theta += alpha * d_theta;
      x_v += alpha * d_v;
      res_theta -= alpha * h_theta;
      res_v -= alpha * h_v;
      if (std::sqrt(res_theta.squaredNorm() + res_v.squaredNorm()) <= forcing * g_norm) break;
      z_theta = res_theta.cwiseQuotient(m_theta);
      z_v = res_v.cwiseQuotient(m_v);
      const double rz_next = res_theta.dot(z_theta) + res_v.dot(z_v);
      const double beta = rz_next / rz;
      rz = rz_next;
      d_theta = z_theta + beta * d_theta;
      d_v = z_v + beta * d_v;
    }
    ++report.newton_steps;
    const double decrement = g_theta.dot(x_theta) + g_v.dot(x_v);
    if (!(decrement >= 2.0 * options.tolerance)) break;

    // Backtracking line search along -x; a is linear in the step.
    design.Apply(x_theta, x_v, &step_a);
    bool moved = false;
    double t = 1.0;
    for (int ls = 0; ls < 30; ++ls, t *= 0.5) {
      const Eigen::VectorXd a_try = a - t * step_a;
      const Eigen::VectorXd theta_try = *theta - t * x_theta;
      const Eigen::VectorXd v_try = *v - t * x_v;
      const double v_value = Loss(p, a_try) + Penalty(p, theta_try, v_try);
      if (v_value <= value - 0.25 * t * decrement) {
        *theta = theta_try;
        *v = v_try;
        a = a_try;
        value = v_value;
        moved = true;
        break;
      }
    }
    if (!moved) break;
  }
  report.objective = value;
  return report;
}

}  // namespace aad
