#include "format/session_record.h"

#include <cstddef>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace aad {

absl::string_view TrainingStateName(TrainingState state) {
  switch (state) {
    case TrainingState::kIdle:
      return "idle";
    case TrainingState::kTraining:
      return "train";
    case TrainingState::kUpdating:
      return "update";
  }
  return "unknown";
}

absl::Status ValidateRunKind(TrainingState kind) {
  if (kind == TrainingState::kTraining || kind == TrainingState::kUpdating) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("a training run is a full training or a label "
                                                 "update, not '",
                                                 TrainingStateName(kind), "'"));
}

std::vector<LabelRecord> CurrentLabels(const std::vector<LabelRecord>& history) {
  // A withdrawal leaves a hole where its row was, dropped at the end, so a
  // later verdict for the row takes a new place at the end: linear time.
  std::vector<LabelRecord> slots;
  std::vector<bool> live;
  absl::flat_hash_map<int64_t, size_t> index;  // currently labelled row -> slot
  for (const LabelRecord& label : history) {
    if (label.withdrawn) {
      auto it = index.find(label.row_id);
      if (it != index.end()) {
        live[it->second] = false;
        index.erase(it);
      }
      continue;
    }
    auto [it, inserted] = index.try_emplace(label.row_id, slots.size());
    if (inserted) {
      slots.push_back(label);
      live.push_back(true);
    } else {
      slots[it->second] = label;
    }
  }
  std::vector<LabelRecord> current;
  current.reserve(index.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    if (live[i]) current.push_back(slots[i]);
  }
  return current;
}

absl::Status CheckWithdrawals(absl::Span<const LabelRecord> submission,
                              absl::FunctionRef<absl::StatusOr<bool>(int64_t row)> labelled) {
  // Rows the submission itself labelled (true) or withdrew (false) so far.
  absl::flat_hash_map<int64_t, bool> changed;
  for (size_t i = 0; i < submission.size(); ++i) {
    const LabelRecord& label = submission[i];
    if (!label.withdrawn) {
      changed[label.row_id] = true;
      continue;
    }
    bool has_label = false;
    if (auto it = changed.find(label.row_id); it != changed.end()) {
      has_label = it->second;
    } else {
      absl::StatusOr<bool> before = labelled(label.row_id);
      if (!before.ok()) return before.status();
      has_label = *before;
    }
    if (!has_label) {
      return absl::NotFoundError(absl::StrCat("label ", i + 1, " of ", submission.size(),
                                              " withdraws row id ", label.row_id,
                                              ", which has no label"));
    }
    changed[label.row_id] = false;
  }
  return absl::OkStatus();
}

absl::Status ValidateBatch(const BatchRecord& batch) {
  if (batch.batch_id.empty()) {
    return absl::InvalidArgumentError("batch id is empty");
  }
  if (batch.row_count <= 0 || batch.feature_count <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch '", batch.batch_id, "' has ",
                                                   batch.row_count, " rows of ",
                                                   batch.feature_count,
                                                   " features; both must be positive"));
  }
  if (batch.first_row_id < 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch '", batch.batch_id,
                                                   "' has negative first row id ",
                                                   batch.first_row_id));
  }
  // Divide rather than multiply so that absurd counts cannot overflow.
  if (batch.values.size() % static_cast<size_t>(batch.feature_count) != 0 ||
      static_cast<int64_t>(batch.values.size() / static_cast<size_t>(batch.feature_count)) !=
          batch.row_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch '", batch.batch_id, "' holds ", batch.values.size(), " values, expected ",
        batch.row_count, " rows x ", batch.feature_count, " features"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSessionRecord(const SessionRecord& record, absl::string_view source) {
  auto loss = [&](const std::string& what) {
    return absl::DataLossError(absl::StrCat(source, ": session '", record.id, "': ", what));
  };
  if (record.id.empty()) return loss("empty session id");
  int64_t next_row = 0;
  int64_t features = record.options.feature_count;
  absl::flat_hash_set<std::string> ids;
  for (const BatchRecord& batch : record.batches) {
    absl::Status valid = ValidateBatch(batch);
    if (!valid.ok()) return loss(std::string(valid.message()));
    if (batch.first_row_id != next_row) {
      return loss(absl::StrCat("batch '", batch.batch_id, "' starts at row ", batch.first_row_id,
                               ", expected ", next_row));
    }
    if (features != 0 && batch.feature_count != features) {
      return loss(absl::StrCat("batch '", batch.batch_id, "' has ", batch.feature_count,
                               " features, the session ", features));
    }
    features = batch.feature_count;
    if (!ids.insert(batch.batch_id).second) {
      return loss(absl::StrCat("batch id '", batch.batch_id, "' appears twice"));
    }
    next_row += batch.row_count;
  }
  for (const LabelRecord& label : record.label_history) {
    if (label.row_id < 0 || label.row_id >= next_row) {
      return loss(absl::StrCat("a label names row ", label.row_id, " of ", next_row, " rows"));
    }
  }
  // A withdrawal of an unlabelled row was never acknowledged by aadd (the
  // session and the stores refuse it), so such a history is damage.
  absl::Status withdrawals = CheckWithdrawals(
      record.label_history, [](int64_t) -> absl::StatusOr<bool> { return false; });
  if (!withdrawals.ok()) {
    return loss(absl::StrCat("label history: ", withdrawals.message()));
  }
  std::vector<LabelRecord> expected = CurrentLabels(record.label_history);
  if (expected.size() != record.labels.size()) {
    return loss(absl::StrCat(record.labels.size(), " current labels, the history gives ",
                             expected.size()));
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i].row_id != record.labels[i].row_id ||
        expected[i].anomaly != record.labels[i].anomaly || record.labels[i].withdrawn) {
      return loss(absl::StrCat("current label ", i, " (row ", record.labels[i].row_id,
                               ") disagrees with the history (row ", expected[i].row_id, ")"));
    }
  }
  if (record.model.has_value() && record.model->version <= 0) {
    return loss(absl::StrCat("model version ", record.model->version, " is not positive"));
  }
  return absl::OkStatus();
}

}  // namespace aad
