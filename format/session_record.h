// The persisted form of a session: plain structs shared by every SessionStore
// implementation and by the export/import archive. They hold no protobuf and
// no service types, so that a store (SQLite today, PostgreSQL later) can be
// swapped without touching the service. The service uses SessionOptions
// itself and converts its state to and from the other records at its edge.
//
// Row ids are server-assigned and contiguous: batch k starts where batch k-1
// ended. Label times are Unix microseconds chosen by the caller (the store
// keeps them verbatim; they exist for the relabel history and audit).
#ifndef AADD_FORMAT_SESSION_RECORD_H_
#define AADD_FORMAT_SESSION_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/active/active_config.h"
#include "core/active/query_strategy.h"

namespace aad {

// What a client chose at creation, defaults filled in and validated: the
// service's and the store's one form of a session's settings (see
// session_options_codec.h for its versioned text encoding).
struct SessionOptions {
  aad::ActiveConfig config;
  aad::StrategyKind strategy = aad::StrategyKind::kTop;
  int64_t feature_count = 0;  // 0 = fixed by the first batch
  std::vector<std::string> feature_names;
};

// One ingested batch: row_count x feature_count floats, row-major.
struct BatchRecord {
  std::string batch_id;  // the client's id; unique within a session
  int64_t first_row_id = 0;
  int64_t row_count = 0;
  int64_t feature_count = 0;
  std::vector<float> values;
};

// One label submission for one row: a verdict (anomaly or nominal), or a
// withdrawal that takes the row's verdict back (undo). In a session's
// history every submission is kept; the current label of a row is its
// latest verdict, unless a withdrawal came after it. A withdrawal only ever
// appears in a history, never among current labels; its `anomaly` is false
// and means nothing. `withdrawn` comes last so that {row, anomaly, time}
// still spells a verdict.
struct LabelRecord {
  int64_t row_id = 0;
  bool anomaly = false;
  int64_t time_micros = 0;
  bool withdrawn = false;
};

// The newest published model. `bytes` is aad::ActiveModel::Serialize()
// output, opaque to the store. `labels_revision` is the caller's label
// revision the model was fitted on (kept verbatim, so that recovery can tell
// whether labels arrived after the model and schedule an update).
struct ModelRecord {
  int64_t version = 0;
  int64_t labels_revision = 0;
  int64_t created_micros = 0;
  std::string bytes;
};

// What a session's trainer is doing: nothing, a full training run (the
// Train RPC) or a label update. A stored training run is one of the last two.
enum class TrainingState { kIdle, kTraining, kUpdating };
// "idle", "train", "update": the names the SQLite store keeps for runs.
absl::string_view TrainingStateName(TrainingState state);
// OK for the kinds a training run can have (kTraining, kUpdating);
// INVALID_ARGUMENT for kIdle.
absl::Status ValidateRunKind(TrainingState kind);

// A training run that was started and never finished: the process died
// during it. Recovery reports it (or restarts training) and closes it with
// SessionStore::FinishTraining.
struct TrainingRunRecord {
  int64_t run_id = 0;
  TrainingState kind = TrainingState::kTraining;
  int64_t started_micros = 0;
};

// A row of SessionStore::ListSessions().
struct SessionSummary {
  std::string id;
  int64_t created_micros = 0;
  int64_t row_count = 0;
  int64_t model_version = 0;  // 0 = no model stored
  std::string tenant;         // the owner ("" without --auth_tokens)
};

// Everything needed to rebuild a session.
struct SessionRecord {
  std::string id;
  // The tenant that owns the session ("": the anonymous one, without
  // --auth_tokens). Stored with it, but no part of an archive: a tenant
  // name means something on one server only, so an import assigns the
  // importing tenant.
  std::string tenant;
  int64_t created_micros = 0;
  SessionOptions options;
  std::vector<BatchRecord> batches;  // in row order
  // Current labels, one per labelled row, in the order each row was first
  // labelled; a relabel replaces the verdict in place (as the session does).
  // A withdrawn row leaves this list; labelled again, it joins at the end.
  std::vector<LabelRecord> labels;
  // Every submission in the order it was stored (the relabel history).
  std::vector<LabelRecord> label_history;
  std::optional<ModelRecord> model;
  // Runs begun and never finished, oldest first (normally at most one).
  std::vector<TrainingRunRecord> interrupted_training;

  int64_t row_count() const {
    return batches.empty() ? 0 : batches.back().first_row_id + batches.back().row_count;
  }
};

// Folds a label history into current labels: first-given order, the latest
// verdict and time of each row. A withdrawal removes its row; a verdict
// after it counts as the row's first, so the row goes to the end of the
// order (the learner fits in this order, and a restart refits on it, so
// Session and LabelBook keep the same rule). A withdrawal of a row without
// a label is skipped here; ValidateSessionRecord refuses such a history.
std::vector<LabelRecord> CurrentLabels(const std::vector<LabelRecord>& history);

// Checks the withdrawals of a label submission, in order: each must name a
// row that has a label just before it, by `labelled` (whether the row had
// one before the submission; its error is returned as is) or by the
// submission's own earlier entries. NOT_FOUND naming the first entry and
// row that has no label to withdraw. The one rule for the session, the
// stores and ValidateSessionRecord.
absl::Status CheckWithdrawals(absl::Span<const LabelRecord> submission,
                              absl::FunctionRef<absl::StatusOr<bool>(int64_t row)> labelled);

// Checks a batch before it is stored: a non-empty id, positive sizes,
// values.size() == row_count * feature_count. INVALID_ARGUMENT naming the
// batch and the offending value.
absl::Status ValidateBatch(const BatchRecord& batch);

// Checks a whole record (an imported archive, a loaded session): batches
// valid, contiguous from row 0, one feature count, unique batch ids, labels
// naming existing rows, each withdrawal naming a row labelled at that point
// of the history, and current labels agreeing with it. DATA_LOSS naming
// `source` (a file or a store) and the first inconsistency.
absl::Status ValidateSessionRecord(const SessionRecord& record, absl::string_view source);

}  // namespace aad

#endif  // AADD_FORMAT_SESSION_RECORD_H_
