// Moving a session between servers (issue 4): `aadctl export SESSION FILE`
// on one aadd process, `aadctl import FILE` on another (each with its own
// data directory). The imported session is the exported one: state, scores
// bit for bit, candidates, batch ids, and how it learns from the next label.
// Damaged archives and every limit are refused with the problem named and
// nothing created.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "format/atomic_file.h"
#include "tests/integration/aadctl_runner.h"
#include "tests/integration/aadd_process.h"
#include "tests/integration/durability_util.h"
#include "tests/integration/session_observation.h"

namespace aad::testing {
namespace {

TEST(Transfer, ImportedSessionOnAnotherServerIsTheExportedOneBitForBit) {
  TempDir dir_a, dir_b, files;
  std::mt19937 rng(21);
  const std::vector<float> rows = MakeRows(&rng, 600);
  const std::vector<float> probe = MakeRows(&rng, 20);
  const std::string session = "moving";
  const std::string archive = files.path() + "/moving.aads";

  auto a = StartAadd(dir_a.path());
  ASSERT_NE(a, nullptr);
  auto client_a = Connect(a->port());
  BuildTrainedSession(client_a.get(), session, rows);
  if (HasFatalFailure()) return;
  const Observed exported = Observe(client_a.get(), session, probe);
  ASSERT_EQ(exported.info.model_version(), 3);

  const CommandResult out = Aadctl(a->port(), {"export", session, archive});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find(absl::StrCat("exported session moving to ", archive, ": 600 rows, ",
                                         exported.info.labels(),
                                         " labels (history of 7 verdicts), model version 3")),
            std::string::npos)
      << out.output;

  auto b = StartAadd(dir_b.path());
  ASSERT_NE(b, nullptr);
  const CommandResult in = Aadctl(b->port(), {"import", archive});
  ASSERT_EQ(in.exit_code, 0) << in.output << b->log();
  EXPECT_NE(in.output.find(absl::StrCat("as session moving: 600 rows, ", exported.info.labels(),
                                        " labels, model version 3")),
            std::string::npos)
      << in.output;
  auto client_b = Connect(b->port());
  const Observed imported = Observe(client_b.get(), session, probe);
  EXPECT_EQ(imported.info.session_id(), session);
  ExpectSameSession(exported, imported);

  // Batch ids came along: a client retrying an old batch on the new server
  // gets its old row ids and stores nothing.
  ExpectRetriedBatchIsADuplicate(client_b.get(), session, rows);
  if (HasFatalFailure()) return;

  // The next verdict, given to both copies, teaches both the same model.
  for (aad::AadClient* c : {client_a.get(), client_b.get()}) {
    auto labelled = c->SubmitLabels(session, {{10, true}}, /*wait_for_model=*/true);
    ASSERT_TRUE(labelled.ok()) << labelled.status();
    EXPECT_EQ(labelled->model_version(), 4);
  }
  const Observed learned_a = Observe(client_a.get(), session, probe);
  ExpectSameSession(learned_a, Observe(client_b.get(), session, probe));

  // The import is durable on B: it comes back after B restarts.
  StopAadd(b.get(), &client_b);
  b = StartAadd(dir_b.path());
  ASSERT_NE(b, nullptr);
  client_b = Connect(b->port());
  auto info = client_b->GetSession(session);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 600);
  EXPECT_EQ(info->labels(), learned_a.info.labels());
  EXPECT_EQ(info->model_version(), 4);
  StopAadd(b.get(), &client_b);
  StopAadd(a.get(), &client_a);
}

TEST(Transfer, ImportUnderANewIdLeavesTwoIndependentSessions) {
  TempDir dir, files;
  std::mt19937 rng(22);
  const std::vector<float> rows = MakeRows(&rng, 600);
  const std::vector<float> probe = MakeRows(&rng, 10);
  const std::string archive = files.path() + "/original.aads";
  auto aadd = StartAadd(dir.path());
  ASSERT_NE(aadd, nullptr);
  auto client = Connect(aadd->port());
  BuildTrainedSession(client.get(), "original", rows);
  if (HasFatalFailure()) return;
  ASSERT_EQ(Aadctl(aadd->port(), {"export", "original", archive}).exit_code, 0);
  auto original = client->GetSession("original");
  ASSERT_TRUE(original.ok()) << original.status();

  // Same id on the same server: refused, nothing changes.
  const CommandResult taken = Aadctl(aadd->port(), {"import", archive});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.output.find("ALREADY_EXISTS: import of " + archive +
                              ": a session with id 'original' exists"),
            std::string::npos)
      << taken.output;
  const CommandResult bad_id = Aadctl(aadd->port(), {"import", archive, "--session=no/slash"});
  EXPECT_EQ(bad_id.exit_code, 1);
  EXPECT_NE(bad_id.output.find("INVALID_ARGUMENT"), std::string::npos) << bad_id.output;
  EXPECT_NE(bad_id.output.find("'no/slash'"), std::string::npos) << bad_id.output;

  const CommandResult copied =
      Aadctl(aadd->port(), {"import", archive, "--session=copy", "--json"});
  ASSERT_EQ(copied.exit_code, 0) << copied.output;
  EXPECT_NE(copied.output.find(absl::StrCat("\"session_id\":\"copy\",\"rows\":600,\"labels\":",
                                            original->labels(), ",")),
            std::string::npos)
      << copied.output;
  ExpectSameSession(Observe(client.get(), "original", probe),
                    Observe(client.get(), "copy", probe));

  // Independent: the original goes, the copy stays whole and keeps learning.
  ASSERT_TRUE(client->DeleteSession("original").ok());
  auto labelled = client->SubmitLabels("copy", {{42, true}}, true);
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  EXPECT_EQ(labelled->model_version(), 4);
  auto sessions = client->ListSessions();
  ASSERT_TRUE(sessions.ok()) << sessions.status();
  ASSERT_EQ(sessions->size(), 1u);
  EXPECT_EQ((*sessions)[0].session_id(), "copy");
  StopAadd(aadd.get(), &client);
}

TEST(Transfer, DamagedArchivesAndLimitsAreRefusedAndCreateNothing) {
  TempDir dir_a, dir_b, files;
  std::mt19937 rng(23);
  auto a = StartAadd(dir_a.path());
  ASSERT_NE(a, nullptr);
  auto client_a = Connect(a->port());
  // An untrained 6-feature session of 40 rows, and a 3,000-row one.
  for (const auto& [id, n] : {std::pair<std::string, int64_t>{"small", 40}, {"large", 3000}}) {
    ASSERT_TRUE(client_a->CreateSession(SmallSession(id)).ok());
    ASSERT_TRUE(client_a->IngestMessages(id, {Batch(id, "b0", MakeRows(&rng, n))}).ok());
  }
  auto small = client_a->ExportSession("small");
  ASSERT_TRUE(small.ok()) << small.status();
  auto large = client_a->ExportSession("large");
  ASSERT_TRUE(large.ok()) << large.status();
  EXPECT_GT(large->size(), 3000u * kFeatures * sizeof(float));

  const CommandResult unknown = Aadctl(a->port(), {"export", "nobody", files.path() + "/x"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("NOT_FOUND: no session with id 'nobody'"), std::string::npos)
      << unknown.output;

  // B takes 5 features and archives of at most 50,000 bytes.
  auto b = StartAadd(dir_b.path(), {"--max_features=5", "--max_import_bytes=50000"});
  ASSERT_NE(b, nullptr);
  auto client_b = Connect(b->port());
  auto too_big = client_b->ImportSession(*large, "large");
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted) << too_big.status();
  EXPECT_NE(too_big.status().message().find("exceeds 50000 bytes (--max_import_bytes)"),
            std::string::npos)
      << too_big.status();
  auto too_wide = client_b->ImportSession(*small, "small");
  EXPECT_EQ(too_wide.status().code(), absl::StatusCode::kResourceExhausted) << too_wide.status();
  EXPECT_NE(too_wide.status().message().find("6 features, the limit is 5 (--max_features)"),
            std::string::npos)
      << too_wide.status();

  // Damaged bytes sent straight to the server (past aadctl's own check).
  std::string flipped = *small;
  flipped[flipped.size() / 2] ^= 0x10;
  auto corrupt = client_b->ImportSession(flipped, "flipped");
  EXPECT_EQ(corrupt.status().code(), absl::StatusCode::kDataLoss) << corrupt.status();
  EXPECT_NE(corrupt.status().message().find("checksum mismatch"), std::string::npos)
      << corrupt.status();
  auto truncated = client_b->ImportSession(small->substr(0, small->size() - 100), "cut");
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kDataLoss) << truncated.status();
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos)
      << truncated.status();
  auto empty = client_b->ImportSession("", "empty");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kDataLoss) << empty.status();
  EXPECT_NE(empty.status().message().find("missing the 'AADDSESS' header (0 bytes)"),
            std::string::npos)
      << empty.status();

  // aadctl checks the file before uploading and names it.
  const std::string file = files.path() + "/damaged.aads";
  ASSERT_TRUE(aad::WriteFileAtomically(file, flipped).ok());
  const CommandResult refused = Aadctl(b->port(), {"import", file});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("DATA_LOSS: " + file + ": not a valid session archive: checksum"),
            std::string::npos)
      << refused.output;
  const CommandResult missing = Aadctl(b->port(), {"import", files.path() + "/absent.aads"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("NOT_FOUND: cannot open " + files.path() + "/absent.aads"),
            std::string::npos)
      << missing.output;

  // Nothing was created on B, and B still imports a good archive.
  auto sessions = client_b->ListSessions();
  ASSERT_TRUE(sessions.ok()) << sessions.status();
  EXPECT_TRUE(sessions->empty());
  StopAadd(b.get(), &client_b);
  b = StartAadd(dir_b.path());
  ASSERT_NE(b, nullptr);
  client_b = Connect(b->port());
  sessions = client_b->ListSessions();
  ASSERT_TRUE(sessions.ok()) << sessions.status();
  EXPECT_TRUE(sessions->empty()) << "a refused import left a session in the store";
  auto good = client_b->ImportSession(*small, "small");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->rows(), 40);
  EXPECT_EQ(good->model_version(), 0);
  StopAadd(b.get(), &client_b);
  StopAadd(a.get(), &client_a);
}

}  // namespace
}  // namespace aad::testing
