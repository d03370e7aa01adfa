// The dense layer's forward pass as one register-blocked kernel: the bias is
// the accumulators' start, the activation is applied before the one store, so
// there is no memset, no bias pass and no activation pass over the output.
//
// Every output is y[r][o] = f(fma(x[r][K-1], W[K-1][o], ... fma(x[r][0],
// W[0][o], b[o]))): one fused multiply-add chain in input order, started from
// the bias (or +0 without one). The bits of a row therefore depend on nothing
// but that row and the layer: not on the block it comes in, its place there,
// nor the vector width (AVX-512, AVX2 and the scalar fallback give the same
// bits; so do training and inference, and a restart).
#ifndef AADD_CORE_NN_DENSE_KERNEL_H_
#define AADD_CORE_NN_DENSE_KERNEL_H_

#include "core/nn/activation.h"

namespace aad {

// y (rows x out, row stride y_stride) = f(x W + b) for x (rows x in, row
// stride x_stride) and W (in x out, row-major, contiguous). `bias` has `out`
// entries or is null. Identity, ReLU, LeakyReLU and tanh are fused (tanh as
// Eigen's rational approximation, with fused multiply-adds); sigmoid is
// applied by ApplyActivation() after the store.
void DenseForwardKernel(const float* x, long rows, long x_stride, const float* w, int in, int out,
                        const float* bias, Activation activation, float* y, long y_stride);

// tanh as DenseForwardKernel computes it, element by element (for tests).
float KernelTanh(float a);

}  // namespace aad

#endif  // AADD_CORE_NN_DENSE_KERNEL_H_
