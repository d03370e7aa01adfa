// Undo of a verdict over gRPC (issue 12): a withdrawn row is unlabelled
// again, is proposed again, can be labelled again (last in the order the
// model fits), and all of it survives a restart of the aadd process on the
// same data directory and an export/import, with bit-identical scores.
// `aadctl label ROW=withdraw` takes a verdict back too.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "tests/integration/aadctl_runner.h"
#include "tests/integration/aadd_process.h"
#include "tests/integration/durability_util.h"
#include "tests/integration/session_observation.h"

namespace aad::testing {
namespace {

aad::v1::Label Withdraw(int64_t row) {
  aad::v1::Label label;
  label.set_row_id(row);
  label.set_withdraw(true);
  return label;
}

// Every unlabelled row, as the server proposes them (k above the pool).
std::vector<int64_t> Unlabelled(aad::AadClient* client, const std::string& session) {
  auto all = client->GetQueryCandidates(session, 1000);
  EXPECT_TRUE(all.ok()) << all.status();
  if (!all.ok()) return {};
  return std::vector<int64_t>(all->row_ids().begin(), all->row_ids().end());
}

bool Has(const std::vector<int64_t>& rows, int64_t row) {
  return std::find(rows.begin(), rows.end(), row) != rows.end();
}

TEST(Withdraw, AWithdrawalSurvivesARestartAndAnImportBitForBit) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::mt19937 rng(5);  // durability_test's data: row 3 is not among the first 5 candidates
  const std::vector<float> rows = MakeRows(&rng, 600);
  const std::vector<float> probe = MakeRows(&rng, 20);
  const std::string session = "undo";

  Observed before;
  {
    auto aadd = StartAadd(dir.path());
    ASSERT_NE(aadd, nullptr);
    auto client = Connect(aadd->port());
    BuildTrainedSession(client.get(), session, rows);  // 6 labels, row 3 an anomaly: version 3
    if (HasFatalFailure()) return;
    ASSERT_FALSE(Has(Unlabelled(client.get(), session), 3));

    auto withdrawn = client->SubmitLabelMessages(
        session, std::vector<aad::v1::Label>{Withdraw(3)}, /*wait_for_model=*/true);
    ASSERT_TRUE(withdrawn.ok()) << withdrawn.status();
    EXPECT_EQ(withdrawn->labels(), 5);
    EXPECT_EQ(withdrawn->model_version(), 4) << "the model is refitted without row 3";
    EXPECT_TRUE(Has(Unlabelled(client.get(), session), 3)) << "row 3 is not proposed again";

    // Labelled again (it now comes last in the fitting order), then a
    // withdrawal of a row that has no label: NOT_FOUND, nothing stored.
    ASSERT_TRUE(client->SubmitLabels(session, {{3, false}}, true).ok());
    auto unlabelled = client->SubmitLabelMessages(
        session, std::vector<aad::v1::Label>{Withdraw(3), Withdraw(599)}, false);
    EXPECT_EQ(unlabelled.status().code(), absl::StatusCode::kNotFound) << unlabelled.status();
    EXPECT_NE(unlabelled.status().message().find("row id 599"), std::string::npos)
        << unlabelled.status();

    // The command line takes row 3's verdict back and gives it again, and
    // names the row it cannot withdraw.
    CommandResult undo = Aadctl(aadd->port(), {"label", "3=withdraw", "--wait", "--session",
                                               session});
    EXPECT_EQ(undo.exit_code, 0) << undo.output;
    EXPECT_NE(undo.output.find("5 labels stored; model version 6"), std::string::npos)
        << undo.output;
    CommandResult relabel = Aadctl(aadd->port(), {"label", "3=anomaly", "--wait", "--session",
                                                  session});
    EXPECT_EQ(relabel.exit_code, 0) << relabel.output;
    CommandResult bad = Aadctl(aadd->port(), {"label", "599=withdraw", "--session", session});
    EXPECT_NE(bad.exit_code, 0) << bad.output;
    EXPECT_NE(bad.output.find("row id 599"), std::string::npos) << bad.output;

    before = Observe(client.get(), session, probe);
    StopAadd(aadd.get(), &client);
  }
  ASSERT_EQ(before.info.model_version(), 7);
  EXPECT_EQ(before.info.labels(), 6);

  auto aadd = StartAadd(dir.path());
  ASSERT_NE(aadd, nullptr);
  EXPECT_NE(aadd->log().find("restored: 600 rows, 6 labels, model version 7"), std::string::npos)
      << aadd->log();
  auto client = Connect(aadd->port());
  const Observed after = Observe(client.get(), session, probe);
  ExpectSameSession(before, after);

  // An export carries the withdrawals (archive format 2) and an import
  // gives the same session.
  auto archive = client->ExportSession(session);
  ASSERT_TRUE(archive.ok()) << archive.status();
  ASSERT_TRUE(client->ImportSession(*archive, "undo-copy").ok());
  ExpectSameSession(before, Observe(client.get(), "undo-copy", probe));

  // Both keep learning alike from the same undo: the restored label order
  // is the one the session had.
  for (const std::string& id : {session, std::string("undo-copy")}) {
    auto again =
        client->SubmitLabelMessages(id, std::vector<aad::v1::Label>{Withdraw(3)}, true);
    ASSERT_TRUE(again.ok()) << id << ": " << again.status();
    EXPECT_EQ(again->labels(), 5) << id;
    EXPECT_EQ(again->model_version(), 8) << id;
  }
  EXPECT_TRUE(SameBits(Observe(client.get(), session, probe).pool_scores.p(),
                       Observe(client.get(), "undo-copy", probe).pool_scores.p()));
  StopAadd(aadd.get(), &client);
}

}  // namespace
}  // namespace aad::testing
