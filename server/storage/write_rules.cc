#include "server/storage/write_rules.h"

#include "absl/strings/str_cat.h"

namespace aad {

absl::StatusOr<AppendResult> AnswerRetriedBatch(const std::string& session,
                                                const BatchRecord& batch,
                                                const StoredBatch& stored) {
  if (stored.row_count != batch.row_count || stored.feature_count != batch.feature_count) {
    return absl::AlreadyExistsError(absl::StrCat(
        "session '", session, "': batch id '", batch.batch_id, "' was stored with ",
        stored.row_count, "x", stored.feature_count, " values, now sent with ", batch.row_count,
        "x", batch.feature_count));
  }
  return AppendResult{stored.first_row_id, stored.row_count, true};
}

absl::Status CheckNewBatch(const std::string& session, const BatchRecord& batch,
                           int64_t stored_rows, int64_t stored_feature_count) {
  if (batch.first_row_id != stored_rows) {
    return absl::FailedPreconditionError(
        absl::StrCat("session '", session, "': batch '", batch.batch_id, "' starts at row ",
                     batch.first_row_id, " but the store holds ", stored_rows, " rows"));
  }
  // The session's fixed width (options) or the first batch's.
  if (stored_feature_count != 0 && stored_feature_count != batch.feature_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "session '", session, "': batch '", batch.batch_id, "' has ", batch.feature_count,
        " features, stored rows have ", stored_feature_count));
  }
  return absl::OkStatus();
}

absl::Status CheckLabelledRows(const std::string& session, absl::Span<const LabelRecord> labels,
                               int64_t stored_rows) {
  for (const LabelRecord& label : labels) {
    if (label.row_id < 0 || label.row_id >= stored_rows) {
      return absl::NotFoundError(absl::StrCat("session '", session, "': label names row ",
                                              label.row_id, ", the store holds ", stored_rows,
                                              " rows"));
    }
  }
  return absl::OkStatus();
}

}  // namespace aad
