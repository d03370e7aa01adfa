// The rules every SessionStore applies to its writes, written once: for
// AppendBatch, a batch id seen before answers the stored batch (the
// client's retry), or ALREADY_EXISTS when it now comes with other rows, and
// a new batch must start where the stored rows end and have the session's
// width; for PutLabels, every label names a stored row. Each store finds
// what it holds its own way (a map, a SELECT) and asks these.
#ifndef AADD_SERVER_STORAGE_WRITE_RULES_H_
#define AADD_SERVER_STORAGE_WRITE_RULES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "format/session_record.h"
#include "server/storage/session_store.h"

namespace aad {

// What a store holds of an earlier batch with the same id.
struct StoredBatch {
  int64_t first_row_id = 0;
  int64_t row_count = 0;
  int64_t feature_count = 0;
};

// The answer to a retried batch: the stored one (duplicate), or
// ALREADY_EXISTS naming both shapes when `batch` differs from it.
absl::StatusOr<AppendResult> AnswerRetriedBatch(const std::string& session,
                                                const BatchRecord& batch,
                                                const StoredBatch& stored);

// Whether a new batch may follow the `stored_rows` rows of width
// `stored_feature_count` (0: none fixed yet): FAILED_PRECONDITION when it
// does not start at the next row id, INVALID_ARGUMENT for another width.
absl::Status CheckNewBatch(const std::string& session, const BatchRecord& batch,
                           int64_t stored_rows, int64_t stored_feature_count);

// Whether every label names one of the `stored_rows` rows: NOT_FOUND naming
// the first that does not.
absl::Status CheckLabelledRows(const std::string& session, absl::Span<const LabelRecord> labels,
                               int64_t stored_rows);

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_WRITE_RULES_H_
