#include "core/nn/dense_layer.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/nn/dense_kernel.h"
#include "core/util/status_macros.h"

namespace aad {

DenseLayer::DenseLayer(int in, int out, Activation activation, bool bias)
    : activation_(activation),
      has_bias_(bias),
      weight_(Matrix::Zero(in, out)),
      bias_(RowVector::Zero(out)),
      weight_grad_(Matrix::Zero(in, out)),
      bias_grad_(RowVector::Zero(out)) {}

void DenseLayer::Initialize(Rng* rng) {
  const bool relu_like = activation_ == Activation::kRelu || activation_ == Activation::kLeakyRelu;
  const double limit = relu_like ? std::sqrt(6.0 / in()) : std::sqrt(6.0 / (in() + out()));
  for (Eigen::Index i = 0; i < weight_.size(); ++i) {
    weight_.data()[i] = static_cast<float>(rng->Uniform(-limit, limit));
  }
  bias_.setZero();
}

void DenseLayer::Forward(const ConstMatrixRef& x, Matrix* y) const {
  if (y->rows() != x.rows() || y->cols() != out()) y->resize(x.rows(), out());
  DenseForwardKernel(x.data(), x.rows(), x.outerStride(), weight_.data(), in(), out(),
                     has_bias_ ? bias_.data() : nullptr, activation_, y->data(), out());
}

void DenseLayer::ForwardRows(const float* x, long rows, long x_stride, float* y,
                             long y_stride) const {
  DenseForwardKernel(x, rows, x_stride, weight_.data(), in(), out(),
                     has_bias_ ? bias_.data() : nullptr, activation_, y, y_stride);
}

void DenseLayer::Backward(const ConstMatrixRef& x, const ConstMatrixRef& y, Matrix* dy,
                          Matrix* dx) {
  ActivationBackward(activation_, y, *dy);
  weight_grad_.noalias() += x.transpose() * (*dy);
  if (has_bias_) bias_grad_ += dy->colwise().sum();
  if (dx != nullptr) {
    if (dx->rows() != x.rows() || dx->cols() != in()) dx->resize(x.rows(), in());
    // dx = dy W^T through the forward kernel on a transposed copy of W
    // (out x in; refreshed each step, it costs in x out copies against the
    // product's rows x in x out multiply-adds).
    if (weight_t_.rows() != out() || weight_t_.cols() != in()) weight_t_.resize(out(), in());
    weight_t_.noalias() = weight_.transpose();
    DenseForwardKernel(dy->data(), dy->rows(), dy->cols(), weight_t_.data(), out(), in(), nullptr,
                       Activation::kIdentity, dx->data(), in());
  }
}

void DenseLayer::ZeroGrad() {
  weight_grad_.setZero();
  bias_grad_.setZero();
}

void DenseLayer::CollectParameters(std::vector<Parameter>* out) {
  out->push_back({weight_.data(), weight_grad_.data(), static_cast<size_t>(weight_.size())});
  if (has_bias_) {
    out->push_back({bias_.data(), bias_grad_.data(), static_cast<size_t>(bias_.size())});
  }
}

void DenseLayer::Serialize(ByteWriter* out) const {
  out->WriteString("dense");
  out->WriteU32(static_cast<uint32_t>(activation_));
  out->WriteU32(has_bias_ ? 1 : 0);
  out->WriteMatrix(weight_);
  out->WriteRowVector(bias_);
}

absl::StatusOr<DenseLayer> DenseLayer::Deserialize(ByteReader* in) {
  RETURN_IF_ERROR(in->ExpectTag("dense"));
  ASSIGN_OR_RETURN(uint32_t act, in->ReadU32("dense.activation"));
  if (act > static_cast<uint32_t>(Activation::kSigmoid)) {
    return absl::DataLossError(absl::StrCat("dense layer: unknown activation code ", act));
  }
  ASSIGN_OR_RETURN(uint32_t bias, in->ReadU32("dense.has_bias"));
  ASSIGN_OR_RETURN(Matrix w, in->ReadMatrix("dense.weight"));
  ASSIGN_OR_RETURN(RowVector b, in->ReadRowVector("dense.bias"));
  if (b.size() != w.cols()) {
    return absl::DataLossError(absl::StrCat("dense layer: bias has ", b.size(),
                                            " entries for ", w.cols(), " outputs"));
  }
  DenseLayer layer(static_cast<int>(w.rows()), static_cast<int>(w.cols()),
                   static_cast<Activation>(act), bias != 0);
  layer.weight_ = std::move(w);
  layer.bias_ = std::move(b);
  return layer;
}

}  // namespace aad
