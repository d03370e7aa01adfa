#include "core/data/csv_row_parser.h"

#include <charconv>
#include <cstdint>
#include <cmath>
#include <limits>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {

// Error values are quoted back to the user; a runaway cell (a missing closing
// quote swallows the rest of the file) would make the message unreadable.
std::string Shorten(absl::string_view s) {
  constexpr size_t kMax = 40;
  if (s.size() <= kMax) return std::string(s);
  return absl::StrCat(s.substr(0, kMax), "...");
}

enum class NumberKind { kOk, kNotANumber, kNaN, kInf, kOutOfRange };

constexpr float kPowersOfTen[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                  1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The common cell, a short decimal such as "-0.1234567" or "12.5e3", read
// faster than std::from_chars reads it, and to the same float: its digits w
// and exponent e are exact floats when w <= 2^24 and |e| <= 10 (10^10 =
// 2^10 * 5^10, and 5^10 < 2^24), so one IEEE multiplication or division
// rounds the exact value once, correctly (Clinger's fast path). Reads from
// p on and returns where the number stops; null for anything else, which
// from_chars then reads: more digits, a larger exponent, "inf", "5.", ".5".
const char* ParseShortDecimal(const char* p, const char* end, float* out) {
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  uint64_t w = 0;
  int digits = 0;
  const char* const integer = p;
  for (; p < end && IsDigit(*p); ++p, ++digits) w = 10 * w + static_cast<uint64_t>(*p - '0');
  if (p == integer) return nullptr;
  int exponent = 0;
  if (p < end && *p == '.') {
    const char* const fraction = ++p;
    for (; p < end && IsDigit(*p); ++p, ++digits) w = 10 * w + static_cast<uint64_t>(*p - '0');
    if (p == fraction) return nullptr;
    exponent = -static_cast<int>(p - fraction);
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    const bool negative_exponent = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+')) ++p;
    const char* const exponent_digits = p;
    int e = 0;
    for (; p < end && IsDigit(*p) && p - exponent_digits < 3; ++p) e = 10 * e + (*p - '0');
    if (p == exponent_digits || (p < end && IsDigit(*p))) return nullptr;
    exponent += negative_exponent ? -e : e;
  }
  // digits first: more than 19 would have wrapped w.
  if (digits > 18 || w > (uint64_t{1} << 24) || exponent < -10 || exponent > 10) return nullptr;
  float value = static_cast<float>(w);
  value = exponent < 0 ? value / kPowersOfTen[-exponent] : value * kPowersOfTen[exponent];
  *out = negative ? -value : value;
  return p;
}

// Locale-independent: std::from_chars never consults the C locale, so a
// process running under, say, de_DE still reads "0.5" as one half. Not
// absl::SimpleAtof: it also reads hexadecimal ("0x10" is 16), which a
// data file means as text, and it cannot tell "inf" from a finite value too
// large for float32, which the errors name apart.
NumberKind ParseFloat(absl::string_view s, float* out) {
  // The tokenizer trims unquoted cells; a quoted one keeps its spaces.
  if (!s.empty() && (absl::ascii_isspace(static_cast<unsigned char>(s.front())) ||
                     absl::ascii_isspace(static_cast<unsigned char>(s.back())))) {
    s = absl::StripAsciiWhitespace(s);
  }
  // from_chars rejects a leading '+', which spreadsheets do write.
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  if (s.empty()) return NumberKind::kNotANumber;
  const char* begin = s.data();
  const char* end = begin + s.size();
  if (ParseShortDecimal(begin, end, out) == end) return NumberKind::kOk;
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
  if (!std::isfinite(value)) return std::isnan(value) ? NumberKind::kNaN : NumberKind::kInf;
  *out = value;
  return NumberKind::kOk;
}

}  // namespace

CsvRowParser::CsvRowParser(absl::string_view source, const CsvOptions& options)
    : source_(source), options_(options) {}

void CsvRowParser::SetText(absl::string_view text, int64_t first_line, bool at_input_end) {
  tokens_.Reset(text, first_line);
  at_input_end_ = at_input_end;
  consumed_ = 0;
  next_line_ = first_line;
}

absl::Status CsvRowParser::Error(int64_t line, absl::string_view what) const {
  return absl::InvalidArgumentError(absl::StrCat(source_, ":", line, ": ", what));
}

absl::Status CsvRowParser::QuoteError(CsvTokenizer::Cell cell, int64_t line,
                                      absl::string_view column, absl::string_view value) const {
  if (cell == CsvTokenizer::Cell::kUnterminatedQuote) {
    return Error(line, absl::StrCat("column '", column, "': value '", Shorten(value),
                                    "' has no closing quote"));
  }
  return Error(line, absl::StrCat("column '", column, "': value '", Shorten(value),
                                  "' has text after its closing quote"));
}

bool CsvRowParser::RecordContinues(CsvTokenizer::Cell cell) {
  if (cell != CsvTokenizer::Cell::kUnterminatedQuote || at_input_end_) return false;
  consumed_ = tokens_.record_pos();
  next_line_ = tokens_.record_line();
  return true;
}

absl::StatusOr<bool> CsvRowParser::ParseHeader() {
  if (next_line_ == 1) tokens_.SkipByteOrderMark();
  if (!tokens_.NextRecord()) {
    consumed_ = tokens_.pos();  // blank lines only, so far
    next_line_ = tokens_.line();
    if (!at_input_end_) return false;
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":1: file is empty (no header row)"));
  }
  const int64_t line = tokens_.record_line();
  columns_.clear();
  absl::string_view value;
  for (;;) {
    const CsvTokenizer::Cell cell = tokens_.NextCell(&value);
    if (cell == CsvTokenizer::Cell::kEndOfRecord) break;
    if (cell != CsvTokenizer::Cell::kValue) {
      if (RecordContinues(cell)) return false;
      return QuoteError(cell, line, absl::StrCat("#", columns_.size() + 1), value);
    }
    columns_.emplace_back(value);
  }
  RETURN_IF_ERROR(CheckHeader(line));
  consumed_ = tokens_.pos();
  next_line_ = tokens_.line();
  return true;
}

absl::Status CsvRowParser::CheckHeader(int64_t line) {
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
                                    "' in header (columns: ", absl::StrJoin(columns_, ", "), ")"));
  }
  const size_t dims = columns_.size() - (label_index_ >= 0 ? 1 : 0);
  if (dims == 0) {
    return Error(line, absl::StrCat("header has no feature columns (columns: ",
                                    absl::StrJoin(columns_, ", "), "; label column '",
                                    options_.label_column, "')"));
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (static_cast<int>(i) != label_index_) feature_names_.push_back(columns_[i]);
  }
  return absl::OkStatus();
}

absl::Status CsvRowParser::ParseRows(int64_t max_rows, float* values, uint8_t* labels,
                                     int64_t* rows) {
  const int64_t dims = this->dims();
  const int64_t ncols = static_cast<int64_t>(columns_.size());
  absl::string_view value;
  while (*rows < max_rows && tokens_.NextRecord()) {
    const int64_t line = tokens_.record_line();
    float* out = values + *rows * dims;
    int64_t col = 0;
    for (;; ++col) {
      if (col < ncols && col != label_index_ &&
          tokens_.NextPlainCell([out](const char* begin, const char* end) {
            return ParseShortDecimal(begin, end, out);
          })) {
        ++out;
        continue;
      }
      const CsvTokenizer::Cell cell = tokens_.NextCell(&value);
      if (cell == CsvTokenizer::Cell::kEndOfRecord) break;
      const absl::string_view column =
          col < ncols ? absl::string_view(columns_[col]) : absl::string_view("(extra)");
      if (cell != CsvTokenizer::Cell::kValue) {
        if (RecordContinues(cell)) return absl::OkStatus();
        return QuoteError(cell, line, column, value);
      }
      if (col >= ncols) return TooManyCells(line, value);
      if (col == label_index_) {
        labels[*rows] = (value == options_.anomaly_value) ? 1 : 0;
        continue;
      }
      switch (ParseFloat(value, out)) {
        case NumberKind::kOk:
          break;
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
      ++out;
    }
    if (col < ncols) {
      return Error(line, absl::StrCat("line has ", col, " cells, the header has ", ncols,
                                      " (no value for column '", columns_[col], "')"));
    }
    ++*rows;
    consumed_ = tokens_.pos();
    next_line_ = tokens_.line();
  }
  // Blank lines after the last record read are used up too.
  if (*rows < max_rows) {
    consumed_ = tokens_.pos();
    next_line_ = tokens_.line();
  }
  return absl::OkStatus();
}

// Reads the rest of an over-long record, so the message can say how many
// cells it had.
absl::Status CsvRowParser::TooManyCells(int64_t line, absl::string_view first_extra) {
  const std::string extra = Shorten(first_extra);
  int64_t cells = static_cast<int64_t>(columns_.size()) + 1;
  absl::string_view value;
  while (tokens_.NextCell(&value) == CsvTokenizer::Cell::kValue) ++cells;
  return Error(line, absl::StrCat("line has ", cells, " cells, the header has ",
                                  columns_.size(), " (extra value '", extra, "' after column '",
                                  columns_.back(), "')"));
}

}  // namespace aad
