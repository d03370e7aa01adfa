// Reads a CSV file a chunk of rows at a time, so that a caller can send or
// store one chunk while the next is parsed, and never holds the whole file.
// Same rules and errors as ReadCsvFile (csv_reader.h), which is built on it.
#ifndef AADD_CORE_DATA_CSV_CHUNK_READER_H_
#define AADD_CORE_DATA_CSV_CHUNK_READER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/csv_reader.h"
#include "core/data/csv_row_parser.h"

namespace aad {

// Rows of one chunk. The buffers keep their capacity from one chunk to the
// next, so a reused chunk allocates only while it first grows.
struct CsvChunk {
  // rows x dims floats, row-major; the vector may be longer than that.
  std::vector<float> values;
  // rows entries (1 = anomaly); empty when the file has no label column.
  std::vector<uint8_t> labels;
  int64_t rows = 0;
};

class CsvChunkReader {
 public:
  // Opens `path` and reads its header. NOT_FOUND when it cannot be opened;
  // INVALID_ARGUMENT for a directory or a bad header (csv_reader.h).
  static absl::StatusOr<std::unique_ptr<CsvChunkReader>> Open(const std::string& path,
                                                              const CsvOptions& options);
  ~CsvChunkReader();
  CsvChunkReader(const CsvChunkReader&) = delete;
  CsvChunkReader& operator=(const CsvChunkReader&) = delete;

  // The header's feature columns, and whether it has the label column.
  const std::vector<std::string>& feature_names() const { return parser_.feature_names(); }
  int64_t dims() const { return parser_.dims(); }
  bool has_labels() const { return parser_.has_labels(); }

  // Reads the next rows, at most max_rows (> 0), into *chunk; only the last
  // chunk has fewer, and chunk->rows == 0 means the file is done. On an
  // error (INVALID_ARGUMENT naming the path, line, column and value, as
  // ReadCsvFile; DATA_LOSS when the file cannot be read) *chunk holds the
  // rows before the bad one, and the reader stays at the error.
  absl::Status Next(int64_t max_rows, CsvChunk* chunk);

 private:
  CsvChunkReader(std::FILE* file, std::string path, const CsvOptions& options);
  // Keeps the bytes not yet parsed, reads more after them, and hands the
  // parser the whole records among them.
  absl::Status Refill();

  std::FILE* file_;
  const std::string path_;
  const CsvOptions options_;
  CsvRowParser parser_;
  std::vector<char> buffer_;
  size_t window_end_ = 0;   // the bytes the parser has: up to the last full line
  size_t filled_ = 0;       // bytes in buffer_
  bool at_end_ = false;     // the file has been read to its end
  absl::Status error_;      // the error Next returned, returned again
};

}  // namespace aad

#endif  // AADD_CORE_DATA_CSV_CHUNK_READER_H_
