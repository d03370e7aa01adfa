#include "core/nn/mlp.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace aad {

Mlp::Mlp(int in, const std::vector<LayerSpec>& layers, bool bias) {
  int width = in;
  for (const LayerSpec& spec : layers) {
    layers_.emplace_back(width, spec.out, spec.activation, bias);
    width = spec.out;
  }
  outputs_.resize(layers_.size());
}

void Mlp::Initialize(Rng* rng) {
  for (DenseLayer& layer : layers_) layer.Initialize(rng);
}

const Matrix& Mlp::Forward(const ConstMatrixRef& x) {
  input_ = x.data();
  input_rows_ = x.rows();
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (i == 0) {
      layers_[i].Forward(x, &outputs_[i]);
    } else {
      layers_[i].Forward(outputs_[i - 1], &outputs_[i]);
    }
  }
  return outputs_.back();
}

void Mlp::Backward(Matrix* dout, Matrix* dx) {
  ConstMatrixMap input(input_, input_rows_, in());
  Matrix* grad = dout;
  for (size_t k = layers_.size(); k-- > 0;) {
    Matrix* next = (grad == &grad_a_) ? &grad_b_ : &grad_a_;
    if (k == 0) {
      layers_[k].Backward(input, outputs_[k], grad, dx);
    } else {
      layers_[k].Backward(outputs_[k - 1], outputs_[k], grad, next);
      grad = next;
    }
  }
}

void Mlp::Infer(const ConstMatrixRef& x, std::vector<Matrix>* scratch, Matrix* out) const {
  if (scratch->size() < layers_.size()) scratch->resize(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    Matrix* dst = (i + 1 == layers_.size()) ? out : &(*scratch)[i];
    if (i == 0) {
      layers_[i].Forward(x, dst);
    } else {
      layers_[i].Forward((*scratch)[i - 1], dst);
    }
  }
}

void Mlp::InferRows(const float* x, long rows, long x_stride, float* scratch_a,
                    float* scratch_b, float* out, long out_stride) const {
  const float* in = x;
  long in_stride = x_stride;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const DenseLayer& layer = layers_[i];
    if (i + 1 == layers_.size()) {
      layer.ForwardRows(in, rows, in_stride, out, out_stride);
      return;
    }
    float* dst = (i % 2 == 0) ? scratch_a : scratch_b;
    layer.ForwardRows(in, rows, in_stride, dst, layer.out());
    in = dst;
    in_stride = layer.out();
  }
}

int Mlp::max_hidden() const {
  int widest = 0;
  for (size_t i = 0; i + 1 < layers_.size(); ++i) widest = std::max(widest, layers_[i].out());
  return widest;
}

void Mlp::ZeroGrad() {
  for (DenseLayer& layer : layers_) layer.ZeroGrad();
}

void Mlp::CollectParameters(std::vector<Parameter>* out) {
  for (DenseLayer& layer : layers_) layer.CollectParameters(out);
}

void Mlp::Serialize(ByteWriter* out) const {
  out->WriteString("mlp");
  out->WriteU32(static_cast<uint32_t>(layers_.size()));
  for (const DenseLayer& layer : layers_) layer.Serialize(out);
}

absl::StatusOr<Mlp> Mlp::Deserialize(ByteReader* in) {
  RETURN_IF_ERROR(in->ExpectTag("mlp"));
  ASSIGN_OR_RETURN(uint32_t n, in->ReadU32("mlp.layers"));
  if (n == 0 || n > 64) return absl::DataLossError(absl::StrCat("mlp: implausible layer count ", n));
  Mlp mlp;
  for (uint32_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(DenseLayer layer, DenseLayer::Deserialize(in));
    if (i > 0 && layer.in() != mlp.layers_.back().out()) {
      return absl::DataLossError(absl::StrCat("mlp: layer ", i, " takes ", layer.in(),
                                              " inputs but the previous layer gives ",
                                              mlp.layers_.back().out()));
    }
    mlp.layers_.push_back(std::move(layer));
  }
  mlp.outputs_.resize(mlp.layers_.size());
  return mlp;
}

}  // namespace aad
