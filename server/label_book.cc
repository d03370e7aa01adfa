#include "server/label_book.h"

#include <cstddef>

namespace aad {

void LabelBook::Apply(const LabelledRow& label) {
  auto [it, inserted] = index_.try_emplace(label.row, labels_.size());
  if (inserted) {
    labels_.push_back(label);
    anomalies_ += label.anomaly;
    return;
  }
  LabelledRow& current = labels_[it->second];
  anomalies_ += static_cast<int>(label.anomaly) - static_cast<int>(current.anomaly);
  current.anomaly = label.anomaly;
}

bool LabelBook::Withdraw(int64_t row) {
  auto it = index_.find(row);
  if (it == index_.end()) return false;
  const size_t position = it->second;
  anomalies_ -= labels_[position].anomaly;
  index_.erase(it);
  labels_.erase(labels_.begin() + static_cast<std::ptrdiff_t>(position));
  for (size_t i = position; i < labels_.size(); ++i) index_[labels_[i].row] = i;
  return true;
}

std::vector<uint8_t> LabelBook::LabelledFlags(int64_t rows) const {
  std::vector<uint8_t> flags(static_cast<size_t>(rows), 0);
  for (const LabelledRow& l : labels_) {
    if (l.row < rows) flags[l.row] = 1;
  }
  return flags;
}

}  // namespace aad
