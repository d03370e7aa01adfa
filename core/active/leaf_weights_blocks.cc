// LeafWeights::AddTo over LeafCodeBlocks: the region logits of a whole pool.
//
// With AVX-512 VBMI a tree's 256 weights are split into byte planes (byte k
// of every weight, 256 bytes = four registers), and the 64 codes of a block's
// tree index each plane with two vpermi2b and a blend on the code's top bit:
// 64 lookups in a few instructions, against one gathered load per row and
// tree. Each plane is summed over the trees in 16-bit lanes, and the planes
// are combined as sum_k plane_k << 8k in 32-bit lanes, modulo 2^32, which is
// the exact int32 sum (LeafWeights' clamp keeps every row's sum in range).
// Only the planes the weights need are read: the top plane is taken as
// signed, so weights within +-2^15 steps (half a logit unit) need two.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/active/leaf_code_blocks.h"
#include "core/active/leaf_weights.h"

#if defined(__AVX512BW__) && defined(__AVX512VBMI__)
#include <immintrin.h>
#define AADD_LEAF_VBMI 1
#endif

namespace aad {
namespace {

constexpr int64_t kRows = LeafCodeBlocks::kBlockRows;
static_assert(kRows == 64, "a block's tree is one 64-byte register");

#ifdef AADD_LEAF_VBMI
// Trees summed in 16-bit lanes before they are widened: 128 signed bytes
// (|sum| <= 128 * 128) and 128 unsigned ones (<= 128 * 255) both fit.
constexpr int kTreesPer16Bit = 128;

// Bytes of the weights' planes: planes[(t * P + k) * 256 + leaf] is byte k
// of tree t's weight of leaf.
template <int P>
std::vector<uint8_t> Planes(const int32_t* q, int trees) {
  std::vector<uint8_t> planes(static_cast<size_t>(trees) * P * LeafWeights::kLeavesPerTree);
  for (int t = 0; t < trees; ++t) {
    for (int leaf = 0; leaf < LeafWeights::kLeavesPerTree; ++leaf) {
      const uint32_t v = static_cast<uint32_t>(q[t * LeafWeights::kLeavesPerTree + leaf]);
      for (int k = 0; k < P; ++k) {
        planes[(static_cast<size_t>(t) * P + k) * LeafWeights::kLeavesPerTree + leaf] =
            static_cast<uint8_t>(v >> (8 * k));
      }
    }
  }
  return planes;
}

// Sums of one block's rows (kRows of them) into sums.
template <int P>
void BlockSums(const LeafCode* block, int trees, const uint8_t* planes, int32_t* sums) {
  __m512i total[4];  // 32-bit sums of rows 0-15, 16-31, 32-47, 48-63
  for (__m512i& x : total) x = _mm512_setzero_si512();
  for (int t0 = 0; t0 < trees; t0 += kTreesPer16Bit) {
    const int t1 = std::min(trees, t0 + kTreesPer16Bit);
    __m512i acc[P][2];  // plane k, rows 0-31 and 32-63, 16-bit lanes
    for (auto& a : acc) a[0] = a[1] = _mm512_setzero_si512();
    for (int t = t0; t < t1; ++t) {
      const __m512i codes = _mm512_loadu_si512(block + static_cast<size_t>(t) * kRows);
      const __mmask64 upper = _mm512_movepi8_mask(codes);  // leaf >= 128
      const uint8_t* tree = planes + static_cast<size_t>(t) * P * LeafWeights::kLeavesPerTree;
      for (int k = 0; k < P; ++k) {
        const uint8_t* p = tree + k * LeafWeights::kLeavesPerTree;
        const __m512i lo = _mm512_permutex2var_epi8(_mm512_loadu_si512(p), codes,
                                                    _mm512_loadu_si512(p + 64));
        const __m512i hi = _mm512_permutex2var_epi8(_mm512_loadu_si512(p + 128), codes,
                                                    _mm512_loadu_si512(p + 192));
        const __m512i v = _mm512_mask_blend_epi8(upper, lo, hi);
        const __m256i v0 = _mm512_castsi512_si256(v), v1 = _mm512_extracti64x4_epi64(v, 1);
        if (k == P - 1) {
          acc[k][0] = _mm512_add_epi16(acc[k][0], _mm512_cvtepi8_epi16(v0));
          acc[k][1] = _mm512_add_epi16(acc[k][1], _mm512_cvtepi8_epi16(v1));
        } else {
          acc[k][0] = _mm512_add_epi16(acc[k][0], _mm512_cvtepu8_epi16(v0));
          acc[k][1] = _mm512_add_epi16(acc[k][1], _mm512_cvtepu8_epi16(v1));
        }
      }
    }
    for (int h = 0; h < 2; ++h) {
      for (int k = 0; k < P; ++k) {
        const __m256i a0 = _mm512_castsi512_si256(acc[k][h]);
        const __m256i a1 = _mm512_extracti64x4_epi64(acc[k][h], 1);
        const __m512i w0 = k == P - 1 ? _mm512_cvtepi16_epi32(a0) : _mm512_cvtepu16_epi32(a0);
        const __m512i w1 = k == P - 1 ? _mm512_cvtepi16_epi32(a1) : _mm512_cvtepu16_epi32(a1);
        total[2 * h] = _mm512_add_epi32(total[2 * h], _mm512_slli_epi32(w0, 8 * k));
        total[2 * h + 1] = _mm512_add_epi32(total[2 * h + 1], _mm512_slli_epi32(w1, 8 * k));
      }
    }
  }
  for (int j = 0; j < 4; ++j) _mm512_storeu_si512(sums + 16 * j, total[j]);
}

template <int P>
void AddBlocks(const LeafCodeBlocks& codes, const int32_t* q, float* logits) {
  const std::vector<uint8_t> planes = Planes<P>(q, codes.trees());
  int32_t sums[kRows];
  for (int64_t b = 0; b < codes.block_count(); ++b) {
    BlockSums<P>(codes.block(b), codes.trees(), planes.data(), sums);
    const int64_t first = b * kRows, n = std::min(kRows, codes.rows() - first);
    for (int64_t i = 0; i < n; ++i) {
      logits[first + i] += static_cast<float>(sums[i] * LeafWeights::kQuantum);
    }
  }
}

// Planes the weights need: the fewest bytes whose top one, read as signed,
// holds every weight.
int PlanesNeeded(const int32_t* q, size_t n) {
  int32_t most = 0;
  for (size_t i = 0; i < n; ++i) most = std::max(most, q[i] < 0 ? -(q[i] + 1) : q[i]);
  if (most < (1 << 7)) return 1;
  if (most < (1 << 15)) return 2;
  if (most < (1 << 23)) return 3;
  return 4;
}
#endif  // AADD_LEAF_VBMI

}  // namespace

void LeafWeights::AddTo(const LeafCodeBlocks& codes, float* logits) const {
#ifdef AADD_LEAF_VBMI
  switch (PlanesNeeded(q_.data(), q_.size())) {
    case 1:
      return AddBlocks<1>(codes, q_.data(), logits);
    case 2:
      return AddBlocks<2>(codes, q_.data(), logits);
    case 3:
      return AddBlocks<3>(codes, q_.data(), logits);
    default:
      return AddBlocks<4>(codes, q_.data(), logits);
  }
#else
  const int32_t* q = q_.data();
  int32_t sums[kRows];
  for (int64_t b = 0; b < codes.block_count(); ++b) {
    const LeafCode* block = codes.block(b);
    std::fill(sums, sums + kRows, 0);
    for (int t = 0; t < trees_; ++t) {
      const LeafCode* tree = block + static_cast<size_t>(t) * kRows;
      for (int64_t i = 0; i < kRows; ++i) sums[i] += q[t * kLeavesPerTree + tree[i]];
    }
    const int64_t first = b * kRows, n = std::min(kRows, codes.rows() - first);
    for (int64_t i = 0; i < n; ++i) logits[first + i] += static_cast<float>(sums[i] * kQuantum);
  }
#endif
}

}  // namespace aad
