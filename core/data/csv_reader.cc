#include "core/data/csv_reader.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

absl::string_view Trim(absl::string_view s) { return absl::StripAsciiWhitespace(s); }

// Error values are quoted back to the user; a runaway cell (a missing closing
// quote swallows the rest of the file) would make the message unreadable.
std::string Shorten(absl::string_view s) {
  constexpr size_t kMax = 40;
  if (s.size() <= kMax) return std::string(s);
  return absl::StrCat(s.substr(0, kMax), "...");
}

// Splits CSV text into records and cells in one forward pass, without
// allocating per cell: an unquoted cell, or a quoted one without doubled
// quotes, is a view into the text. Line numbers are 1-based and count
// physical lines, so they match what an editor shows even when a quoted cell
// spans lines.
class CsvTokenizer {
 public:
  enum class Cell { kValue, kEndOfRecord, kUnterminatedQuote, kJunkAfterQuote };

  explicit CsvTokenizer(absl::string_view text) : text_(text) {
    // Spreadsheet tools on Windows prepend a UTF-8 byte order mark; without
    // this the first column's name would silently carry it.
    const absl::string_view kBom("\xEF\xBB\xBF", 3);
    if (text_.substr(0, kBom.size()) == kBom) pos_ = kBom.size();
  }

  // Moves to the next record that is not a blank line. False at the end.
  bool NextRecord() {
    in_record_ = false;
    while (pos_ < text_.size()) {
      size_t p = pos_;
      while (p < text_.size() && IsBlank(text_[p])) ++p;
      if (p == text_.size()) {
        pos_ = p;
        return false;
      }
      if (text_[p] == '\n') {
        pos_ = p + 1;
        ++line_;
        continue;
      }
      record_line_ = line_;
      in_record_ = true;
      return true;
    }
    return false;
  }

  // The line on which the current record starts.
  int64_t record_line() const { return record_line_; }

  // Reads the next cell of the current record, trimmed and unquoted, into
  // *value; the view stays valid until the next call. kEndOfRecord when the
  // record has no more cells. On a quoting error *value holds the start of
  // the malformed cell.
  Cell NextCell(absl::string_view* value) {
    if (!in_record_) return Cell::kEndOfRecord;
    const size_t n = text_.size();
    size_t p = pos_;
    while (p < n && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    if (p < n && text_[p] == '"') {
      const size_t start = p + 1;
      bool doubled = false;
      size_t q = start;
      for (;;) {
        const void* hit = std::memchr(text_.data() + q, '"', n - q);
        if (hit == nullptr) {
          *value = text_.substr(p);
          in_record_ = false;
          return Cell::kUnterminatedQuote;
        }
        q = static_cast<const char*>(hit) - text_.data();
        if (q + 1 < n && text_[q + 1] == '"') {
          doubled = true;
          q += 2;
          continue;
        }
        break;
      }
      absl::string_view raw = text_.substr(start, q - start);
      for (char c : raw) line_ += (c == '\n');
      if (doubled) {
        unescaped_.clear();
        for (size_t i = 0; i < raw.size(); ++i) {
          unescaped_.push_back(raw[i]);
          if (raw[i] == '"') ++i;  // the second quote of a doubled pair
        }
        *value = unescaped_;
      } else {
        *value = raw;
      }
      p = q + 1;
      while (p < n && IsBlank(text_[p])) ++p;
      if (p < n && text_[p] != ',' && text_[p] != '\n') {
        *value = text_.substr(start - 1, p + 1 - (start - 1));
        in_record_ = false;
        return Cell::kJunkAfterQuote;
      }
    } else {
      const size_t start = p;
      while (p < n && text_[p] != ',' && text_[p] != '\n') ++p;
      *value = Trim(text_.substr(start, p - start));
    }
    // p is at a delimiter, a line end or the end of the text.
    if (p == n) {
      in_record_ = false;
      pos_ = n;
    } else if (text_[p] == ',') {
      pos_ = p + 1;
    } else {
      in_record_ = false;
      pos_ = p + 1;
      ++line_;
    }
    return Cell::kValue;
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  int64_t record_line_ = 1;
  bool in_record_ = false;
  std::string unescaped_;
};

enum class NumberKind { kOk, kNotANumber, kNaN, kInf, kOutOfRange };

// Locale-independent: std::from_chars never consults the C locale, so a
// process running under, say, de_DE still reads "0.5" as one half. Not
// absl::SimpleAtof: it also reads hexadecimal ("0x10" is 16), which a
// data file means as text, and it cannot tell "inf" from a finite value too
// large for float32, which the errors name apart.
NumberKind ParseFloat(absl::string_view s, float* out) {
  s = Trim(s);
  // from_chars rejects a leading '+', which spreadsheets do write.
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  if (s.empty()) return NumberKind::kNotANumber;
  const char* begin = s.data();
  const char* end = begin + s.size();
  float value = 0.0f;
  auto [ptr, ec] = std::from_chars(begin, end, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    // from_chars also reports underflow as out of range; a value too small
    // for float32 is still a fine number, it just rounds towards zero.
    double wide = 0.0;
    auto [wptr, wec] = std::from_chars(begin, end, wide, std::chars_format::general);
    if (wec != std::errc() || wptr != end ||
        std::fabs(wide) > static_cast<double>(std::numeric_limits<float>::max())) {
      return NumberKind::kOutOfRange;
    }
    value = static_cast<float>(wide);
  } else if (ec != std::errc() || ptr != end) {
    return NumberKind::kNotANumber;
  }
  if (std::isnan(value)) return NumberKind::kNaN;
  if (std::isinf(value)) return NumberKind::kInf;
  *out = value;
  return NumberKind::kOk;
}

class CsvParser {
 public:
  CsvParser(absl::string_view text, absl::string_view source, const CsvOptions& options)
      : text_(text), source_(source), options_(options), tokens_(text) {}

  absl::StatusOr<Dataset> Parse() {
    RETURN_IF_ERROR(ParseHeader());
    RETURN_IF_ERROR(ParseRows());
    return std::move(dataset_);
  }

 private:
  absl::Status Error(int64_t line, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ":", line, ": ", what));
  }

  absl::Status QuoteError(CsvTokenizer::Cell cell, int64_t line, absl::string_view column,
                          absl::string_view value) const {
    if (cell == CsvTokenizer::Cell::kUnterminatedQuote) {
      return Error(line, absl::StrCat("column '", column, "': value '", Shorten(value),
                                      "' has no closing quote"));
    }
    return Error(line, absl::StrCat("column '", column, "': value '", Shorten(value),
                                    "' has text after its closing quote"));
  }

  absl::Status ParseHeader() {
    if (!tokens_.NextRecord()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ":1: file is empty (no header row)"));
    }
    const int64_t line = tokens_.record_line();
    absl::string_view value;
    for (;;) {
      const CsvTokenizer::Cell cell = tokens_.NextCell(&value);
      if (cell == CsvTokenizer::Cell::kEndOfRecord) break;
      if (cell != CsvTokenizer::Cell::kValue) {
        return QuoteError(cell, line, absl::StrCat("#", columns_.size() + 1), value);
      }
      columns_.emplace_back(value);
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i] != options_.label_column) continue;
      if (label_index_ >= 0) {
        // Two label columns would make the ground truth ambiguous.
        return Error(line, absl::StrCat("label column '", options_.label_column,
                                        "' appears more than once in header (columns: ",
                                        absl::StrJoin(columns_, ", "), ")"));
      }
      label_index_ = static_cast<int>(i);
    }
    if (label_index_ < 0 && options_.require_labels) {
      return Error(line, absl::StrCat("no label column '", options_.label_column,
                                      "' in header (columns: ", absl::StrJoin(columns_, ", "),
                                      ")"));
    }
    const size_t dims = columns_.size() - (label_index_ >= 0 ? 1 : 0);
    if (dims == 0) {
      return Error(line, absl::StrCat("header has no feature columns (columns: ",
                                      absl::StrJoin(columns_, ", "), "; label column '",
                                      options_.label_column, "')"));
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (static_cast<int>(i) != label_index_) dataset_.feature_names.push_back(columns_[i]);
    }
    return absl::OkStatus();
  }

  absl::Status ParseRows() {
    const int64_t dims = static_cast<int64_t>(dataset_.feature_names.size());
    const int64_t ncols = static_cast<int64_t>(columns_.size());
    // Every record ends at a newline, so their count bounds the rows and the
    // matrix is allocated once; blank lines only make it slightly large.
    const int64_t max_rows = 1 + std::count(text_.begin(), text_.end(), '\n');
    Matrix features(max_rows, dims);
    std::vector<uint8_t> labels;
    if (label_index_ >= 0) labels.resize(max_rows);

    int64_t row = 0;
    absl::string_view value;
    while (tokens_.NextRecord()) {
      const int64_t line = tokens_.record_line();
      float* out = features.row(row).data();
      int64_t col = 0;
      for (;; ++col) {
        const CsvTokenizer::Cell cell = tokens_.NextCell(&value);
        if (cell == CsvTokenizer::Cell::kEndOfRecord) break;
        const absl::string_view column =
            col < ncols ? absl::string_view(columns_[col]) : absl::string_view("(extra)");
        if (cell != CsvTokenizer::Cell::kValue) return QuoteError(cell, line, column, value);
        if (col >= ncols) return TooManyCells(line, value);
        if (col == label_index_) {
          labels[row] = (value == options_.anomaly_value) ? 1 : 0;
          continue;
        }
        RETURN_IF_ERROR(CheckNumber(ParseFloat(value, out), line, column, value));
        ++out;
      }
      if (col < ncols) {
        return Error(line, absl::StrCat("line has ", col, " cells, the header has ", ncols,
                                        " (no value for column '", columns_[col], "')"));
      }
      ++row;
    }
    if (row < max_rows) {
      // Rows are contiguous in a row-major matrix, so the leading rows are
      // one block and a copy of them is the whole shrink.
      dataset_.features = features.topRows(row);
      if (!labels.empty()) labels.resize(row);
    } else {
      dataset_.features = std::move(features);
    }
    dataset_.labels = std::move(labels);
    return absl::OkStatus();
  }

  // Reads the rest of an over-long record, so the message can say how many
  // cells it had.
  absl::Status TooManyCells(int64_t line, absl::string_view first_extra) {
    const std::string extra = Shorten(first_extra);
    int64_t cells = static_cast<int64_t>(columns_.size()) + 1;
    absl::string_view value;
    while (tokens_.NextCell(&value) == CsvTokenizer::Cell::kValue) ++cells;
    return Error(line, absl::StrCat("line has ", cells, " cells, the header has ",
                                    columns_.size(), " (extra value '", extra,
                                    "' after column '", columns_.back(), "')"));
  }

  absl::Status CheckNumber(NumberKind kind, int64_t line, absl::string_view column,
                           absl::string_view value) const {
    switch (kind) {
      case NumberKind::kOk:
        return absl::OkStatus();
      case NumberKind::kNotANumber:
        return Error(line, absl::StrCat("column '", column, "': value '", Shorten(value),
                                        "' is not a number"));
      case NumberKind::kNaN:
        return Error(line, absl::StrCat("column '", column, "': NaN is not allowed (value '",
                                        Shorten(value), "')"));
      case NumberKind::kInf:
        return Error(line, absl::StrCat("column '", column, "': Inf is not allowed (value '",
                                        Shorten(value), "')"));
      case NumberKind::kOutOfRange:
        return Error(line, absl::StrCat("column '", column, "': value '", Shorten(value),
                                        "' is out of range for float32"));
    }
    return absl::InternalError("unreachable");
  }

  absl::string_view text_;
  absl::string_view source_;
  const CsvOptions& options_;
  CsvTokenizer tokens_;
  std::vector<std::string> columns_;  // header names, label column included
  int label_index_ = -1;              // position of the label column, or -1
  Dataset dataset_;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

absl::StatusOr<Dataset> ParseCsv(absl::string_view text, absl::string_view source,
                                 const CsvOptions& options) {
  return CsvParser(text, source, options).Parse();
}

absl::StatusOr<Dataset> ReadCsvFile(const std::string& path, const CsvOptions& options) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  }
  std::string text;
  struct stat info;
  if (fstat(fileno(file.get()), &info) == 0) {
    if (S_ISDIR(info.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' is a directory, not a CSV file"));
    }
    // A regular file's size avoids regrowing the buffer; a pipe is read in
    // chunks all the same.
    if (S_ISREG(info.st_mode)) text.reserve(static_cast<size_t>(info.st_size));
  }
  char buffer[1 << 16];
  for (;;) {
    const size_t got = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, got);
    if (got < sizeof buffer) break;
  }
  if (std::ferror(file.get())) {
    return absl::DataLossError(absl::StrCat("error reading '", path, "': ", std::strerror(errno)));
  }
  return ParseCsv(text, path, options);
}

}  // namespace aad
