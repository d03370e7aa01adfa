// Element-wise activations. Backward passes are written in terms of the
// activation's output y, so a layer keeps only its outputs for backprop.
#ifndef AADD_CORE_NN_ACTIVATION_H_
#define AADD_CORE_NN_ACTIVATION_H_

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "core/nn/tensor.h"

namespace aad {

enum class Activation { kIdentity, kRelu, kLeakyRelu, kTanh, kSigmoid };

// Slope of LeakyReLU for negative inputs.
inline constexpr float kLeakySlope = 0.01f;

absl::string_view ActivationName(Activation a);
absl::StatusOr<Activation> ParseActivation(absl::string_view name);

// y = f(y), in place.
void ApplyActivation(Activation a, MatrixRef y);

// grad <- grad * f'(x), where y = f(x) is the activation's output.
void ActivationBackward(Activation a, const ConstMatrixRef& y, MatrixRef grad);

}  // namespace aad

#endif  // AADD_CORE_NN_ACTIVATION_H_
