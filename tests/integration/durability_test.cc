// Durability of a real aadd process (issue 4): sessions come back after a
// clean restart with bit-identical scores, a training run cut by a kill is
// reported and leaves the old model, a broken data directory is a clear
// error at start, and a deleted session stays deleted. (The SIGKILL crash
// test is crash_test.cc.)
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "tests/integration/aadd_process.h"
#include "tests/integration/durability_util.h"
#include "tests/integration/session_observation.h"

namespace aad::testing {
namespace {

TEST(Durability, CleanRestartGivesBitIdenticalScoresAndCandidates) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::mt19937 rng(5);
  const std::vector<float> rows = MakeRows(&rng, 600);
  const std::vector<float> probe = MakeRows(&rng, 20);
  const std::string session = "restart";

  Observed before;
  {
    auto aadd = StartAadd(dir.path());
    ASSERT_NE(aadd, nullptr);
    auto client = Connect(aadd->port());
    BuildTrainedSession(client.get(), session, rows);
    if (HasFatalFailure()) return;
    before = Observe(client.get(), session, probe);
    StopAadd(aadd.get(), &client);
  }
  ASSERT_EQ(before.info.model_version(), 3);

  auto aadd = StartAadd(dir.path());
  ASSERT_NE(aadd, nullptr);
  EXPECT_NE(aadd->log().find("restored: 600 rows, 6 labels, model version 3"), std::string::npos)
      << aadd->log();
  auto client = Connect(aadd->port());
  const Observed after = Observe(client.get(), session, probe);
  EXPECT_EQ(after.info.rows(), 600);
  EXPECT_EQ(after.info.feature_count(), kFeatures);
  EXPECT_EQ(after.info.config().seed(), 11u);
  ExpectSameSession(before, after);

  // The restored session keeps learning: a retried batch is a duplicate with
  // its old ids, and labels produce the next version.
  ExpectRetriedBatchIsADuplicate(client.get(), session, rows);
  if (HasFatalFailure()) return;
  auto labelled = client->SubmitLabels(session, {{10, true}}, true);
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  EXPECT_EQ(labelled->model_version(), 4);
  StopAadd(aadd.get(), &client);
}

// A restart rebuilds sessions on several threads (--training_threads):
// each still comes back bit-identical, none lost or mixed up, with its
// feedback round counter (which seeds default random / diverse queries)
// also where labels came before the first model.
TEST(Durability, SessionsRestoredInParallelAreEachBitIdentical) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::mt19937 rng(9);
  const std::vector<float> probe = MakeRows(&rng, 10);
  const std::vector<std::string> ids = {"s1", "s2", "s3", "s4", "s5"};
  std::vector<Observed> before;
  {
    auto aadd = StartAadd(dir.path());
    ASSERT_NE(aadd, nullptr);
    auto client = Connect(aadd->port());
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::string& id = ids[i];
      aad::v1::CreateSessionRequest request = SmallSession(id);
      request.mutable_config()->set_seed(100 + i);
      ASSERT_TRUE(client->CreateSession(request).ok());
      // Different sizes, so that a mix-up of rows or models shows.
      ASSERT_TRUE(client->IngestMessages(id, {Batch(id, "b0", MakeRows(&rng, 100 + 50 * i))}).ok());
      if (i == ids.size() - 1) break;  // the last one stays without a model
      if (i == 0) {
        // A verdict before the first model (an analyst's known anomaly):
        // kept for training, and it counts as a feedback round.
        auto early = client->SubmitLabels(id, {{1, true}}, /*wait_for_model=*/false);
        ASSERT_TRUE(early.ok()) << early.status();
        EXPECT_FALSE(early->update_scheduled());
      }
      ASSERT_TRUE(client->Train(id).ok());
      ASSERT_TRUE(client->SubmitLabels(id, {{static_cast<int64_t>(i), true}}, true).ok());
    }
    for (const std::string& id : ids) {
      if (id == ids.back()) break;
      before.push_back(Observe(client.get(), id, probe));
    }
    StopAadd(aadd.get(), &client);
  }
  auto aadd = StartAadd(dir.path(), {"--training_threads=3"});
  ASSERT_NE(aadd, nullptr);
  EXPECT_NE(aadd->log().find("restored 5 sessions"), std::string::npos) << aadd->log();
  auto client = Connect(aadd->port());
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    const Observed after = Observe(client.get(), ids[i], probe);
    EXPECT_EQ(after.info.session_id(), ids[i]);
    EXPECT_EQ(after.info.rows(), static_cast<int64_t>(100 + 50 * i));
    EXPECT_EQ(after.info.model_version(), 2);
    EXPECT_EQ(after.info.label_rounds(), i == 0 ? 2 : 1);
    ExpectSameSession(before[i], after);
  }
  auto untrained = client->GetSession(ids.back());
  ASSERT_TRUE(untrained.ok()) << untrained.status();
  EXPECT_EQ(untrained->rows(), 300);
  EXPECT_EQ(untrained->model_version(), 0);
  StopAadd(aadd.get(), &client);
}

TEST(Durability, DeletedSessionStaysDeletedAfterRestart) {
  TempDir dir;
  std::mt19937 rng(6);
  {
    auto aadd = StartAadd(dir.path());
    ASSERT_NE(aadd, nullptr);
    auto client = Connect(aadd->port());
    for (const char* id : {"keep", "drop"}) {
      ASSERT_TRUE(client->CreateSession(SmallSession(id)).ok());
      ASSERT_TRUE(client->IngestMessages(id, {Batch(id, "b0", MakeRows(&rng, 50))}).ok());
    }
    ASSERT_TRUE(client->DeleteSession("drop").ok());
    StopAadd(aadd.get(), &client);
  }
  auto aadd = StartAadd(dir.path());
  ASSERT_NE(aadd, nullptr);
  auto client = Connect(aadd->port());
  auto sessions = client->ListSessions();
  ASSERT_TRUE(sessions.ok()) << sessions.status();
  ASSERT_EQ(sessions->size(), 1u);
  EXPECT_EQ((*sessions)[0].session_id(), "keep");
  EXPECT_EQ((*sessions)[0].rows(), 50);
  EXPECT_EQ(client->GetSession("drop").status().code(), absl::StatusCode::kNotFound);
  // The id is free again, with no trace of the old rows.
  auto created = client->CreateSession(SmallSession("drop"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->rows(), 0);
  StopAadd(aadd.get(), &client);
}

TEST(Durability, TrainingCutByAKillIsReportedAndLeavesTheOldModel) {
  TempDir dir;
  std::mt19937 rng(8);
  const std::string session = "cut";
  {
    auto aadd = StartAadd(dir.path());
    ASSERT_NE(aadd, nullptr);
    auto client = Connect(aadd->port(), /*attempts=*/1);
    aad::v1::CreateSessionRequest request = SmallSession(session);
    request.mutable_config()->set_max_pretrain_rows(int64_t{1} << 40);  // no cap
    ASSERT_TRUE(client->CreateSession(request).ok());
    ASSERT_TRUE(client->IngestMessages(session, {Batch(session, "b0", MakeRows(&rng, 300))}).ok());
    ASSERT_TRUE(client->Train(session).ok());
    // A long second run, killed once it reports its first epoch.
    std::mutex mu;
    std::condition_variable progressed;
    bool running = false;
    std::thread trainer([&] {
      auto r = client->Train(
          session,
          [&](const aad::v1::TrainResponse&) {
            std::lock_guard<std::mutex> lock(mu);
            running = true;
            progressed.notify_all();
          },
          {}, /*pretrain_epochs=*/10000);
      EXPECT_FALSE(r.ok()) << "the run finished before the kill";
    });
    {
      std::unique_lock<std::mutex> lock(mu);
      EXPECT_TRUE(progressed.wait_for(lock, std::chrono::seconds(120), [&] { return running; }));
    }
    aadd->Signal(SIGKILL);
    aadd->WaitExit();
    trainer.join();
  }
  auto aadd = StartAadd(dir.path());
  ASSERT_NE(aadd, nullptr);
  auto client = Connect(aadd->port());
  auto info = client->GetSession(session);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->model_version(), 1);
  EXPECT_EQ(info->training_state(), aad::v1::TRAINING_STATE_IDLE);
  EXPECT_NE(info->last_training_error().find("training interrupted by a restart (train run"),
            std::string::npos)
      << info->last_training_error();
  EXPECT_TRUE(client->ScorePoolRows(session, {0, 299}).ok());
  // Reported once: the run is closed in the store, so the next restart is clean.
  StopAadd(aadd.get(), &client);
  aadd = StartAadd(dir.path());
  ASSERT_NE(aadd, nullptr);
  client = Connect(aadd->port());
  info = client->GetSession(session);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->last_training_error(), "");
  StopAadd(aadd.get(), &client);
}

// aadd on `data_dir` must exit non-zero with a message containing `needle`.
void ExpectStartFails(const std::string& data_dir, const std::string& needle) {
  AaddProcess process;
  const absl::Status started =
      process.Start(AADD_BINARY, {"--port=0", absl::StrCat("--data_dir=", data_dir)});
  EXPECT_FALSE(started.ok()) << "aadd started on " << data_dir;
  if (started.ok()) process.Signal(SIGKILL);
  const int status = process.WaitExit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << "wait status " << status;
  EXPECT_NE(process.log().find(needle), std::string::npos)
      << "expected '" << needle << "' in:\n"
      << process.log();
}

TEST(Durability, CorruptStoreFileIsAnErrorAtStartNamingTheFile) {
  TempDir dir;
  const std::string db = dir.path() + "/aadd.db";
  {
    std::ofstream out(db, std::ios::binary);
    for (int i = 0; i < 1000; ++i) out << "this is not an SQLite database ";
  }
  ExpectStartFails(dir.path(), db);
}

TEST(Durability, DataDirUnderARegularFileIsAnErrorAtStart) {
  TempDir dir;
  const std::string file = dir.path() + "/plain-file";
  { std::ofstream out(file); out << "x"; }
  ExpectStartFails(file + "/data", file);
}

TEST(Durability, SecondServerOnTheSameDirectoryIsRefused) {
  TempDir dir;
  auto first = StartAadd(dir.path());
  ASSERT_NE(first, nullptr);
  ExpectStartFails(dir.path(), dir.path());
  std::unique_ptr<aad::AadClient> none;
  StopAadd(first.get(), &none);
}

}  // namespace
}  // namespace aad::testing
