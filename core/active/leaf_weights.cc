#include "core/active/leaf_weights.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace aad {

LeafWeights::LeafWeights(int trees)
    : trees_(trees),
      max_q_(trees > 0 ? std::numeric_limits<int32_t>::max() / trees : 0),
      q_(static_cast<size_t>(trees) * kLeavesPerTree, 0) {}

void LeafWeights::Set(int index, double value) {
  const double steps = std::nearbyint(value / kQuantum);
  q_[index] = static_cast<int32_t>(std::clamp<double>(steps, -max_q_, max_q_));
}

void LeafWeights::Clear() { std::fill(q_.begin(), q_.end(), 0); }

void LeafWeights::AddTo(absl::Span<const LeafCode> codes, int64_t rows, float* logits) const {
  const int32_t* q = q_.data();
  const int trees = trees_;
  for (int64_t r = 0; r < rows; ++r) {
    const LeafCode* row = codes.data() + r * trees;
    int32_t sum = 0;
    for (int t = 0; t < trees; ++t) sum += q[t * kLeavesPerTree + row[t]];
    logits[r] += static_cast<float>(sum * kQuantum);
  }
}

void LeafWeights::Serialize(ByteWriter* out) const {
  out->WriteString("leaf_weights");
  out->WriteU32(static_cast<uint32_t>(trees_));
  // Sparse: most leaves never see a label and stay 0.
  uint64_t nonzero = 0;
  for (int32_t v : q_) nonzero += v != 0;
  out->WriteU64(nonzero);
  for (size_t i = 0; i < q_.size(); ++i) {
    if (q_[i] == 0) continue;
    out->WriteU32(static_cast<uint32_t>(i));
    out->WriteU32(static_cast<uint32_t>(q_[i]));
  }
}

absl::StatusOr<LeafWeights> LeafWeights::Deserialize(ByteReader* in) {
  RETURN_IF_ERROR(in->ExpectTag("leaf_weights"));
  ASSIGN_OR_RETURN(const uint32_t trees, in->ReadU32("leaf_weights.trees"));
  if (trees > 100000) {
    return absl::DataLossError(absl::StrCat("leaf_weights: implausible tree count ", trees));
  }
  LeafWeights w(static_cast<int>(trees));
  ASSIGN_OR_RETURN(const uint64_t nonzero, in->ReadU64("leaf_weights.nonzero"));
  if (nonzero > w.q_.size() || nonzero > in->remaining() / 8) {
    return absl::DataLossError(absl::StrCat("leaf_weights: ", nonzero, " weights for ",
                                            w.q_.size(), " leaves, ", in->remaining(),
                                            " bytes left"));
  }
  int64_t last = -1;
  for (uint64_t k = 0; k < nonzero; ++k) {
    ASSIGN_OR_RETURN(const uint32_t index, in->ReadU32("leaf_weights.index"));
    ASSIGN_OR_RETURN(const uint32_t bits, in->ReadU32("leaf_weights.value"));
    const int32_t value = static_cast<int32_t>(bits);
    if (static_cast<int64_t>(index) <= last || index >= w.q_.size() || value == 0 ||
        value > w.max_q_ || value < -w.max_q_) {
      return absl::DataLossError(absl::StrCat("leaf_weights: bad entry ", k, " (leaf ", index,
                                              ", value ", value, ")"));
    }
    w.q_[index] = value;
    last = index;
  }
  return w;
}

}  // namespace aad
