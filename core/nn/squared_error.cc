#include "core/nn/squared_error.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace aad {
namespace {

constexpr int kPartials = 16;

#if !defined(__AVX512F__) && !defined(__AVX2__)
// The pairwise tail of the fixed order.
float AddPartials(float p[kPartials]) {
  for (int half = kPartials / 2; half >= 1; half /= 2) {
    for (int l = 0; l < half; ++l) p[l] = p[l] + p[l + half];
  }
  return p[0];
}
#endif

#if defined(__AVX512F__)
// diff = a - b (b null: diff = a), e = diff^2; returns the fixed-order sum.
float RowSquares(const float* a, const float* b, int d, float* e) {
  __m512 acc = _mm512_setzero_ps();
  int j = 0;
  for (; j + kPartials <= d; j += kPartials) {
    __m512 v = _mm512_loadu_ps(a + j);
    if (b != nullptr) v = _mm512_sub_ps(v, _mm512_loadu_ps(b + j));
    const __m512 sq = _mm512_mul_ps(v, v);
    _mm512_storeu_ps(e + j, sq);
    acc = _mm512_add_ps(acc, sq);
  }
  if (j < d) {
    const __mmask16 m = static_cast<__mmask16>((1u << (d - j)) - 1u);
    __m512 v = _mm512_maskz_loadu_ps(m, a + j);
    if (b != nullptr) v = _mm512_sub_ps(v, _mm512_maskz_loadu_ps(m, b + j));
    const __m512 sq = _mm512_mul_ps(v, v);
    _mm512_mask_storeu_ps(e + j, m, sq);
    // Lanes past d keep their partial sums: adding +0 would change none.
    acc = _mm512_mask_add_ps(acc, m, acc, sq);
  }
  // AddPartials' order: lane l + lane l + 8, then + 4, + 2, + 1.
  const __m256 a8 = _mm256_add_ps(
      _mm512_castps512_ps256(acc),
      _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
  const __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
  const __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
  return _mm_cvtss_f32(_mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1)));
}
#elif defined(__AVX2__)
// Squares of 8 differences from `lanes` (1 to 8) valid ones, stored; the
// lanes past them are +0, which leaves a partial sum unchanged.
inline __m256 Squares8(const float* a, const float* b, int lanes, float* e) {
  if (lanes == 8) {
    __m256 v = _mm256_loadu_ps(a);
    if (b != nullptr) v = _mm256_sub_ps(v, _mm256_loadu_ps(b));
    const __m256 sq = _mm256_mul_ps(v, v);
    _mm256_storeu_ps(e, sq);
    return sq;
  }
  const __m256i m =
      _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256 v = _mm256_maskload_ps(a, m);
  if (b != nullptr) v = _mm256_sub_ps(v, _mm256_maskload_ps(b, m));
  const __m256 sq = _mm256_mul_ps(v, v);
  // A masked store is microcoded and slow on AMD.
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, sq);
  for (int l = 0; l < lanes; ++l) e[l] = tmp[l];
  return sq;
}

// Partials 0-7 in `lo`, 8-15 in `hi`: the same order as the AVX-512 lanes.
float RowSquares(const float* a, const float* b, int d, float* e) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  for (int j = 0; j < d; j += kPartials) {
    const int left = d - j;
    lo = _mm256_add_ps(lo, Squares8(a + j, b != nullptr ? b + j : nullptr, left < 8 ? left : 8,
                                    e + j));
    if (left > 8) {
      const int n = left - 8 < 8 ? left - 8 : 8;
      hi = _mm256_add_ps(hi, Squares8(a + j + 8, b != nullptr ? b + j + 8 : nullptr, n, e + j + 8));
    }
  }
  const __m256 a8 = _mm256_add_ps(lo, hi);
  const __m128 a4 = _mm_add_ps(_mm256_castps256_ps128(a8), _mm256_extractf128_ps(a8, 1));
  const __m128 a2 = _mm_add_ps(a4, _mm_movehl_ps(a4, a4));
  return _mm_cvtss_f32(_mm_add_ss(a2, _mm_shuffle_ps(a2, a2, 1)));
}
#else
float RowSquares(const float* a, const float* b, int d, float* e) {
  float p[kPartials] = {};
  for (int j = 0; j < d; ++j) {
    const float diff = b != nullptr ? a[j] - b[j] : a[j];
    const float sq = diff * diff;
    e[j] = sq;
    p[j % kPartials] += sq;
  }
  return AddPartials(p);
}
#endif

}  // namespace

void SquaredErrorRows(const float* diff, long rows, int d, long diff_stride, float* e,
                      long e_stride, float* s) {
  const float n = static_cast<float>(d);
  for (long i = 0; i < rows; ++i) {
    s[i] = RowSquares(diff + i * diff_stride, nullptr, d, e + i * e_stride) / n;
  }
}

void SquaredErrorRows(const float* recon, long recon_stride, const float* x, long x_stride,
                      long rows, int d, float* e, long e_stride, float* s) {
  const float n = static_cast<float>(d);
  for (long i = 0; i < rows; ++i) {
    s[i] = RowSquares(recon + i * recon_stride, x + i * x_stride, d, e + i * e_stride) / n;
  }
}

}  // namespace aad
