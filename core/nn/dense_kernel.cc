#include "core/nn/dense_kernel.h"

#include <cmath>
#include <cstring>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#include <Eigen/Core>

namespace aad {
namespace {

// Eigen's generic_fast_tanh_float (the FMA variant's clamp), written out so
// that every width evaluates it with the same operations.
constexpr float kTanhClamp = 7.99881172180175781f;
constexpr float kTanhTiny = 0.0004f;
constexpr float kAlpha1 = 4.89352455891786e-03f, kAlpha3 = 6.37261928875436e-04f,
                kAlpha5 = 1.48572235717979e-05f, kAlpha7 = 5.12229709037114e-08f,
                kAlpha9 = -8.60467152213735e-11f, kAlpha11 = 2.00018790482477e-13f,
                kAlpha13 = -2.76076847742355e-16f;
constexpr float kBeta0 = 4.89352518554385e-03f, kBeta2 = 2.26843463243900e-03f,
                kBeta4 = 1.18534705686654e-04f, kBeta6 = 1.19825839466702e-06f;

// The three widths share one kernel through these "lane" types. Min/Max
// follow x86's minps/maxps (the second operand when either is NaN), with the
// operands ordered so that a NaN input stays NaN; ReLU is v > 0 ? v : +0.
template <class S>
inline typename S::V TanhOf(typename S::V a) {
  using V = typename S::V;
  const V x = S::Max(S::Set1(-kTanhClamp), S::Min(S::Set1(kTanhClamp), a));
  const V x2 = S::Mul(x, x);
  V p = S::Fma(x2, S::Set1(kAlpha13), S::Set1(kAlpha11));
  p = S::Fma(x2, p, S::Set1(kAlpha9));
  p = S::Fma(x2, p, S::Set1(kAlpha7));
  p = S::Fma(x2, p, S::Set1(kAlpha5));
  p = S::Fma(x2, p, S::Set1(kAlpha3));
  p = S::Fma(x2, p, S::Set1(kAlpha1));
  p = S::Mul(x, p);
  V q = S::Fma(x2, S::Set1(kBeta6), S::Set1(kBeta4));
  q = S::Fma(x2, q, S::Set1(kBeta2));
  q = S::Fma(x2, q, S::Set1(kBeta0));
  return S::SelectTiny(a, x, S::Div(p, q));
}

struct Scalar {
  using V = float;
  [[maybe_unused]] static constexpr int kLanes = 1;
  [[maybe_unused]] static constexpr int kMaxVectors = 4;
  static constexpr int RowsFor(int /*vectors*/) { return 4; }
  static V Zero() { return 0.0f; }
  static V Set1(float v) { return v; }
  using Mask = int;
  static Mask MaskFor(int /*lanes*/) { return 1; }
  static V Load(const float* p) { return *p; }
  static V LoadMasked(const float* p, Mask /*mask*/) { return *p; }
  static void Store(float* p, V v) { *p = v; }
  static void StoreMasked(float* p, V v, Mask /*mask*/) { *p = v; }
  static V Fma(V a, V b, V c) { return std::fma(a, b, c); }
  static V Mul(V a, V b) { return a * b; }
  static V Div(V a, V b) { return a / b; }
  static V Min(V a, V b) { return a < b ? a : b; }
  static V Max(V a, V b) { return a > b ? a : b; }
  static V Relu(V v) { return v > 0.0f ? v : 0.0f; }
  static V Leaky(V v) { return v > 0.0f ? v : kLeakySlope * v; }
  static V SelectTiny(V a, V x, V r) { return std::fabs(a) < kTanhTiny ? x : r; }
};

#if defined(__AVX512F__)
struct Avx512 {
  using V = __m512;
  [[maybe_unused]] static constexpr int kLanes = 16;
  [[maybe_unused]] static constexpr int kMaxVectors = 4;
  // Accumulators R x V <= 24 of the 32 registers; the rest hold W's row.
  static constexpr int RowsFor(int vectors) {
    return vectors == 1 ? 16 : vectors == 2 ? 12 : vectors == 3 ? 8 : 6;
  }
  using Mask = __mmask16;
  static Mask MaskFor(int lanes) { return static_cast<Mask>((1u << lanes) - 1u); }
  static V Zero() { return _mm512_setzero_ps(); }
  static V Set1(float v) { return _mm512_set1_ps(v); }
  static V Load(const float* p) { return _mm512_loadu_ps(p); }
  static V LoadMasked(const float* p, Mask mask) { return _mm512_maskz_loadu_ps(mask, p); }
  static void Store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void StoreMasked(float* p, V v, Mask mask) { _mm512_mask_storeu_ps(p, mask, v); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V Div(V a, V b) { return _mm512_div_ps(a, b); }
  static V Min(V a, V b) { return _mm512_min_ps(a, b); }
  static V Max(V a, V b) { return _mm512_max_ps(a, b); }
  static V Relu(V v) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, Zero(), _CMP_GT_OQ), v);
  }
  static V Leaky(V v) {
    return _mm512_mask_mov_ps(_mm512_mul_ps(Set1(kLeakySlope), v),
                              _mm512_cmp_ps_mask(v, Zero(), _CMP_GT_OQ), v);
  }
  static V SelectTiny(V a, V x, V r) {
    const V abs = _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
    return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(abs, Set1(kTanhTiny), _CMP_LT_OQ), x);
  }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct Avx2 {
  using V = __m256;
  [[maybe_unused]] static constexpr int kLanes = 8;
  [[maybe_unused]] static constexpr int kMaxVectors = 3;
  // 16 registers: R x V accumulators, V for W's row, one broadcast.
  static constexpr int RowsFor(int vectors) { return vectors == 1 ? 8 : vectors == 2 ? 6 : 4; }
  struct Mask {
    __m256i bits;
    int lanes;
  };
  static Mask MaskFor(int lanes) {
    return {_mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
            lanes};
  }
  static V Zero() { return _mm256_setzero_ps(); }
  static V Set1(float v) { return _mm256_set1_ps(v); }
  static V Load(const float* p) { return _mm256_loadu_ps(p); }
  static V LoadMasked(const float* p, Mask mask) { return _mm256_maskload_ps(p, mask.bits); }
  static void Store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void StoreMasked(float* p, V v, Mask mask) {
    if (mask.lanes == kLanes) {
      _mm256_storeu_ps(p, v);
      return;
    }
    // A masked store is microcoded and slow on AMD.
    alignas(32) float tmp[kLanes];
    _mm256_store_ps(tmp, v);
    std::memcpy(p, tmp, sizeof(float) * static_cast<size_t>(mask.lanes));
  }
  static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V Div(V a, V b) { return _mm256_div_ps(a, b); }
  static V Min(V a, V b) { return _mm256_min_ps(a, b); }
  static V Max(V a, V b) { return _mm256_max_ps(a, b); }
  static V Relu(V v) { return _mm256_and_ps(v, _mm256_cmp_ps(v, Zero(), _CMP_GT_OQ)); }
  static V Leaky(V v) {
    return _mm256_blendv_ps(_mm256_mul_ps(Set1(kLeakySlope), v), v,
                            _mm256_cmp_ps(v, Zero(), _CMP_GT_OQ));
  }
  static V SelectTiny(V a, V x, V r) {
    const V abs = _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
    return _mm256_blendv_ps(r, x, _mm256_cmp_ps(abs, Set1(kTanhTiny), _CMP_LT_OQ));
  }
};
#endif

template <class S, Activation A>
inline typename S::V Activate(typename S::V v) {
  if constexpr (A == Activation::kRelu) {
    return S::Relu(v);
  } else if constexpr (A == Activation::kLeakyRelu) {
    return S::Leaky(v);
  } else if constexpr (A == Activation::kTanh) {
    return TanhOf<S>(v);
  } else {
    return v;
  }
}

// R rows x Vn vectors of outputs. `w`, `bias` and `y` point at the tile's
// first column; the last vector is loaded and stored under `last`.
template <class S, int R, int Vn, Activation A>
inline void Tile(const float* x, long xs, const float* w, int k_in, int n_out, const float* bias,
                 typename S::Mask last, float* y, long ys) {
  using V = typename S::V;
  constexpr int L = S::kLanes;
  V acc[R][Vn];
#pragma GCC unroll 4
  for (int v = 0; v < Vn; ++v) {
    V b = S::Zero();
    if (bias != nullptr) b = v == Vn - 1 ? S::LoadMasked(bias + v * L, last) : S::Load(bias + v * L);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[r][v] = b;
  }
  const float* wk = w;
  for (int k = 0; k < k_in; ++k, wk += n_out) {
    V wv[Vn];
#pragma GCC unroll 4
    for (int v = 0; v + 1 < Vn; ++v) wv[v] = S::Load(wk + v * L);
    wv[Vn - 1] = S::LoadMasked(wk + (Vn - 1) * L, last);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const V xr = S::Set1(x[r * xs + k]);
#pragma GCC unroll 4
      for (int v = 0; v < Vn; ++v) acc[r][v] = S::Fma(xr, wv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v + 1 < Vn; ++v) S::Store(y + r * ys + v * L, Activate<S, A>(acc[r][v]));
    S::StoreMasked(y + r * ys + (Vn - 1) * L, Activate<S, A>(acc[r][Vn - 1]), last);
  }
}

template <class S, int Vn, Activation A>
void Rows(const float* x, long rows, long xs, const float* w, int k_in, int n_out,
          const float* bias, typename S::Mask last, float* y, long ys) {
  constexpr int R = S::RowsFor(Vn);
  long r = 0;
  for (; r + R <= rows; r += R) Tile<S, R, Vn, A>(x + r * xs, xs, w, k_in, n_out, bias, last, y + r * ys, ys);
  for (; r < rows; ++r) Tile<S, 1, Vn, A>(x + r * xs, xs, w, k_in, n_out, bias, last, y + r * ys, ys);
}

template <class S, Activation A>
void Forward(const float* x, long rows, long xs, const float* w, int k_in, int n_out,
             const float* bias, float* y, long ys) {
  constexpr int L = S::kLanes;
  const int vectors = (n_out + L - 1) / L;
  // Chunks of at most kMaxVectors vectors, as even as they come (AVX2, 4
  // vectors: 2 + 2 rather than 3 + 1, whose last chunk would be a narrow one).
  const int chunks = (vectors + S::kMaxVectors - 1) / S::kMaxVectors;
  for (int k = 0, c = 0; k < chunks; ++k) {
    const int vn = vectors / chunks + (k < vectors % chunks ? 1 : 0);
    const int col = c * L;
    c += vn;
    // Only the layer's last vector is partial.
    const int tail = n_out - (c - 1) * L;
    const typename S::Mask last = S::MaskFor(tail < L ? tail : L);
    const float* b = bias != nullptr ? bias + col : nullptr;
    switch (vn) {
      case 1: Rows<S, 1, A>(x, rows, xs, w + col, k_in, n_out, b, last, y + col, ys); break;
      case 2: Rows<S, 2, A>(x, rows, xs, w + col, k_in, n_out, b, last, y + col, ys); break;
      case 3:
        if constexpr (S::kMaxVectors >= 3) Rows<S, 3, A>(x, rows, xs, w + col, k_in, n_out, b, last, y + col, ys);
        break;
      default:
        if constexpr (S::kMaxVectors >= 4) Rows<S, 4, A>(x, rows, xs, w + col, k_in, n_out, b, last, y + col, ys);
        break;
    }
  }
}

#if defined(__AVX512F__)
using Native = Avx512;
#elif defined(__AVX2__) && defined(__FMA__)
using Native = Avx2;
#else
using Native = Scalar;
#endif

}  // namespace

void DenseForwardKernel(const float* x, long rows, long x_stride, const float* w, int in, int out,
                        const float* bias, Activation activation, float* y, long y_stride) {
  switch (activation) {
    case Activation::kRelu:
      Forward<Native, Activation::kRelu>(x, rows, x_stride, w, in, out, bias, y, y_stride);
      return;
    case Activation::kLeakyRelu:
      Forward<Native, Activation::kLeakyRelu>(x, rows, x_stride, w, in, out, bias, y, y_stride);
      return;
    case Activation::kTanh:
      Forward<Native, Activation::kTanh>(x, rows, x_stride, w, in, out, bias, y, y_stride);
      return;
    case Activation::kIdentity:
    case Activation::kSigmoid:
      Forward<Native, Activation::kIdentity>(x, rows, x_stride, w, in, out, bias, y, y_stride);
      break;
  }
  if (activation == Activation::kSigmoid) {
    Eigen::Map<Matrix, 0, Eigen::OuterStride<>> view(y, rows, out, Eigen::OuterStride<>(y_stride));
    ApplyActivation(activation, view);
  }
}

float KernelTanh(float a) { return TanhOf<Scalar>(a); }

}  // namespace aad
