#include "core/data/csv_reader.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "core/data/csv_chunk_reader.h"
#include "core/data/csv_row_parser.h"
#include "core/util/status_macros.h"

namespace aad {

absl::StatusOr<Dataset> ParseCsv(absl::string_view text, absl::string_view source,
                                 const CsvOptions& options) {
  CsvRowParser parser(source, options);
  parser.SetText(text, /*first_line=*/1, /*at_input_end=*/true);
  RETURN_IF_ERROR(parser.ParseHeader().status());
  // Every record ends at a newline, so their count bounds the rows and the
  // matrix is allocated once; blank lines only make it slightly large.
  const int64_t max_rows = 1 + std::count(text.begin(), text.end(), '\n');
  Matrix features(max_rows, parser.dims());
  std::vector<uint8_t> labels;
  if (parser.has_labels()) labels.resize(max_rows);
  int64_t rows = 0;
  RETURN_IF_ERROR(parser.ParseRows(max_rows, features.data(),
                                   labels.empty() ? nullptr : labels.data(), &rows));
  Dataset dataset;
  dataset.feature_names = parser.feature_names();
  // Rows are contiguous in a row-major matrix, so the leading rows are one
  // block and a copy of them is the whole shrink.
  if (rows < max_rows) {
    dataset.features = features.topRows(rows);
  } else {
    dataset.features = std::move(features);
  }
  if (!labels.empty()) labels.resize(rows);
  dataset.labels = std::move(labels);
  return dataset;
}

absl::StatusOr<Dataset> ReadCsvFile(const std::string& path, const CsvOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<CsvChunkReader> reader, CsvChunkReader::Open(path, options));
  // Large chunks: the reader's per-call work is then negligible, and the
  // rows are copied once more, into the matrix, at the end.
  constexpr int64_t kChunkRows = 1 << 16;
  const int64_t dims = reader->dims();
  std::vector<float> values;
  std::vector<uint8_t> labels;
  CsvChunk chunk;
  for (;;) {
    RETURN_IF_ERROR(reader->Next(kChunkRows, &chunk));
    if (chunk.rows == 0) break;
    values.insert(values.end(), chunk.values.begin(), chunk.values.begin() + chunk.rows * dims);
    labels.insert(labels.end(), chunk.labels.begin(), chunk.labels.end());
  }
  Dataset dataset;
  dataset.feature_names = reader->feature_names();
  const int64_t rows = static_cast<int64_t>(values.size()) / dims;
  dataset.features = Eigen::Map<const Matrix>(values.data(), rows, dims);
  dataset.labels = std::move(labels);
  return dataset;
}

}  // namespace aad
