// `aadctl ingest FILE.csv` against a real aadd: the file goes in chunks of
// --batch_rows, parsed while the chunk before is sent (client/csv_ingest.h).
// Every row must arrive, in order and bit for bit; a bad value later in the
// file ends the ingest after the rows before it, which stay stored (also
// across a restart), and the error names the line and the value.
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "format/session_archive.h"
#include "tests/integration/aadctl_runner.h"
#include "tests/integration/durability_util.h"
#include "tests/integration/server_fixture.h"
#include "tests/testing/free_port.h"

namespace aad::testing {
namespace {

constexpr int kDims = 4;

// The value of row r, column c: exact in float32 and in the "%d.25" text.
float Value(int64_t r, int c) { return static_cast<float>(r * kDims + c) + 0.25f; }

// A CSV of `rows` rows (header f0..f3 and a label column in the middle);
// row `bad_row`'s column f2, when >= 0, holds `bad_value` instead.
std::string WriteCsv(const std::string& path, int64_t rows, int64_t bad_row = -1,
                     const std::string& bad_value = "") {
  std::string text = "f0,f1,label,f2,f3\n";
  for (int64_t r = 0; r < rows; ++r) {
    const std::string f2 = r == bad_row ? bad_value : absl::StrCat(r * kDims + 2, ".25");
    absl::StrAppend(&text, r * kDims, ".25,", r * kDims + 1, ".25,",
                    r % 10 == 0 ? "anomaly" : "nominal", ",", f2, ",", r * kDims + 3, ".25\n");
  }
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string CreateSession(int port) {
  const CommandResult created = Aadctl(port, {"create"});
  EXPECT_EQ(created.exit_code, 0) << created.output;
  return created.output.substr(0, created.output.find('\n'));
}

// The session's rows as the server stores them, read back through
// ExportSession, and the number of batches they came in.
std::vector<float> StoredRows(aad::AadClient* client, const std::string& id, int64_t* batches) {
  auto archive = client->ExportSession(id);
  EXPECT_TRUE(archive.ok()) << archive.status();
  if (!archive.ok()) return {};
  auto record = DecodeSessionArchive(*archive, "export");
  EXPECT_TRUE(record.ok()) << record.status();
  if (!record.ok()) return {};
  std::vector<float> values;
  int64_t next_row = 0;
  for (const BatchRecord& b : record->batches) {
    EXPECT_EQ(b.first_row_id, next_row) << b.batch_id;
    EXPECT_EQ(b.feature_count, kDims) << b.batch_id;
    next_row += b.row_count;
    values.insert(values.end(), b.values.begin(), b.values.end());
  }
  *batches = static_cast<int64_t>(record->batches.size());
  return values;
}

void ExpectRowsInOrder(const std::vector<float>& values, int64_t rows) {
  ASSERT_EQ(values.size(), static_cast<size_t>(rows * kDims));
  int64_t wrong = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < kDims; ++c) wrong += values[r * kDims + c] != Value(r, c);
  }
  EXPECT_EQ(wrong, 0) << "cells that differ from the file";
  EXPECT_EQ(values[0], 0.25f);
  EXPECT_EQ(values.back(), Value(rows - 1, kDims - 1));
}

TEST(AadctlIngest, AMultiChunkFileArrivesWhole) {
  TempDir data, files;
  const std::string csv = WriteCsv(files.path() + "/rows.csv", 25000);
  auto aadd = StartAadd(data.path());
  ASSERT_NE(aadd, nullptr);
  const std::string id = CreateSession(aadd->port());

  // 25 chunks of 1000 rows: the parse thread runs ahead of the stream.
  const CommandResult ingested =
      Aadctl(aadd->port(), {"ingest", csv, "--session", id, "--batch_rows=1000"});
  ASSERT_EQ(ingested.exit_code, 0) << ingested.output;
  EXPECT_NE(ingested.output.find("ingested 25000 rows of 4 features (row ids 0..24999); "
                                 "session holds 25000 rows"),
            std::string::npos)
      << ingested.output;

  auto client = Connect(aadd->port());
  auto info = client->GetSession(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 25000);
  ASSERT_EQ(info->feature_names_size(), kDims);
  EXPECT_EQ(info->feature_names(2), "f2");  // the label column is not a feature
  int64_t batches = 0;
  ExpectRowsInOrder(StoredRows(client.get(), id, &batches), 25000);
  EXPECT_EQ(batches, 25);
  StopAadd(aadd.get(), &client);
}

TEST(AadctlIngest, ABadValueInALaterChunkKeepsTheRowsBeforeIt) {
  TempDir data, files;
  // Row 13500 is on line 13502 (the header is line 1), in the 14th chunk.
  const std::string csv = WriteCsv(files.path() + "/bad.csv", 20000, 13500, "12x5");
  auto aadd = StartAadd(data.path());
  ASSERT_NE(aadd, nullptr);
  const std::string id = CreateSession(aadd->port());

  const CommandResult ingested =
      Aadctl(aadd->port(), {"ingest", csv, "--session", id, "--batch_rows=1000"});
  EXPECT_EQ(ingested.exit_code, 1) << ingested.output;
  EXPECT_NE(ingested.output.find(absl::StrCat("aadctl: INVALID_ARGUMENT: ", csv,
                                              ":13502: column 'f2': value '12x5' is not a number")),
            std::string::npos)
      << ingested.output;
  // Every row before the bad one was sent and acknowledged.
  EXPECT_NE(ingested.output.find("ingested 13500 rows of 4 features (row ids 0..13499) before "
                                 "the error below; session holds 13500 rows"),
            std::string::npos)
      << ingested.output;

  // They are stored: also after a restart.
  std::unique_ptr<aad::AadClient> client;
  StopAadd(aadd.get(), &client);
  aadd = StartAadd(data.path());
  ASSERT_NE(aadd, nullptr);
  client = Connect(aadd->port());
  auto info = client->GetSession(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 13500);
  int64_t batches = 0;
  ExpectRowsInOrder(StoredRows(client.get(), id, &batches), 13500);
  EXPECT_EQ(batches, 14);  // 13 whole chunks and the 500 rows before the bad one
  StopAadd(aadd.get(), &client);
}

TEST(AadctlIngest, AServerThatEndsTheStreamEndsTheParseToo) {
  TempDir data, files;
  auto aadd = StartAadd(data.path());
  ASSERT_NE(aadd, nullptr);
  const std::string id = CreateSession(aadd->port());
  const std::string first = WriteCsv(files.path() + "/first.csv", 10);
  ASSERT_EQ(Aadctl(aadd->port(), {"ingest", first, "--session", id}).exit_code, 0);

  // 30 chunks of 3 columns for a session of 4: the server refuses the first
  // batch while the parse thread is ahead, waiting for a free chunk; aadctl
  // must stop it and exit with the server's error.
  std::string text = "a,b,c\n";
  for (int r = 0; r < 30000; ++r) absl::StrAppend(&text, r, ",1,2\n");
  const std::string narrow = files.path() + "/narrow.csv";
  std::ofstream(narrow, std::ios::binary) << text;
  const CommandResult refused =
      Aadctl(aadd->port(), {"ingest", narrow, "--session", id, "--batch_rows=1000"});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("-0' has 3 features per row, the session has 4"),
            std::string::npos)
      << refused.output;
  EXPECT_EQ(refused.output.find("ingested"), std::string::npos) << refused.output;
  auto client = Connect(aadd->port());
  auto info = client->GetSession(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 10);
  StopAadd(aadd.get(), &client);
}

TEST(AadctlIngest, NoServerEndsWithUnavailable) {
  TempDir files;
  const std::string csv = WriteCsv(files.path() + "/rows.csv", 5000);
  // Each attempt opens the file again and fails to connect; the last one's
  // error is the answer.
  const CommandResult result =
      Aadctl(FreeLoopbackPort(), {"ingest", csv, "--session", "s1", "--batch_rows=1000"});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("aadctl: UNAVAILABLE: "), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find("ingested"), std::string::npos) << result.output;
}

TEST(AadctlIngest, AFileWithoutRowsIsRefusedBeforeSending) {
  TempDir data, files;
  const std::string csv = WriteCsv(files.path() + "/header.csv", 0);
  auto aadd = StartAadd(data.path());
  ASSERT_NE(aadd, nullptr);
  const std::string id = CreateSession(aadd->port());
  const CommandResult ingested = Aadctl(aadd->port(), {"ingest", csv, "--session", id});
  EXPECT_EQ(ingested.exit_code, 1) << ingested.output;
  EXPECT_NE(ingested.output.find("no rows after the header: nothing to ingest"),
            std::string::npos)
      << ingested.output;
  auto client = Connect(aadd->port());
  auto info = client->GetSession(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 0);
  StopAadd(aadd.get(), &client);
}

}  // namespace
}  // namespace aad::testing
