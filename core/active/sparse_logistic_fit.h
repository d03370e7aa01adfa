// The convex problem behind the UAI layer's refit when it reads the forest's
// leaves: a weighted logistic regression over a few dense inputs plus
// thousands of one-hot leaf inputs (a row is in exactly one leaf of each
// tree), each weight pulled towards its prior:
//
//   f(theta, v) = sum_i c_i [softplus(a_i) - y_i a_i]
//               + sum_j lambda_j (theta_j - theta0_j)^2 + mu ||v||^2,
//   a_i = x_i . theta + sum_t v[slot(i, t)].
//
// Only leaves that hold a labelled row get a variable; every other leaf's
// optimum is 0. Solved by truncated Newton (preconditioned conjugate
// gradients on Hessian-vector products, which cost one pass over the
// labelled rows), so a round costs O(labels x (inputs + trees)) per CG step
// and never forms the (inputs + leaves)^2 Hessian.
#ifndef AADD_CORE_ACTIVE_SPARSE_LOGISTIC_FIT_H_
#define AADD_CORE_ACTIVE_SPARSE_LOGISTIC_FIT_H_

#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace aad {

struct SparseLogisticProblem {
  Eigen::MatrixXd x;           // m x k dense inputs, a bias column included
  std::vector<int32_t> slots;  // m x trees, row-major: row i's leaf variable in tree t
  int trees = 0;
  int leaf_count = 0;          // leaf variables; slots lie in [0, leaf_count)
  Eigen::VectorXd c, y;        // per row: loss weight and target (0 or 1)
  Eigen::VectorXd lambda;      // per dense coordinate: pull strength (> 0)
  Eigen::VectorXd theta0;      // per dense coordinate: prior
  double mu = 0.0;             // pull of every leaf weight towards 0 (> 0)
};

struct NewtonCgOptions {
  int max_newton_steps = 25;
  double tolerance = 1e-5;  // stop when the Newton decrement falls below 2x this
  int max_cg_steps = 250;
};

struct NewtonCgReport {
  int newton_steps = 0;
  int cg_steps = 0;  // in total
  double objective = 0.0;
};

// f at (theta, v).
double SparseLogisticObjective(const SparseLogisticProblem& problem,
                               const Eigen::VectorXd& theta, const Eigen::VectorXd& v);

// Minimises f starting from (*theta, *v), which receive the solution.
// Deterministic: the same problem and start give the same bits.
NewtonCgReport MinimiseSparseLogistic(const SparseLogisticProblem& problem,
                                      const NewtonCgOptions& options, Eigen::VectorXd* theta,
                                      Eigen::VectorXd* v);

}  // namespace aad

#endif  // AADD_CORE_ACTIVE_SPARSE_LOGISTIC_FIT_H_
