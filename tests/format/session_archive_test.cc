#include "format/session_archive.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "gtest/gtest.h"
#include "format/crc32.h"
#include "tests/format/record_test_util.h"

namespace aad {
namespace {

using ::aad::testing::ExpectBatchesEqual;
using ::aad::testing::ExpectOptionsEqual;
using ::aad::testing::MakeBatch;
using ::aad::testing::OddOptions;
using ::aad::testing::SameLabels;
using ::aad::testing::TempDir;

SessionRecord SampleRecord() {
  SessionRecord r;
  r.id = "exported";
  r.created_micros = 1700000000000000;
  r.options = OddOptions();
  r.batches = {MakeBatch("one", 0, 5, 4, 1), MakeBatch("two", 5, 7, 4, 2)};
  r.label_history = {{3, true, 10}, {9, false, 11}, {3, false, 12}};
  r.labels = CurrentLabels(r.label_history);
  r.model = ModelRecord{6, 3, 99, std::string("\0\1model", 7)};
  return r;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TEST(Crc32Test, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
  // Lengths around the 8-byte step agree with a byte-at-a-time reference.
  std::string data;
  for (int i = 0; i < 40; ++i) data.push_back(static_cast<char>(i * 37 + 1));
  for (size_t n = 0; n <= data.size(); ++n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) {
      crc ^= static_cast<unsigned char>(data[i]);
      for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
    }
    EXPECT_EQ(Crc32(absl::string_view(data.data(), n)), crc ^ 0xFFFFFFFFu) << "length " << n;
  }
}

TEST(SessionArchiveTest, RoundTripsThroughAFile) {
  TempDir dir;
  const std::string path = dir.path() + "/s.aadd";
  const SessionRecord record = SampleRecord();
  ASSERT_TRUE(WriteSessionArchive(record, path).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp")) << "temporary file left behind";
  auto read = ReadSessionArchive(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->id, record.id);
  EXPECT_EQ(read->created_micros, record.created_micros);
  ExpectOptionsEqual(read->options, record.options);
  ExpectBatchesEqual(read->batches, record.batches);
  EXPECT_TRUE(SameLabels(read->label_history, record.label_history));
  EXPECT_TRUE(SameLabels(read->labels, record.labels));
  ASSERT_TRUE(read->model.has_value());
  EXPECT_EQ(read->model->version, 6);
  EXPECT_EQ(read->model->labels_revision, 3);
  EXPECT_EQ(read->model->bytes, record.model->bytes);

  SessionRecord empty;
  empty.id = "empty";
  ASSERT_TRUE(WriteSessionArchive(empty, path).ok());
  auto read_empty = ReadSessionArchive(path);
  ASSERT_TRUE(read_empty.ok()) << read_empty.status();
  EXPECT_FALSE(read_empty->model.has_value());
  EXPECT_TRUE(read_empty->batches.empty());
}

TEST(SessionArchiveTest, EveryDamageIsDataLossNamingTheFile) {
  TempDir dir;
  const std::string path = dir.path() + "/s.aadd";
  ASSERT_TRUE(WriteSessionArchive(SampleRecord(), path).ok());
  const std::string good = ReadFile(path);
  // A flipped bit anywhere (header, payload, checksum) is caught.
  for (size_t offset : {size_t{0}, size_t{9}, size_t{14}, good.size() / 2, good.size() - 1}) {
    std::string bad = good;
    bad[offset] = static_cast<char>(bad[offset] ^ 0x10);
    WriteFile(path, bad);
    auto read = ReadSessionArchive(path);
    EXPECT_FALSE(read.ok()) << "flip at " << offset << " went unnoticed";
    if (offset < 8 || offset >= 12) {  // bytes 8-11: the version; newer is not loss
      EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss)
          << "flip at " << offset << ": " << read.status();
    }
    EXPECT_NE(read.status().message().find(path), std::string::npos) << read.status();
  }
  WriteFile(path, good.substr(0, good.size() - 100));
  auto truncated = ReadSessionArchive(path);
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kDataLoss) << truncated.status();
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos)
      << truncated.status();
  EXPECT_EQ(ReadSessionArchive(dir.path() + "/missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SessionArchiveTest, ANewerFormatIsRefusedAsSuch) {
  std::string bytes = EncodeSessionArchive(SampleRecord());
  bytes[8] = static_cast<char>(kSessionArchiveVersion + 1);  // the version's low byte
  auto read = DecodeSessionArchive(bytes, "wire");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition) << read.status();
}

// The format version in an archive's header (bytes 8-11, little-endian).
uint32_t ArchiveVersion(const std::string& bytes) {
  return static_cast<uint32_t>(static_cast<unsigned char>(bytes[8])) |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[9])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[10])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[11])) << 24;
}

TEST(SessionArchiveTest, WithdrawalsRoundTripInFormatVersionTwo) {
  SessionRecord record = SampleRecord();
  // Row 9 withdrawn, row 3 withdrawn and labelled again: it moves to the end.
  record.label_history.push_back({9, false, 13, /*withdrawn=*/true});
  record.label_history.push_back({3, false, 14, /*withdrawn=*/true});
  record.label_history.push_back({4, true, 15});
  record.label_history.push_back({3, true, 16});
  record.labels = CurrentLabels(record.label_history);
  ASSERT_EQ(record.labels.size(), 2u);
  const std::string bytes = EncodeSessionArchive(record);
  EXPECT_EQ(ArchiveVersion(bytes), kSessionArchiveVersion);
  auto read = DecodeSessionArchive(bytes, "wire");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(SameLabels(read->label_history, record.label_history));
  ASSERT_EQ(read->labels.size(), 2u);
  EXPECT_EQ(read->labels[0].row_id, 4);
  EXPECT_EQ(read->labels[1].row_id, 3);
  EXPECT_TRUE(read->labels[1].anomaly);
}

TEST(SessionArchiveTest, AHistoryWithoutWithdrawalsStaysFormatVersionOne) {
  // Readable by an aadd that predates withdrawals, and by this one.
  const std::string bytes = EncodeSessionArchive(SampleRecord());
  EXPECT_EQ(ArchiveVersion(bytes), kSessionArchiveVersionNoWithdrawals);
  auto read = DecodeSessionArchive(bytes, "wire");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(SameLabels(read->label_history, SampleRecord().label_history));
}

TEST(SessionArchiveTest, AWithdrawalInFormatVersionOneIsDataLoss) {
  SessionRecord record = SampleRecord();
  record.label_history.push_back({9, false, 13, /*withdrawn=*/true});
  record.labels = CurrentLabels(record.label_history);
  std::string bytes = EncodeSessionArchive(record);
  // The checksum covers the payload only, so this is a well-formed version 1
  // header over a payload that version 1 cannot hold.
  bytes[8] = static_cast<char>(kSessionArchiveVersionNoWithdrawals);
  auto read = DecodeSessionArchive(bytes, "wire");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
  EXPECT_NE(read.status().message().find("label verdict 2 in format version 1"),
            std::string::npos)
      << read.status();
}

TEST(SessionArchiveTest, AWithdrawalOfAnUnlabelledRowIsRefused) {
  SessionRecord record = SampleRecord();
  record.label_history.push_back({7, false, 13, /*withdrawn=*/true});  // row 7 never labelled
  record.labels = CurrentLabels(record.label_history);
  auto read = DecodeSessionArchive(EncodeSessionArchive(record), "wire");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
  EXPECT_NE(read.status().message().find("withdraws row id 7"), std::string::npos)
      << read.status();
}

TEST(SessionArchiveTest, AnInconsistentRecordIsRefusedEvenWithAGoodChecksum) {
  SessionRecord record = SampleRecord();
  record.label_history.push_back({12, true, 13});  // row 12 of 12 rows
  record.labels = CurrentLabels(record.label_history);
  auto read = DecodeSessionArchive(EncodeSessionArchive(record), "wire");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
  EXPECT_NE(read.status().message().find("row 12"), std::string::npos) << read.status();
}

TEST(SessionArchiveTest, AnUnwritableDestinationFailsNamingIt) {
  TempDir dir;
  const std::string file = dir.path() + "/plain";
  WriteFile(file, "x");
  // A path under a regular file cannot be created, root or not.
  const std::string path = file + "/s.aadd";
  absl::Status status = WriteSessionArchive(SampleRecord(), path);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
}

}  // namespace
}  // namespace aad
