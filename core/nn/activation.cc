#include "core/nn/activation.h"

#include "absl/strings/str_cat.h"

namespace aad {

absl::string_view ActivationName(Activation a) {
  switch (a) {
    case Activation::kIdentity: return "identity";
    case Activation::kRelu: return "relu";
    case Activation::kLeakyRelu: return "leaky_relu";
    case Activation::kTanh: return "tanh";
    case Activation::kSigmoid: return "sigmoid";
  }
  return "unknown";
}

absl::StatusOr<Activation> ParseActivation(absl::string_view name) {
  for (Activation a : {Activation::kIdentity, Activation::kRelu, Activation::kLeakyRelu,
                       Activation::kTanh, Activation::kSigmoid}) {
    if (ActivationName(a) == name) return a;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown activation '", name, "' (known: identity, relu, leaky_relu, tanh, sigmoid)"));
}

void ApplyActivation(Activation a, MatrixRef y) {
  auto v = y.array();
  switch (a) {
    case Activation::kIdentity: break;
    case Activation::kRelu: v = v.max(0.0f); break;
    case Activation::kLeakyRelu: v = (v > 0.0f).select(v, kLeakySlope * v); break;
    case Activation::kTanh: v = v.tanh(); break;
    case Activation::kSigmoid: v = (1.0f + (-v).exp()).inverse(); break;
  }
}

void ActivationBackward(Activation a, const ConstMatrixRef& y, MatrixRef grad) {
  auto g = grad.array();
  auto v = y.array();
  switch (a) {
    case Activation::kIdentity: break;
    case Activation::kRelu: g = (v > 0.0f).select(g, 0.0f); break;
    case Activation::kLeakyRelu: g = (v > 0.0f).select(g, kLeakySlope * g); break;
    case Activation::kTanh: g *= 1.0f - v.square(); break;
    case Activation::kSigmoid: g *= v * (1.0f - v); break;
  }
}

}  // namespace aad
