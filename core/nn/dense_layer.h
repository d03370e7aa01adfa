// A fully connected layer y = f(x W + b) over a batch (one sample per row).
#ifndef AADD_CORE_NN_DENSE_LAYER_H_
#define AADD_CORE_NN_DENSE_LAYER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "core/nn/activation.h"
#include "core/nn/parameter.h"
#include "core/nn/tensor.h"
#include "core/util/byte_stream.h"
#include "core/util/random.h"

namespace aad {

// Weights are stored input-major (in x out) so the forward pass is one
// row-major GEMM. Not thread-safe for training; Forward() is const and may run
// concurrently on distinct outputs.
class DenseLayer {
 public:
  DenseLayer() = default;
  DenseLayer(int in, int out, Activation activation, bool bias);

  // Glorot-uniform for tanh/sigmoid/identity, He-uniform for (leaky) ReLU;
  // zero bias.
  void Initialize(Rng* rng);

  // y = f(x W + b). `y` is resized only when its shape changes.
  void Forward(const ConstMatrixRef& x, Matrix* y) const;
  // The same for `rows` rows of x (row stride x_stride) into y (row stride
  // y_stride); a row's outputs have the same bits either way (dense_kernel.h).
  void ForwardRows(const float* x, long rows, long x_stride, float* y, long y_stride) const;

  // Given the layer's input x, its output y and dy = dL/dy, turns dy into
  // dL/d(pre-activation) in place, adds dL/dW and dL/db to the gradients, and,
  // if dx is non-null, writes dL/dx into it.
  void Backward(const ConstMatrixRef& x, const ConstMatrixRef& y, Matrix* dy, Matrix* dx);

  void ZeroGrad();
  // Appends this layer's trainable tensors.
  void CollectParameters(std::vector<Parameter>* out);

  int in() const { return static_cast<int>(weight_.rows()); }
  int out() const { return static_cast<int>(weight_.cols()); }
  Activation activation() const { return activation_; }
  bool has_bias() const { return has_bias_; }
  const Matrix& weight() const { return weight_; }
  const RowVector& bias() const { return bias_; }

  void Serialize(ByteWriter* out) const;
  static absl::StatusOr<DenseLayer> Deserialize(ByteReader* in);

 private:
  Activation activation_ = Activation::kIdentity;
  bool has_bias_ = true;
  Matrix weight_;  // in x out
  RowVector bias_;  // 1 x out
  Matrix weight_grad_;
  RowVector bias_grad_;
  Matrix weight_t_;  // Backward()'s workspace: W transposed
};

}  // namespace aad

#endif  // AADD_CORE_NN_DENSE_LAYER_H_
