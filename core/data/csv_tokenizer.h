// Splits CSV text into records and cells: the lowest part of the CSV reader
// (core/data/csv_row_parser.h turns cells into rows). Internal to core/data.
#ifndef AADD_CORE_DATA_CSV_TOKENIZER_H_
#define AADD_CORE_DATA_CSV_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/base/attributes.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace aad {

// One forward pass over a text of whole records, without allocating per
// cell: an unquoted cell, or a quoted one without doubled quotes, is a view
// into the text. Line numbers are 1-based and count physical lines, so they
// match what an editor shows even when a quoted cell spans lines. The text
// may be one window of a longer input (CsvChunkReader): Reset moves to the
// next window, carrying the line number on.
class CsvTokenizer {
 public:
  enum class Cell { kValue, kEndOfRecord, kUnterminatedQuote, kJunkAfterQuote };

  // Reads `text`, whose first byte is on line `first_line`.
  void Reset(absl::string_view text, int64_t first_line) {
    text_ = text;
    pos_ = 0;
    line_ = first_line;
    record_line_ = first_line;
    record_pos_ = 0;
    in_record_ = false;
  }

  // Spreadsheet tools on Windows prepend a UTF-8 byte order mark; without
  // this the first column's name would silently carry it. Call at the start
  // of the input only.
  void SkipByteOrderMark() {
    const absl::string_view kBom("\xEF\xBB\xBF", 3);
    if (pos_ == 0 && text_.substr(0, kBom.size()) == kBom) pos_ = kBom.size();
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
      record_pos_ = pos_;
      in_record_ = true;
      return true;
    }
    return false;
  }

  // The line on which the current record starts, and its offset in the text.
  int64_t record_line() const { return record_line_; }
  size_t record_pos() const { return record_pos_; }
  // Where the tokenizer stands: after the last record or cell read.
  size_t pos() const { return pos_; }
  int64_t line() const { return line_; }

  // The common cell in one pass: when the next cell is unquoted and
  // `parse(begin, text_end)` reads it up to the delimiter or the line end
  // (it returns where it stopped; null when it cannot read it), moves past
  // the cell and returns true. Otherwise moves nothing: NextCell reads it.
  template <typename Parse>
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool NextPlainCell(Parse parse) {
    if (!in_record_) return false;
    const char* const data = text_.data();
    const size_t n = text_.size();
    const char* const stop = parse(data + pos_, data + n);
    if (stop == nullptr || stop == data + pos_) return false;
    const size_t p = static_cast<size_t>(stop - data);
    if (p == n) {
      in_record_ = false;
      pos_ = n;
    } else if (data[p] == ',') {
      pos_ = p + 1;
    } else if (data[p] == '\n' || (data[p] == '\r' && p + 1 < n && data[p + 1] == '\n')) {
      in_record_ = false;
      pos_ = p + (data[p] == '\n' ? 1 : 2);
      ++line_;
    } else {
      return false;
    }
    return true;
  }

  // Reads the next cell of the current record, trimmed and unquoted, into
  // *value; the view stays valid until the next call. kEndOfRecord when the
  // record has no more cells. On a quoting error *value holds the start of
  // the malformed cell.
  ABSL_ATTRIBUTE_ALWAYS_INLINE Cell NextCell(absl::string_view* value) {
    if (!in_record_) return Cell::kEndOfRecord;
    const size_t n = text_.size();
    const char* const data = text_.data();
    size_t p = pos_;
    while (p < n && (data[p] == ' ' || data[p] == '\t')) ++p;
    if (p < n && data[p] == '"') {
      const Cell quoted = QuotedCell(p, value);
      if (quoted != Cell::kValue) return quoted;
      p = pos_;
    } else {
      // The common case, a number: one pass to the delimiter, then the
      // trailing blanks dropped from its end (the leading ones are skipped).
      const size_t start = p;
      while (p < n && data[p] != ',' && data[p] != '\n') ++p;
      size_t end = p;
      while (end > start && absl::ascii_isspace(static_cast<unsigned char>(data[end - 1]))) {
        --end;
      }
      size_t begin = start;
      while (begin < end && absl::ascii_isspace(static_cast<unsigned char>(data[begin]))) ++begin;
      *value = absl::string_view(data + begin, end - begin);
    }
    // p is at a delimiter, a line end or the end of the text.
    if (p == n) {
      in_record_ = false;
      pos_ = n;
    } else if (data[p] == ',') {
      pos_ = p + 1;
    } else {
      in_record_ = false;
      pos_ = p + 1;
      ++line_;
    }
    return Cell::kValue;
  }

 private:
  static bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

  // The quoted cell whose opening quote is at p; on kValue, pos_ is left at
  // the delimiter or line end after it.
  Cell QuotedCell(size_t p, absl::string_view* value) {
    const size_t n = text_.size();
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
    pos_ = p;
    return Cell::kValue;
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  int64_t record_line_ = 1;
  size_t record_pos_ = 0;
  bool in_record_ = false;
  std::string unescaped_;
};

}  // namespace aad

#endif  // AADD_CORE_DATA_CSV_TOKENIZER_H_
