// IsolationForest's scoring layout and its AVX-512 walk (issue 16). Each
// tree is padded to a complete tree and cut into subtrees of four levels
// (the header's HopLayout); 16 rows cross a subtree together in one step.
// The layout is derived from the stored nodes at fit and load (Finish()):
// the stored form does not change. The walk adds the same leaf depths in
// the same order as the node walk (tree by tree, per row), so scores are
// bit-identical to it (tests/core/isolation_forest_walk_test.cc checks both
// walks against a plain walk of the stored nodes).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>
#endif

#include "core/detectors/isolation_forest.h"

namespace aad {
namespace {

// Rows scored together against every tree: at 32 features a block is
// 32 KiB of rows (and as much again in the vector walk's feature-major
// copy), which stay in the level-1/2 caches while the trees stream past
// (2.2 KiB of subtrees and 1.3 KiB of bottom table each at depth 8).
constexpr Eigen::Index kBlockRows = 256;

// The hop layout is walked 16 rows at a time with AVX-512 (F and BW), up to
// 64 features (four registers of a row). Elsewhere the node walk is faster
// than any scalar walk of the hop layout we measured (2.4x faster at 100
// features row by row), so no layout is built.
#if defined(__AVX512F__) && defined(__AVX512BW__)
constexpr bool kHopWalk = true;
#else
constexpr bool kHopWalk = false;
#endif
constexpr int kMaxHopWalkDims = 64;

// Subtrees before hop h of a tree: 1 + 16 + ... + 16^(h-1).
constexpr int32_t SubtreesBefore(int hop) { return hop == 0 ? 0 : 16 * SubtreesBefore(hop - 1) + 1; }

}  // namespace

void IsolationForest::BuildHopLayout() {
  hop_ = HopLayout{};
  // Walk() keeps the node walk where the vector walk does not run.
  if (!kHopWalk || dims_ > kMaxHopWalkDims) return;
  const size_t trees = roots_.size();
  for (size_t t = 0; t < trees; ++t) {
    if (depths_[t] > 4 * kMaxHops) return;
  }
  HopLayout h;
  h.hops.resize(trees);
  h.first_subtree.resize(trees);
  h.first_leaf.resize(trees);
  size_t subtrees = 0, bottoms = 0;
  for (size_t t = 0; t < trees; ++t) {
    const int hops = std::max(1, (depths_[t] + 3) / 4);
    h.hops[t] = hops;
    h.first_subtree[t] = static_cast<int32_t>(subtrees);
    h.first_leaf[t] = static_cast<int32_t>(bottoms);
    subtrees += static_cast<size_t>(SubtreesBefore(hops));
    bottoms += size_t{1} << (4 * hops);
  }
  Subtree padding;
  std::fill(padding.threshold, padding.threshold + 16, -std::numeric_limits<float>::infinity());
  std::fill(padding.feature, padding.feature + 16, 0);
  h.subtrees.assign(subtrees, padding);
  h.leaf_depth.assign(bottoms, 0.0f);
  h.leaf_ordinal.assign(bottoms, 0);
  // Each node of nodes_ goes to its place in the complete tree of depth 4H,
  // named by its level and its index k among that level's 2^level places
  // (children of k at 2k and 2k + 1). Leaves of nodes_ are self-loops here
  // (Finish()), told by leaf_depth >= 0; a leaf above the bottom slides
  // down the right edge of its padded subtree to its one bottom position.
  struct Pending {
    int32_t node;
    int level;
    int64_t k;
  };
  std::vector<Pending> stack;
  for (size_t t = 0; t < trees; ++t) {
    const int bottom = 4 * h.hops[t];
    stack.push_back({roots_[t], 0, 0});
    while (!stack.empty()) {
      const Pending p = stack.back();
      stack.pop_back();
      const Node& n = nodes_[p.node];
      if (n.leaf_depth >= 0.0f) {
        const int64_t below = bottom - p.level;
        const size_t at = h.first_leaf[t] + static_cast<size_t>(((p.k + 1) << below) - 1);
        h.leaf_depth[at] = n.leaf_depth;
        h.leaf_ordinal[at] = leaf_ordinal_[p.node];
        continue;
      }
      // Level 4 hop + l: subtree k >> l of the hop, node 2^l - 1 + (k mod 2^l) in it.
      const int hop = p.level / 4, l = p.level % 4;
      Subtree& s = h.subtrees[h.first_subtree[t] + SubtreesBefore(hop) + (p.k >> l)];
      const int64_t in = ((int64_t{1} << l) - 1) + (p.k & ((int64_t{1} << l) - 1));
      s.threshold[in] = n.threshold;
      s.feature[in] = n.feature;
      stack.push_back({n.left, p.level + 1, 2 * p.k});
      stack.push_back({n.left + 1, p.level + 1, 2 * p.k + 1});
    }
  }
  hop_ = std::move(h);
}

#if defined(__AVX512F__) && defined(__AVX512BW__)
namespace {

// For each of 16 rows (one lane each), its exit from a subtree, from the
// 15-bit masks of the nodes where it goes left: p = 2p + 2 - bit p of its
// mask, four times; every lane at once.
inline __m512i Exits(__m512i left) {
  const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2);
  __m512i p = _mm512_setzero_si512();
  for (int level = 0; level < 4; ++level) {
    const __m512i bit = _mm512_and_si512(_mm512_srlv_epi32(left, p), one);
    p = _mm512_sub_epi32(_mm512_add_epi32(_mm512_add_epi32(p, p), two), bit);
  }
  return _mm512_sub_epi32(p, _mm512_set1_epi32(15));
}

// Lanes of a row's last registers that hold features: masked loads read
// nothing past the row (the last row of a matrix may end a page).
struct RowTail {
  __mmask16 third;   // R = 4: features 32..47
  __mmask16 last;    // features 16 (R - 1)..16 R - 1
};

inline __mmask16 LoadMask(int features) {
  return static_cast<__mmask16>(features >= 16 ? 0xFFFF : features <= 0 ? 0 : (1u << features) - 1);
}

// One row's features at the 16 lanes' feature indices, from R registers of
// 16 features (R = 1, 2 or 4: up to 64 features).
template <int R>
inline __m512 PickFeatures(const float* row, RowTail tail, __m512i feature) {
  if constexpr (R == 1) {
    return _mm512_permutexvar_ps(feature, _mm512_maskz_loadu_ps(tail.last, row));
  } else if constexpr (R == 2) {
    return _mm512_permutex2var_ps(_mm512_loadu_ps(row), feature,
                                  _mm512_maskz_loadu_ps(tail.last, row + 16));
  } else {
    const __m512 low = _mm512_permutex2var_ps(_mm512_loadu_ps(row), feature,
                                              _mm512_loadu_ps(row + 16));
    const __m512 high = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(tail.third, row + 32),
                                               feature,
                                               _mm512_maskz_loadu_ps(tail.last, row + 48));
    return _mm512_mask_blend_ps(_mm512_test_epi32_mask(feature, _mm512_set1_epi32(32)), low,
                                high);
  }
}

// 16 rows' 16-bit masks as the 16 lanes of a vector, through mask
// registers (a round trip through memory stalls on store forwarding).
inline __m512i MasksToLanes(const __mmask16* k) {
  const __mmask64 a = _mm512_kunpackd(_mm512_kunpackw(k[3], k[2]), _mm512_kunpackw(k[1], k[0]));
  const __mmask64 b = _mm512_kunpackd(_mm512_kunpackw(k[7], k[6]), _mm512_kunpackw(k[5], k[4]));
  const __mmask64 c =
      _mm512_kunpackd(_mm512_kunpackw(k[11], k[10]), _mm512_kunpackw(k[9], k[8]));
  const __mmask64 d =
      _mm512_kunpackd(_mm512_kunpackw(k[15], k[14]), _mm512_kunpackw(k[13], k[12]));
  const __m256i words = _mm256_set_epi64x(
      static_cast<int64_t>(_cvtmask64_u64(d)), static_cast<int64_t>(_cvtmask64_u64(c)),
      static_cast<int64_t>(_cvtmask64_u64(b)), static_cast<int64_t>(_cvtmask64_u64(a)));
  return _mm512_cvtepu16_epi32(words);
}

// The left-going mask of one row at the 15 nodes of a subtree.
template <int R>
inline __mmask16 LeftMask(const float* row, RowTail tail, const void* subtree) {
  const float* threshold = static_cast<const float*>(subtree);
  const int32_t* feature = reinterpret_cast<const int32_t*>(threshold + 16);
  const __m512i f = _mm512_load_si512(feature);
  return _mm512_cmp_ps_mask(PickFeatures<R>(row, tail, f), _mm512_load_ps(threshold),
                            _CMP_LT_OQ);
}

// The first hop, which every row of a tree starts in: 16 rows (lanes) of
// a group stored feature-major (column f of the group at columns + 16 f),
// so a node's feature is one load for all of them. Level k picks, per lane,
// the column of the node it is at among the level's 2^k (a tree of blends
// on the right turns taken so far) and compares it with that node's
// threshold (a permute of the subtree's 16 by position p).
template <int kLevel>
inline void FirstSubtreeLevel(const float* columns, const int32_t* feature, __m512 thresholds,
                              __mmask16* right, __m512i* p) {
  constexpr int kNodes = 1 << kLevel;
  __m512 x[kNodes];
  for (int i = 0; i < kNodes; ++i) {
    x[i] = _mm512_load_ps(columns + 16 * feature[kNodes - 1 + i]);
  }
  // Candidates 2i and 2i + 1 differ in the last turn taken (right[bit]).
  for (int bit = kLevel - 1; bit >= 0; --bit) {
    for (int i = 0; i < (1 << bit); ++i) {
      x[i] = _mm512_mask_blend_ps(right[bit], x[2 * i], x[2 * i + 1]);
    }
  }
  const __mmask16 left =
      _mm512_cmp_ps_mask(x[0], _mm512_permutexvar_ps(*p, thresholds), _CMP_LT_OQ);
  right[kLevel] = static_cast<__mmask16>(~left);
  const __m512i right_child = _mm512_add_epi32(_mm512_add_epi32(*p, *p), _mm512_set1_epi32(2));
  *p = _mm512_mask_sub_epi32(right_child, left, right_child, _mm512_set1_epi32(1));
}

inline __m512i CrossFirstSubtree(const float* columns, const float* threshold,
                                 const int32_t* feature) {
  const __m512 thresholds = _mm512_load_ps(threshold);
  __m512i p = _mm512_setzero_si512();
  __mmask16 right[4];
  FirstSubtreeLevel<0>(columns, feature, thresholds, right, &p);
  FirstSubtreeLevel<1>(columns, feature, thresholds, right, &p);
  FirstSubtreeLevel<2>(columns, feature, thresholds, right, &p);
  FirstSubtreeLevel<3>(columns, feature, thresholds, right, &p);
  return _mm512_sub_epi32(p, _mm512_set1_epi32(15));
}

struct HopView {
  size_t trees;
  const int32_t* hops;
  const int32_t* first_subtree;
  const int32_t* first_leaf;
  const char* subtrees;  // 128-byte records
  const float* leaf_depth;
  const uint8_t* leaf_ordinal;
};

// 16 rows (lanes) walk one tree together, the trees in order for a block of
// rows. The first hop compares feature-major columns (CrossFirstSubtree);
// each later one computes every row's left-going mask at the 15 nodes of
// the subtree it is in (one compare per row), then the rows' exits in one
// vector pass. Then each lane adds its bottom position's leaf depth.
template <int R>
void WalkHopsAvx512(const HopView& v, const float* data, Eigen::Index stride, Eigen::Index rows,
                    int dims, float* sums, uint8_t* leaves) {
  const size_t trees = v.trees;
  // At 64 features half a block, so that its columns stay at 32 KiB of stack.
  constexpr Eigen::Index kRows = R == 4 ? kBlockRows / 2 : kBlockRows;
  const RowTail tail{LoadMask(dims - 32), LoadMask(dims - 16 * (R - 1))};
  const float* row[kRows];
  __mmask16 left[16];
  alignas(64) int32_t at[16];
  // Bottom positions of kCodeTrees trees for the block's rows, turned into
  // leaf codes (row-major, trees apart) once those trees are walked: the
  // codes' byte stores then run in one loop of their own instead of
  // waiting on each group's vector of positions.
  constexpr size_t kCodeTrees = 16;
  alignas(64) uint16_t bottom[kCodeTrees][kRows];
  // The block's rows feature-major by groups of 16 (CrossFirstSubtree).
  alignas(64) float columns[kRows * 16 * R];
  for (Eigen::Index block = 0; block < rows; block += kRows) {
    const int n = static_cast<int>(std::min(kRows, rows - block));
    // Lanes past the block's last row walk that row again; their results
    // are not kept.
    for (int j = 0; j < kRows; ++j) row[j] = data + (block + std::min(j, n - 1)) * stride;
    for (int g = 0; g < n; g += 16) {
      float* group = columns + static_cast<size_t>(g) * 16 * R;
      for (int j = 0; j < 16; ++j) {
        for (int f = 0; f < dims; ++f) group[16 * f + j] = row[g + j][f];
      }
    }
    for (size_t t = 0; t < trees; ++t) {
      const int hops = v.hops[t];
      const char* tree = v.subtrees + static_cast<size_t>(v.first_subtree[t]) * 128;
      const float* leaf_depth = v.leaf_depth + v.first_leaf[t];
      for (int g = 0; g < n; g += 16) {
        const float* const* r = row + g;
        __m512i q = CrossFirstSubtree(columns + static_cast<size_t>(g) * 16 * R,
                                      reinterpret_cast<const float*>(tree),
                                      reinterpret_cast<const int32_t*>(tree + 64));
        for (int hop = 1; hop < hops; ++hop) {
          // Byte offsets of the rows' subtrees, read back lane by lane.
          _mm512_store_si512(at, _mm512_slli_epi32(q, 7));
          const char* level = tree + static_cast<size_t>(SubtreesBefore(hop)) * 128;
          for (int j = 0; j < 16; ++j) left[j] = LeftMask<R>(r[j], tail, level + at[j]);
          q = _mm512_add_epi32(_mm512_slli_epi32(q, 4), Exits(MasksToLanes(left)));
        }
        const int m = std::min(16, n - g);
        const __mmask16 keep = static_cast<__mmask16>(m == 16 ? 0xFFFF : (1u << m) - 1);
        float* s = sums + block + g;
        const __m512 depth = _mm512_i32gather_ps(q, leaf_depth, 4);
        _mm512_mask_storeu_ps(s, keep, _mm512_add_ps(_mm512_maskz_loadu_ps(keep, s), depth));
        if (leaves != nullptr) {
          _mm256_store_si256(reinterpret_cast<__m256i*>(&bottom[t % kCodeTrees][g]),
                             _mm512_cvtepi32_epi16(q));
        }
      }
      if (leaves != nullptr && (t % kCodeTrees == kCodeTrees - 1 || t + 1 == trees)) {
        const size_t first = t - t % kCodeTrees;
        for (size_t u = first; u <= t; ++u) {
          const uint8_t* ordinal = v.leaf_ordinal + v.first_leaf[u];
          const uint16_t* at_bottom = bottom[u % kCodeTrees];
          uint8_t* codes = leaves + static_cast<size_t>(block) * trees + u;
          for (int j = 0; j < n; ++j) codes[j * trees] = ordinal[at_bottom[j]];
        }
      }
    }
  }
}

}  // namespace
#endif  // __AVX512F__ && __AVX512BW__

void IsolationForest::WalkHops(const ConstMatrixRef& x, absl::Span<float> out,
                               uint8_t* leaves) const {
#if defined(__AVX512F__) && defined(__AVX512BW__)
  const HopView v{roots_.size(),
                  hop_.hops.data(),
                  hop_.first_subtree.data(),
                  hop_.first_leaf.data(),
                  reinterpret_cast<const char*>(hop_.subtrees.data()),
                  hop_.leaf_depth.data(),
                  hop_.leaf_ordinal.data()};
  static_assert(sizeof(Subtree) == 128, "WalkHopsAvx512 reads 128-byte subtrees");
  const Eigen::Index stride = x.outerStride();
  if (dims_ <= 16) {
    WalkHopsAvx512<1>(v, x.data(), stride, x.rows(), dims_, out.data(), leaves);
  } else if (dims_ <= 32) {
    WalkHopsAvx512<2>(v, x.data(), stride, x.rows(), dims_, out.data(), leaves);
  } else {
    WalkHopsAvx512<4>(v, x.data(), stride, x.rows(), dims_, out.data(), leaves);
  }
#else
  WalkNodes(x, out, leaves);  // not reached: BuildHopLayout() builds no layout here
#endif
}

}  // namespace aad
