// Reads a CSV table with a header row into a Dataset.
#ifndef AADD_CORE_DATA_CSV_READER_H_
#define AADD_CORE_DATA_CSV_READER_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "core/data/dataset.h"

namespace aad {

struct CsvOptions {
  // The column that holds the ground truth; it is not read as a feature.
  std::string label_column = "label";
  // The label value that means "anomaly"; any other value means nominal.
  std::string anomaly_value = "anomaly";
  // When true, a file without `label_column` is an error; when false it is
  // read as unlabelled data (every column a feature).
  bool require_labels = false;
};

// Parses `text`; `source` names it in errors (a path, or "<stdin>").
// Every error is INVALID_ARGUMENT and names source, line, column and value:
// an empty input, a header without feature columns, a missing label column
// (when required), a ragged row, a non-numeric cell, NaN or Inf.
// Blank lines are skipped; Windows line endings and surrounding spaces are
// accepted; double-quoted cells are unquoted.
absl::StatusOr<Dataset> ParseCsv(absl::string_view text, absl::string_view source,
                                 const CsvOptions& options);

// Reads and parses the file at `path`. NOT_FOUND when it cannot be opened.
absl::StatusOr<Dataset> ReadCsvFile(const std::string& path, const CsvOptions& options);

}  // namespace aad

#endif  // AADD_CORE_DATA_CSV_READER_H_
