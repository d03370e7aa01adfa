// Turns CSV records into float32 rows: the one parser behind ParseCsv,
// ReadCsvFile and CsvChunkReader (its rules and errors are csv_reader.h's).
// It reads a text of whole records that may be one window of a longer input,
// so a file can be parsed a chunk at a time. Internal to core/data.
#ifndef AADD_CORE_DATA_CSV_ROW_PARSER_H_
#define AADD_CORE_DATA_CSV_ROW_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/data/csv_reader.h"
#include "core/data/csv_tokenizer.h"

namespace aad {

class CsvRowParser {
 public:
  // `source` names the input in errors; both must outlive the parser.
  CsvRowParser(absl::string_view source, const CsvOptions& options);

  // The text to read next, starting on line `first_line`. `at_input_end`:
  // nothing follows it, so a quoted cell open at its end is an error rather
  // than a record that the next window completes.
  void SetText(absl::string_view text, int64_t first_line, bool at_input_end);

  // Reads the header (the first record that is not blank). False when the
  // text ends inside it (more input is needed: SetText again from the same
  // start); the errors of csv_reader.h otherwise.
  absl::StatusOr<bool> ParseHeader();

  // After the header: the feature columns' names, and whether there is a
  // label column.
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  int64_t dims() const { return static_cast<int64_t>(feature_names_.size()); }
  bool has_labels() const { return label_index_ >= 0; }

  // Parses records into rows *rows, *rows + 1, ... of `values` (max_rows x
  // dims(), row-major) and `labels` (max_rows entries; null when there is no
  // label column) until max_rows rows are there or the text's whole records
  // are used up; *rows counts them. On an error the rows before the bad
  // record are in place and *rows counts them.
  absl::Status ParseRows(int64_t max_rows, float* values, uint8_t* labels, int64_t* rows);

  // Where the next text must start: the offset in this text of the first
  // record not parsed (the end, or a record the text ends inside), and its
  // line.
  size_t consumed() const { return consumed_; }
  int64_t next_line() const { return next_line_; }

 private:
  absl::Status Error(int64_t line, absl::string_view what) const;
  absl::Status QuoteError(CsvTokenizer::Cell cell, int64_t line, absl::string_view column,
                          absl::string_view value) const;
  absl::Status CheckHeader(int64_t line);
  absl::Status TooManyCells(int64_t line, absl::string_view first_extra);
  // True when `cell` is an open quote that the next window may close: the
  // record is left for it.
  bool RecordContinues(CsvTokenizer::Cell cell);

  absl::string_view source_;
  const CsvOptions& options_;
  CsvTokenizer tokens_;
  bool at_input_end_ = false;
  size_t consumed_ = 0;
  int64_t next_line_ = 1;
  std::vector<std::string> columns_;  // header names, label column included
  std::vector<std::string> feature_names_;
  int label_index_ = -1;              // position of the label column, or -1
};

}  // namespace aad

#endif  // AADD_CORE_DATA_CSV_ROW_PARSER_H_
