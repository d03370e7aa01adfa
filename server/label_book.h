// The expert's current verdicts in a session: one per labelled row, in the
// order rows were first labelled (the order the learner fits them in, so a
// restart refits on the same sequence); a relabel replaces its verdict in
// place. A withdrawn row leaves the book; labelled again, it counts as
// first labelled then and joins at the end (format/session_record.h's
// CurrentLabels folds a stored history by the same rule, so a restart
// rebuilds the same order). Not thread-safe: the owning Session guards it.
#ifndef AADD_SERVER_LABEL_BOOK_H_
#define AADD_SERVER_LABEL_BOOK_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/active/active_learner.h"

namespace aad {

// One entry of a label submission: a verdict for a row, or, with
// `withdraw`, taking the row's verdict back (undo; `anomaly` is ignored).
struct LabelChange {
  int64_t row = 0;
  bool anomaly = false;
  bool withdraw = false;
};

class LabelBook {
 public:
  // Records a verdict (a new row, or a relabel).
  void Apply(const LabelledRow& label);
  // Removes the row's verdict; false (and no change) when it has none.
  // Linear in the number of labels: the later rows move up one place.
  bool Withdraw(int64_t row);

  bool Contains(int64_t row) const { return index_.contains(row); }
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
