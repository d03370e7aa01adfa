#include "core/data/csv_chunk_reader.h"

#include <cstdint>
#include <fstream>
#include <memory>
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

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

// Every chunk of a file read `chunk_rows` at a time, joined, and how many
// rows each chunk had.
struct Chunks {
  std::vector<std::string> feature_names;
  std::vector<float> values;
  std::vector<uint8_t> labels;
  std::vector<int64_t> sizes;
  absl::Status status;  // the first error, or OK at the end of the file
};

Chunks ReadChunks(const std::string& path, int64_t chunk_rows, const CsvOptions& options = {}) {
  Chunks out;
  auto reader = CsvChunkReader::Open(path, options);
  if (!reader.ok()) {
    out.status = reader.status();
    return out;
  }
  out.feature_names = (*reader)->feature_names();
  CsvChunk chunk;
  for (;;) {
    out.status = (*reader)->Next(chunk_rows, &chunk);
    out.values.insert(out.values.end(), chunk.values.begin(),
                      chunk.values.begin() + chunk.rows * (*reader)->dims());
    out.labels.insert(out.labels.end(), chunk.labels.begin(), chunk.labels.end());
    if (!out.status.ok() || chunk.rows == 0) return out;
    out.sizes.push_back(chunk.rows);
  }
}

// The rows ParseCsv makes of the same text: what every chunking must give.
void ExpectSameAsParseCsv(const std::string& text, const Chunks& chunks,
                          const CsvOptions& options = {}) {
  absl::StatusOr<Dataset> whole = ParseCsv(text, "unused", options);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(chunks.feature_names, whole->feature_names);
  ASSERT_EQ(chunks.values.size(), static_cast<size_t>(whole->features.size()));
  for (size_t i = 0; i < chunks.values.size(); ++i) {
    ASSERT_EQ(chunks.values[i], whole->features.data()[i]) << "value " << i;
  }
  EXPECT_EQ(chunks.labels, whole->labels);
}

// A text of `rows` rows of two features and a label, over several of the
// reader's 1 MiB reads when rows is large. Every `quote_every`-th label is
// a quoted cell over two lines (so some of them straddle a read), and the
// line ends are CRLF.
std::string LargeText(int rows, int quote_every) {
  std::string text = "x,\"y\",label\r\n";
  for (int i = 0; i < rows; ++i) {
    const std::string label = i % quote_every == 0 ? "\"multi\nline \"\"label\"\"\""
                              : i % 3 == 0           ? "anomaly"
                                                     : "nominal";
    absl::StrAppend(&text, "+", i, ".25, ", -i, "e-2 ,", label, "\r\n");
    if (i % 1000 == 0) text += "\r\n  \n";  // blank lines are skipped
  }
  return text;
}

TEST(CsvChunkReaderTest, ChunksSplitTheRowsAndTheLastIsRagged) {
  std::string text = "a,b\n";
  for (int i = 0; i < 10; ++i) absl::StrAppend(&text, i, ",", 10 * i, "\n");
  const std::string path = WriteTempFile("ragged.csv", text);
  const Chunks chunks = ReadChunks(path, 4);
  ASSERT_TRUE(chunks.status.ok()) << chunks.status;
  EXPECT_THAT(chunks.sizes, ElementsAre(4, 4, 2));
  EXPECT_THAT(chunks.feature_names, ElementsAre("a", "b"));
  EXPECT_EQ(chunks.values[2 * 9], 9.0f);
  EXPECT_EQ(chunks.values[2 * 9 + 1], 90.0f);
  ExpectSameAsParseCsv(text, chunks);
  // A file of a whole number of chunks ends with an empty one.
  EXPECT_THAT(ReadChunks(path, 5).sizes, ElementsAre(5, 5));
  EXPECT_EQ(ReadChunks(path, 1).sizes.size(), 10u);
}

TEST(CsvChunkReaderTest, AfterTheLastChunkEveryCallHasNoRows) {
  const std::string path = WriteTempFile("end.csv", "a\n1\n2\n");
  auto reader = CsvChunkReader::Open(path, {});
  ASSERT_TRUE(reader.ok()) << reader.status();
  CsvChunk chunk;
  ASSERT_TRUE((*reader)->Next(10, &chunk).ok());
  EXPECT_EQ(chunk.rows, 2);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE((*reader)->Next(10, &chunk).ok());
    EXPECT_EQ(chunk.rows, 0);
  }
}

TEST(CsvChunkReaderTest, LastLineWithoutNewline) {
  // Over a read boundary, so the last record is held back until the file ends.
  std::string text = "a,b\n";
  for (int i = 0; i < 100000; ++i) absl::StrAppend(&text, i, ",", i, ".5\n");
  text += "7,8.25";
  const Chunks chunks = ReadChunks(WriteTempFile("no_newline.csv", text), 4096);
  ASSERT_TRUE(chunks.status.ok()) << chunks.status;
  ASSERT_EQ(chunks.values.size(), 2u * 100001);
  EXPECT_EQ(chunks.values.back(), 8.25f);
}

TEST(CsvChunkReaderTest, RowsOverManyReadsMatchParseCsv) {
  // ~3.5 MB: records, blank lines and two-line quoted cells cross the
  // reader's 1 MiB reads at many places.
  const std::string text = LargeText(120000, 7);
  ASSERT_GT(text.size(), 3u << 20);
  const std::string path = WriteTempFile("large.csv", text);
  for (int64_t chunk_rows : {1000, 4096, 100000}) {
    SCOPED_TRACE(chunk_rows);
    const Chunks chunks = ReadChunks(path, chunk_rows);
    ASSERT_TRUE(chunks.status.ok()) << chunks.status;
    ASSERT_FALSE(chunks.sizes.empty());
    for (size_t i = 0; i + 1 < chunks.sizes.size(); ++i) EXPECT_EQ(chunks.sizes[i], chunk_rows);
    ExpectSameAsParseCsv(text, chunks);
    EXPECT_EQ(chunks.labels.size(), 120000u);
  }
}

TEST(CsvChunkReaderTest, ErrorInALaterChunkNamesItsLineAndKeepsTheRowsBeforeIt) {
  // Row i is on line i + 2; the bad value is row 250000's (line 250002),
  // beyond the first reads of the file and in a later chunk.
  std::string text = "a,b\n";
  for (int i = 0; i < 300000; ++i) {
    absl::StrAppend(&text, i, ",", i == 250000 ? "1.5.2" : absl::StrCat(i, ".5"), "\n");
  }
  const std::string path = WriteTempFile("late_error.csv", text);
  const Chunks chunks = ReadChunks(path, 4096);
  EXPECT_EQ(chunks.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(chunks.status.message(),
            absl::StrCat(path, ":250002: column 'b': value '1.5.2' is not a number"));
  // The same message as ReadCsvFile's (one parser).
  EXPECT_EQ(ReadCsvFile(path, {}).status(), chunks.status);
  // 61 whole chunks, then the rows of the 62nd before the bad one.
  EXPECT_EQ(chunks.sizes.size(), 61u);
  EXPECT_EQ(chunks.values.size(), 2u * 250000);
  EXPECT_EQ(chunks.values.back(), 249999.5f);

  // The reader stays at the error.
  auto reader = CsvChunkReader::Open(path, {});
  ASSERT_TRUE(reader.ok());
  CsvChunk chunk;
  absl::Status status;
  while ((status = (*reader)->Next(100000, &chunk)).ok()) ASSERT_GT(chunk.rows, 0);
  EXPECT_EQ(chunk.rows, 50000);  // rows 200000..249999
  EXPECT_EQ((*reader)->Next(100000, &chunk), status);
  EXPECT_EQ(chunk.rows, 0);
}

TEST(CsvChunkReaderTest, RaggedRowInALaterChunk) {
  std::string text = "a,b,c\r\n";
  for (int i = 0; i < 100; ++i) absl::StrAppend(&text, i, ",1,2\r\n");
  text += "7,8\r\n";
  const Chunks chunks = ReadChunks(WriteTempFile("short_row.csv", text), 16);
  EXPECT_THAT(chunks.status.message(),
              AllOf(HasSubstr(":102: line has 2 cells, the header has 3"),
                    HasSubstr("no value for column 'c'")));
  EXPECT_EQ(chunks.values.size(), 3u * 100);
}

TEST(CsvChunkReaderTest, WindowsLineEndsAndSpacesAreRead) {
  const std::string text = "\xEF\xBB\xBF" "a , b\r\n 1.5 ,\t-2\r\n\r\n+3,\"4\"\r\n";
  const Chunks chunks = ReadChunks(WriteTempFile("crlf.csv", text), 1);
  ASSERT_TRUE(chunks.status.ok()) << chunks.status;
  EXPECT_THAT(chunks.feature_names, ElementsAre("a", "b"));
  EXPECT_THAT(chunks.values, ElementsAre(1.5f, -2.0f, 3.0f, 4.0f));
  EXPECT_THAT(chunks.sizes, ElementsAre(1, 1));
}

TEST(CsvChunkReaderTest, QuotedCellLongerThanARead) {
  // A 3 MB label cell: the reader's buffer grows to hold the record.
  std::string text = "v,label\n1,nominal\n2,\"";
  text.append(3 << 20, 'z');
  text += "\"\n3,anomaly\n";
  const Chunks chunks = ReadChunks(WriteTempFile("long_cell.csv", text), 2);
  ASSERT_TRUE(chunks.status.ok()) << chunks.status;
  EXPECT_THAT(chunks.values, ElementsAre(1.0f, 2.0f, 3.0f));
  EXPECT_THAT(chunks.labels, ElementsAre(0, 0, 1));
}

TEST(CsvChunkReaderTest, QuoteOpenAtTheEndOfTheFileIsAnError) {
  std::string text = "v,label\n";
  for (int i = 0; i < 50000; ++i) absl::StrAppend(&text, i, ",nominal\n");
  text += "5,\"anomaly\n6,nominal\n";  // the quote is never closed
  const Chunks chunks = ReadChunks(WriteTempFile("open_quote.csv", text), 4096);
  EXPECT_THAT(chunks.status.message(),
              AllOf(HasSubstr(":50002: column 'label'"), HasSubstr("has no closing quote")));
  EXPECT_EQ(chunks.values.size(), 50000u);
}

TEST(CsvChunkReaderTest, EmptyFileAndHeaderOnly) {
  auto empty = CsvChunkReader::Open(WriteTempFile("empty.csv", ""), {});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr(":1: file is empty (no header row)"));
  auto blank = CsvChunkReader::Open(WriteTempFile("blank.csv", "\n \r\n\t\n"), {});
  EXPECT_THAT(blank.status().message(), HasSubstr("file is empty"));

  auto header_only = CsvChunkReader::Open(WriteTempFile("header.csv", "\n\na,b,label\r\n\n"), {});
  ASSERT_TRUE(header_only.ok()) << header_only.status();
  EXPECT_THAT((*header_only)->feature_names(), ElementsAre("a", "b"));
  EXPECT_TRUE((*header_only)->has_labels());
  CsvChunk chunk;
  ASSERT_TRUE((*header_only)->Next(8, &chunk).ok());
  EXPECT_EQ(chunk.rows, 0);
}

TEST(CsvChunkReaderTest, HeaderErrorsAndMissingFiles) {
  CsvOptions options;
  options.require_labels = true;
  EXPECT_THAT(CsvChunkReader::Open(WriteTempFile("nolabel.csv", "a,b\n1,2\n"), options)
                  .status()
                  .message(),
              HasSubstr(":1: no label column 'label' in header (columns: a, b)"));
  EXPECT_EQ(CsvChunkReader::Open(::testing::TempDir() + "/no-such.csv", {}).status().code(),
            absl::StatusCode::kNotFound);
  auto dir = CsvChunkReader::Open(::testing::TempDir(), {});
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dir.status().message(), HasSubstr("is a directory"));
}

}  // namespace
}  // namespace aad
