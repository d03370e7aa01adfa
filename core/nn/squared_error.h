// Per-feature squared error and its row mean, the autoencoder's evidence,
// summed in one fixed order at every vector width.
#ifndef AADD_CORE_NN_SQUARED_ERROR_H_
#define AADD_CORE_NN_SQUARED_ERROR_H_

namespace aad {

// For rows x d differences (row stride diff_stride): e = diff^2 (row stride
// e_stride) and s[i] = (sum_j e[i][j]) / d. The sum keeps 16 partial sums,
// partial l adding e[i][j] for j = l mod 16 in j order from +0, then adds
// lane l + 8 to lane l, then l + 4, l + 2 and l + 1: AVX-512, AVX2 and the
// portable loop give the same bits.
void SquaredErrorRows(const float* diff, long rows, int d, long diff_stride, float* e,
                      long e_stride, float* s);

// The same for diff = recon - x, not stored (the same bits as subtracting
// first).
void SquaredErrorRows(const float* recon, long recon_stride, const float* x, long x_stride,
                      long rows, int d, float* e, long e_stride, float* s);

}  // namespace aad

#endif  // AADD_CORE_NN_SQUARED_ERROR_H_
