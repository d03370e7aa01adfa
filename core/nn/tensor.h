// The core's matrix vocabulary. Everything numeric is float32; a batch is a
// row-major matrix with one sample per row, so a row of a Dataset maps onto a
// matrix row without copying.
#ifndef AADD_CORE_NN_TENSOR_H_
#define AADD_CORE_NN_TENSOR_H_

#include <Eigen/Core>

namespace aad {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXf;         // column vector
using RowVector = Eigen::RowVectorXf;   // one sample, or per-feature statistics
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
using ConstMatrixRef = Eigen::Ref<const Matrix>;
using MatrixRef = Eigen::Ref<Matrix>;

}  // namespace aad

#endif  // AADD_CORE_NN_TENSOR_H_
