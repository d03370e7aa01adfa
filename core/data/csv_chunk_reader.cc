#include "core/data/csv_chunk_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {

// Bytes read at a time: about 3,000 rows of 32 floats. The buffer doubles
// only for a record longer than it.
constexpr size_t kReadBytes = 1 << 20;

}  // namespace

absl::StatusOr<std::unique_ptr<CsvChunkReader>> CsvChunkReader::Open(const std::string& path,
                                                                     const CsvOptions& options) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  }
  std::unique_ptr<CsvChunkReader> reader(new CsvChunkReader(file, path, options));
  struct stat info;
  if (fstat(fileno(file), &info) == 0 && S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is a directory, not a CSV file"));
  }
  for (;;) {
    RETURN_IF_ERROR(reader->Refill());
    ASSIGN_OR_RETURN(const bool complete, reader->parser_.ParseHeader());
    if (complete) return reader;
  }
}

CsvChunkReader::CsvChunkReader(std::FILE* file, std::string path, const CsvOptions& options)
    : file_(file),
      path_(std::move(path)),
      options_(options),
      parser_(path_, options_),
      buffer_(kReadBytes) {}

CsvChunkReader::~CsvChunkReader() { std::fclose(file_); }

absl::Status CsvChunkReader::Refill() {
  const size_t keep_from = parser_.consumed();
  const int64_t line = parser_.next_line();
  std::memmove(buffer_.data(), buffer_.data() + keep_from, filled_ - keep_from);
  filled_ -= keep_from;
  for (;;) {
    if (filled_ == buffer_.size()) buffer_.resize(2 * buffer_.size());
    const size_t want = buffer_.size() - filled_;
    const size_t got = std::fread(buffer_.data() + filled_, 1, want, file_);
    filled_ += got;
    if (got < want) {
      if (std::ferror(file_)) {
        return absl::DataLossError(
            absl::StrCat("error reading '", path_, "': ", std::strerror(errno)));
      }
      at_end_ = true;
    }
    // The parser gets whole lines only, until the file ends: a record cut
    // off by the read would read as a short row.
    window_end_ = filled_;
    if (!at_end_) {
      const char* data = buffer_.data();
      const auto last = std::find(std::make_reverse_iterator(data + filled_),
                                  std::make_reverse_iterator(data), '\n');
      window_end_ = static_cast<size_t>(last.base() - data);
    }
    if (at_end_ || window_end_ > 0) break;
  }
  parser_.SetText(absl::string_view(buffer_.data(), window_end_), line, at_end_);
  return absl::OkStatus();
}

absl::Status CsvChunkReader::Next(int64_t max_rows, CsvChunk* chunk) {
  chunk->rows = 0;
  RETURN_IF_ERROR(error_);
  const size_t values = static_cast<size_t>(max_rows * dims());
  if (chunk->values.size() < values) chunk->values.resize(values);
  if (has_labels() && chunk->labels.size() < static_cast<size_t>(max_rows)) {
    chunk->labels.resize(max_rows);
  }
  uint8_t* labels = has_labels() ? chunk->labels.data() : nullptr;
  for (;;) {
    error_ = parser_.ParseRows(max_rows, chunk->values.data(), labels, &chunk->rows);
    if (!error_.ok()) break;
    // At the file's end the parser had all of it: a short chunk is the last.
    if (chunk->rows == max_rows || at_end_) break;
    error_ = Refill();
    if (!error_.ok()) break;
  }
  if (has_labels()) chunk->labels.resize(chunk->rows);
  return error_;
}

}  // namespace aad
