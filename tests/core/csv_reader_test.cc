#include "core/data/csv_reader.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Parses `text` as "t.csv" and expects INVALID_ARGUMENT; returns the message
// so a test can check every part it must name.
std::string ParseError(absl::string_view text, const CsvOptions& options = {}) {
  absl::StatusOr<Dataset> result = ParseCsv(text, "t.csv", options);
  EXPECT_FALSE(result.ok()) << "parsed without error: " << text;
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  return std::string(result.status().message());
}

Dataset ParseOk(absl::string_view text, const CsvOptions& options = {}) {
  absl::StatusOr<Dataset> result = ParseCsv(text, "t.csv", options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : Dataset{};
}

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

// ---- Errors ----

TEST(CsvReaderTest, EmptyInputIsAnError) {
  EXPECT_THAT(ParseError(""), AllOf(HasSubstr("t.csv:1:"), HasSubstr("file is empty")));
  // Only blank lines is empty too.
  EXPECT_THAT(ParseError("\n  \r\n\t\n"), HasSubstr("file is empty"));
}

TEST(CsvReaderTest, HeaderWithoutFeatureColumnsIsAnError) {
  EXPECT_THAT(ParseError("label\nanomaly\n"),
              AllOf(HasSubstr("t.csv:1:"), HasSubstr("no feature columns"),
                    HasSubstr("columns: label"), HasSubstr("'label'")));
}

TEST(CsvReaderTest, MissingLabelColumnIsAnErrorWhenRequired) {
  CsvOptions options;
  options.require_labels = true;
  EXPECT_EQ(ParseError("a,b,c\n1,2,3\n", options),
            "t.csv:1: no label column 'label' in header (columns: a, b, c)");
  options.label_column = "ground.truth";
  EXPECT_THAT(ParseError("\n\nlabel,v1\nnominal,1\n", options),
              AllOf(HasSubstr("t.csv:3:"), HasSubstr("'ground.truth'"),
                    HasSubstr("columns: label, v1")));
}

TEST(CsvReaderTest, DuplicateLabelColumnIsAnError) {
  EXPECT_THAT(ParseError("label,a,label\nanomaly,1,nominal\n"),
              AllOf(HasSubstr("t.csv:1:"), HasSubstr("'label'"), HasSubstr("more than once")));
}

TEST(CsvReaderTest, RowWithTooFewCellsIsAnError) {
  EXPECT_EQ(ParseError("label,a,b,c\nnominal,1,2,3\nanomaly,1,2\n"),
            "t.csv:3: line has 3 cells, the header has 4 (no value for column 'c')");
}

TEST(CsvReaderTest, RowWithTooManyCellsIsAnError) {
  EXPECT_EQ(ParseError("label,a,b\nnominal,1,2\nnominal,1,2,9.5,7\n"),
            "t.csv:3: line has 5 cells, the header has 3 (extra value '9.5' after column 'b')");
}

TEST(CsvReaderTest, NonNumericCellIsAnError) {
  EXPECT_EQ(ParseError("label,mcg,gvh\nnominal,0.5,0.25\nanomaly,0.5,abc\n"),
            "t.csv:3: column 'gvh': value 'abc' is not a number");
  // Trailing garbage, thousands separators in quotes, hex and empty cells
  // are not numbers either.
  EXPECT_THAT(ParseError("a\n1.5x\n"), HasSubstr("column 'a': value '1.5x' is not a number"));
  EXPECT_THAT(ParseError("a\n\"1,5\"\n"), HasSubstr("value '1,5' is not a number"));
  EXPECT_THAT(ParseError("a\n0x10\n"), HasSubstr("value '0x10' is not a number"));
  EXPECT_EQ(ParseError("a,b\n1,\n"), "t.csv:2: column 'b': value '' is not a number");
  EXPECT_THAT(ParseError("a\n--1\n"), HasSubstr("value '--1' is not a number"));
}

TEST(CsvReaderTest, NanIsAnError) {
  EXPECT_EQ(ParseError("x,y\n1,2\n3,nan\n"),
            "t.csv:3: column 'y': NaN is not allowed (value 'nan')");
  EXPECT_THAT(ParseError("x,y\nNaN,2\n"),
              AllOf(HasSubstr("t.csv:2:"), HasSubstr("column 'x'"), HasSubstr("'NaN'")));
}

TEST(CsvReaderTest, InfIsAnError) {
  EXPECT_EQ(ParseError("x,y\n1,inf\n"), "t.csv:2: column 'y': Inf is not allowed (value 'inf')");
  EXPECT_THAT(ParseError("x,y\n-Infinity,2\n"),
              AllOf(HasSubstr("t.csv:2:"), HasSubstr("column 'x'"), HasSubstr("'-Infinity'"),
                    HasSubstr("Inf is not allowed")));
}

TEST(CsvReaderTest, ValueBeyondFloatRangeIsAnError) {
  EXPECT_EQ(ParseError("x\n1e39\n"), "t.csv:2: column 'x': value '1e39' is out of range for float32");
}

TEST(CsvReaderTest, LineNumbersCountBlankLines) {
  EXPECT_THAT(ParseError("a,b\n\n1,2\n   \nx,3\n"), HasSubstr("t.csv:5: column 'a': value 'x'"));
  EXPECT_THAT(ParseError("a,b\r\n1,2\r\n\r\n1,?\r\n"), HasSubstr("t.csv:4: column 'b'"));
}

TEST(CsvReaderTest, UnterminatedQuoteIsAnError) {
  EXPECT_EQ(ParseError("a,b\n1,\"2\n"), "t.csv:2: column 'b': value '\"2\n' has no closing quote");
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsAnError) {
  EXPECT_EQ(ParseError("a,b\n1,\"2\"3\n"),
            "t.csv:2: column 'b': value '\"2\"3' has text after its closing quote");
}

TEST(CsvReaderTest, LongValuesAreShortenedInErrors) {
  const std::string junk(500, 'z');
  const std::string message = ParseError("a\n" + junk + "\n");
  EXPECT_THAT(message, HasSubstr("column 'a': value 'zzzz"));
  EXPECT_LT(message.size(), 120u);
}

TEST(CsvReaderTest, NonexistentFileIsNotFound) {
  const std::string path = ::testing::TempDir() + "/no/such/dir/data.csv";
  absl::StatusOr<Dataset> result = ReadCsvFile(path, CsvOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr(path));
}

TEST(CsvReaderTest, DirectoryIsInvalidArgument) {
  absl::StatusOr<Dataset> result = ReadCsvFile(::testing::TempDir(), CsvOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("directory"));
}

TEST(CsvReaderTest, FileErrorsNameThePath) {
  const std::string path = WriteTempFile("csv_reader_test_bad.csv", "a,b\n1,2\n3,oops\n");
  absl::StatusOr<Dataset> result = ReadCsvFile(path, CsvOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(),
            path + ":3: column 'b': value 'oops' is not a number");
  std::remove(path.c_str());
}

// ---- Happy paths ----

TEST(CsvReaderTest, LabelColumnInAnyPosition) {
  for (const char* text : {"label,a,b\nanomaly,1,2\nnominal,3,4\n",
                           "a,label,b\n1,anomaly,2\n3,nominal,4\n",
                           "a,b,label\n1,2,anomaly\n3,4,nominal\n"}) {
    SCOPED_TRACE(text);
    const Dataset d = ParseOk(text);
    EXPECT_THAT(d.feature_names, ElementsAre("a", "b"));
    ASSERT_EQ(d.rows(), 2);
    ASSERT_EQ(d.dims(), 2);
    EXPECT_EQ(d.features(0, 0), 1.0f);
    EXPECT_EQ(d.features(0, 1), 2.0f);
    EXPECT_EQ(d.features(1, 0), 3.0f);
    EXPECT_EQ(d.features(1, 1), 4.0f);
    EXPECT_THAT(d.labels, ElementsAre(1, 0));
  }
}

TEST(CsvReaderTest, CustomLabelColumnAndAnomalyValue) {
  CsvOptions options;
  options.label_column = "ground.truth";
  options.anomaly_value = "1";
  options.require_labels = true;
  const Dataset d = ParseOk("v1,ground.truth\n0.5,1\n0.25,0\n0.125,anomaly\n", options);
  EXPECT_THAT(d.feature_names, ElementsAre("v1"));
  // Only the configured value means anomaly; the default one does not.
  EXPECT_THAT(d.labels, ElementsAre(1, 0, 0));
  EXPECT_EQ(d.anomaly_count(), 1);
}

TEST(CsvReaderTest, WindowsLineEndings) {
  const Dataset d = ParseOk("a,b,label\r\n1.5,2,anomaly\r\n3,4,nominal\r\n");
  EXPECT_THAT(d.feature_names, ElementsAre("a", "b"));
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(d.features(0, 0), 1.5f);
  EXPECT_THAT(d.labels, ElementsAre(1, 0));
}

TEST(CsvReaderTest, BlankLinesAreSkipped) {
  const Dataset d = ParseOk("\n\na,b\n\n1,2\n  \t \n\r\n3,4\n\n\n");
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(d.features(1, 1), 4.0f);
  EXPECT_FALSE(d.has_labels());
}

TEST(CsvReaderTest, LastLineWithoutNewline) {
  const Dataset d = ParseOk("a,b\n1,2\n3,4");
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(d.features(1, 1), 4.0f);
}

TEST(CsvReaderTest, QuotedCellsAndSurroundingSpaces) {
  const Dataset d = ParseOk(
      "\"a\", \"b \"\"x\"\"\" ,\"label\"\n"
      " \"1.5\" , 2 ,\"anomaly\"\n"
      "\" -3 \",+4e1,  nominal  \n");
  EXPECT_THAT(d.feature_names, ElementsAre("a", "b \"x\""));
  ASSERT_EQ(d.rows(), 2);
  EXPECT_EQ(d.features(0, 0), 1.5f);
  EXPECT_EQ(d.features(0, 1), 2.0f);
  EXPECT_EQ(d.features(1, 0), -3.0f);
  EXPECT_EQ(d.features(1, 1), 40.0f);
  EXPECT_THAT(d.labels, ElementsAre(1, 0));
}

TEST(CsvReaderTest, QuotedCellMaySpanLines) {
  // The record starts on line 2; the error after it must still count the
  // newline inside the quotes.
  EXPECT_THAT(ParseError("a,label\n1,\"multi\nline\"\nbad,nominal\n"),
              HasSubstr("t.csv:4: column 'a'"));
}

TEST(CsvReaderTest, NoLabelColumnWhenNotRequired) {
  const Dataset d = ParseOk("x,y,z\n1,2,3\n4,5,6\n");
  EXPECT_THAT(d.feature_names, ElementsAre("x", "y", "z"));
  EXPECT_EQ(d.rows(), 2);
  EXPECT_EQ(d.dims(), 3);
  EXPECT_THAT(d.labels, IsEmpty());
  EXPECT_FALSE(d.has_labels());
}

TEST(CsvReaderTest, HeaderOnlyGivesZeroRows) {
  const Dataset d = ParseOk("label,a,b\n");
  EXPECT_EQ(d.rows(), 0);
  EXPECT_EQ(d.dims(), 2);
  EXPECT_TRUE(d.labels.empty());
}

TEST(CsvReaderTest, ByteOrderMarkIsIgnored) {
  const Dataset d = ParseOk("\xEF\xBB\xBFlabel,a\nanomaly,1\n");
  EXPECT_THAT(d.feature_names, ElementsAre("a"));
  EXPECT_THAT(d.labels, ElementsAre(1));
}

TEST(CsvReaderTest, NumbersParseExactly) {
  const Dataset d = ParseOk("a,b,c,d,e\n0.1,-2.5e-3,1e-50,.5,3.\n");
  EXPECT_EQ(d.features(0, 0), 0.1f);
  EXPECT_EQ(d.features(0, 1), -2.5e-3f);
  // Below float32's range a value rounds to zero rather than failing.
  EXPECT_EQ(d.features(0, 2), 0.0f);
  EXPECT_EQ(d.features(0, 3), 0.5f);
  EXPECT_EQ(d.features(0, 4), 3.0f);
}

// The short decimals that the parser reads itself (most of what a data file
// holds) must give the float std::from_chars gives, bit for bit, and so must
// the forms next to them that it leaves to from_chars.
TEST(CsvReaderTest, NumbersReadAsFromCharsReadsThem) {
  std::mt19937 gen(7);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> scale(-14, 14);
  const char* formats[] = {"%.7g", "%.9g", "%.3f", "%.6e", "%.8e", "%.1f", "%.0f", "%.10f"};
  // Each value twice: before a comma and before a CRLF line end.
  std::string text = "v,w\r\n";
  std::vector<std::string> cells;
  for (int i = 0; i < 40000; ++i) {
    const float x = normal(gen) * std::pow(10.0f, static_cast<float>(scale(gen)));
    char cell[64];
    std::snprintf(cell, sizeof cell, formats[i % 8], x);
    cells.emplace_back(cell);
  }
  // Digits and exponents at the fast path's edges: 2^24 = 16777216, 10^10.
  for (const char* edge : {"16777216", "16777217", "16777215", "-16777217e-3", "1677721.7",
                           "0.0000000001", "0.00000000001", "9999999999", "1e10", "1e11",
                           "3e-10", "3e-11", "123456789012345678901234", "-0", "-0.0",
                           "0.1", "1E5", "1e+05", "1e-005", "00012.50"}) {
    cells.emplace_back(edge);
  }
  for (const std::string& cell : cells) absl::StrAppend(&text, cell, ",", cell, "\r\n");
  const Dataset d = ParseOk(text);
  ASSERT_EQ(d.rows(), static_cast<int64_t>(cells.size()));
  int64_t differ = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    float expected = 0.0f;
    std::from_chars(cells[i].data(), cells[i].data() + cells[i].size(), expected);
    for (int column = 0; column < 2; ++column) {
      const float got = d.features(static_cast<int64_t>(i), column);
      if (std::memcmp(&got, &expected, sizeof got) != 0) {
        ADD_FAILURE() << cells[i] << " read as " << got << ", from_chars: " << expected;
        ++differ;
      }
    }
    if (differ > 10) break;
  }
}

TEST(CsvReaderTest, ReadsFileFromDisk) {
  const std::string path = WriteTempFile("csv_reader_test_ok.csv", "label,a\nanomaly,1\nnominal,2\n");
  absl::StatusOr<Dataset> d = ReadCsvFile(path, CsvOptions{});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->rows(), 2);
  EXPECT_EQ(d->anomaly_count(), 1);
  std::remove(path.c_str());
}

// ---- The real benchmark files ----

TEST(CsvReaderTest, ReadsYeast) {
  CsvOptions options;
  options.require_labels = true;
  absl::StatusOr<Dataset> d =
      ReadCsvFile(std::string(AADD_SHARED_DATA_DIR) + "/adx/yeast_1.csv", options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->rows(), 1191);
  EXPECT_EQ(d->dims(), 8);
  EXPECT_EQ(d->anomaly_count(), 55);
  EXPECT_EQ(d->feature_names.front(), "V2");
  // First data row: nominal,0.59,0.7,0.46,0.19,0.5,0,0.54,0.44
  EXPECT_EQ(d->labels[0], 0);
  EXPECT_EQ(d->features(0, 0), 0.59f);
  EXPECT_EQ(d->features(0, 7), 0.44f);
}

TEST(CsvReaderTest, ReadsMammographyWithItsLabelColumn) {
  CsvOptions options;
  options.label_column = "ground.truth";
  options.require_labels = true;
  const std::string path = std::string(AADD_SHARED_DATA_DIR) + "/adx/mammography_1.csv";
  absl::StatusOr<Dataset> d = ReadCsvFile(path, options);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->rows(), 11183);
  EXPECT_EQ(d->dims(), 6);
  EXPECT_EQ(d->anomaly_count(), 260);

  // With the default label column the file is unlabelled, and an error when
  // labels are required.
  CsvOptions defaults;
  defaults.require_labels = true;
  absl::StatusOr<Dataset> wrong = ReadCsvFile(path, defaults);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(),
              AllOf(HasSubstr(path + ":1:"), HasSubstr("no label column 'label'"),
                    HasSubstr("ground.truth, v1")));
}

}  // namespace
}  // namespace aad
