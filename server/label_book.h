// The expert's current verdicts in a session: one per labelled row, in the
// order rows were first labelled (the order the learner fits them in, so a
// restart refits on the same sequence); a relabel replaces its verdict in
// place. Not thread-safe: the owning Session guards it.
#ifndef AADD_SERVER_LABEL_BOOK_H_
#define AADD_SERVER_LABEL_BOOK_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/active/active_learner.h"

namespace aad {

class LabelBook {
 public:
  // Records a verdict (a new row, or a relabel).
  void Apply(const LabelledRow& label);

  const std::vector<LabelledRow>& labels() const { return labels_; }
  int64_t size() const { return static_cast<int64_t>(labels_.size()); }
  // Rows whose current verdict is anomaly.
  int64_t anomalies() const { return anomalies_; }
  // One flag per row of a pool of `rows` rows: 1 = labelled.
  std::vector<uint8_t> LabelledFlags(int64_t rows) const;

 private:
  std::vector<LabelledRow> labels_;
  absl::flat_hash_map<int64_t, size_t> index_;  // row -> position in labels_
  int64_t anomalies_ = 0;
};

}  // namespace aad

#endif  // AADD_SERVER_LABEL_BOOK_H_
