// A stack of dense layers with its own activation workspace, so repeated
// training steps on same-sized batches allocate nothing.
#ifndef AADD_CORE_NN_MLP_H_
#define AADD_CORE_NN_MLP_H_

#include <vector>

#include "absl/status/statusor.h"
#include "core/nn/dense_layer.h"
#include "core/nn/tensor.h"

namespace aad {

struct LayerSpec {
  int out;
  Activation activation;
};

// Not thread-safe for training. Infer() is const and thread-safe.
class Mlp {
 public:
  Mlp() = default;
  Mlp(int in, const std::vector<LayerSpec>& layers, bool bias);

  void Initialize(Rng* rng);

  // Training forward pass; keeps every layer's output for Backward().
  // Returns the last layer's output (valid until the next call). `x` must stay
  // alive and unchanged until Backward() has run.
  const Matrix& Forward(const ConstMatrixRef& x);

  // Backpropagates dL/d(output) (consumed) and accumulates parameter
  // gradients; writes dL/dx into dx when non-null.
  void Backward(Matrix* dout, Matrix* dx);

  // Inference into caller-owned buffers: `scratch` holds the hidden layers'
  // outputs and is reused across calls.
  void Infer(const ConstMatrixRef& x, std::vector<Matrix>* scratch, Matrix* out) const;

  // Inference of `rows` rows (row stride x_stride) into out (row stride
  // out_stride), the hidden layers' outputs going to two scratch buffers of
  // rows x max_hidden() floats each. For small row tiles, so that the
  // activations stay in cache; the same bits as Infer().
  void InferRows(const float* x, long rows, long x_stride, float* scratch_a, float* scratch_b,
                 float* out, long out_stride) const;
  // The widest hidden (not last) layer's output; 0 for a single layer.
  int max_hidden() const;

  void ZeroGrad();
  void CollectParameters(std::vector<Parameter>* out);

  int in() const { return layers_.empty() ? 0 : layers_.front().in(); }
  int out() const { return layers_.empty() ? 0 : layers_.back().out(); }
  const std::vector<DenseLayer>& layers() const { return layers_; }

  void Serialize(ByteWriter* out) const;
  static absl::StatusOr<Mlp> Deserialize(ByteReader* in);

 private:
  std::vector<DenseLayer> layers_;
  // Training workspace; not part of the model's state.
  const float* input_ = nullptr;
  Eigen::Index input_rows_ = 0;
  std::vector<Matrix> outputs_;
  Matrix grad_a_, grad_b_;
};

}  // namespace aad

#endif  // AADD_CORE_NN_MLP_H_
