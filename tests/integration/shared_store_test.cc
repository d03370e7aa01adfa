// Two real aadd replicas on one real PostgreSQL 15 (aadd --store, issue
// 15): a session has one holder at a time; another replica is told who
// holds it, asks for it and gets it handed over with every acknowledged
// row and label and bit-identical scores; a replica that stops gives its
// leases up, an idle session is released, a lapsed lease is taken over,
// and every replica lists the whole store. The three-replica run behind
// nginx with a SIGKILL is replicas_test.cc.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "tests/integration/aadd_process.h"
#include "tests/integration/durability_util.h"
#include "tests/integration/session_observation.h"
#include "tests/integration/takeover_wait.h"
#include "tests/testing/postgres_server.h"

namespace aad::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class SharedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_TRUE(server_->CreateDatabase("aadd").ok());
  }
  // A replica named `name` on the shared store; `flags` after the defaults.
  std::unique_ptr<AaddProcess> Replica(const std::string& name,
                                       const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {"--port=0",
                                     absl::StrCat("--store=", server_->Uri("aadd")),
                                     "--training_threads=1", absl::StrCat("--replica_id=", name)};
    args.insert(args.end(), flags.begin(), flags.end());
    auto process = std::make_unique<AaddProcess>();
    const absl::Status started = process->Start(AADD_BINARY, args);
    EXPECT_TRUE(started.ok()) << started;
    return started.ok() ? std::move(process) : nullptr;
  }

  std::unique_ptr<PostgresServer> server_;
};

TEST_F(SharedStoreTest, AnotherReplicaIsToldTheHolderAndGetsTheSessionHandedOver) {
  // Leases of 60 s: the session can only move within the test's deadline
  // by being handed over, never by a lapse.
  auto r1 = Replica("r1", {"--lease_seconds=60"});
  auto r2 = Replica("r2", {"--lease_seconds=60"});
  ASSERT_TRUE(r1 && r2);
  std::mt19937 rng(15);
  const std::vector<float> rows = MakeRows(&rng, 600);
  const std::vector<float> probe = MakeRows(&rng, 20);
  auto c1 = Connect(r1->port(), /*attempts=*/1);
  auto c2 = Connect(r2->port(), /*attempts=*/1);
  BuildTrainedSession(c1.get(), "s", rows);
  if (HasFatalFailure()) return;
  const Observed before = Observe(c1.get(), "s", probe);

  absl::StatusOr<aad::v1::SessionInfo> refused = c2->GetSession("s");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("held by replica 'r1#"));
  EXPECT_THAT(refused.status().message(), HasSubstr("asked to hand the session over"));

  // r1 renews every 20 s, and hands the session over at that renewal.
  auto served = GetWhenServed(c2.get(), "s", std::chrono::seconds(45));
  ASSERT_TRUE(served.ok()) << served.status() << "\nr1:\n" << r1->log();
  // Log lines are read from the replicas' pipes on the test's own time.
  EXPECT_TRUE(r1->WaitForLog("released (handed over to 'r2#", std::chrono::seconds(30)))
      << r1->log();
  EXPECT_TRUE(r2->WaitForLog("took over (epoch 2, previous holder 'none')",
                             std::chrono::seconds(30)))
      << r2->log();
  const Observed after = Observe(c2.get(), "s", probe);
  ExpectSameSession(before, after);

  // r2 learns where r1 stopped, and r1 now names r2.
  auto labelled = c2->SubmitLabels("s", {{10, true}}, /*wait_for_model=*/true);
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  EXPECT_EQ(labelled->model_version(), 4);
  absl::StatusOr<aad::v1::SessionInfo> named = c1->GetSession("s");
  EXPECT_EQ(named.status().code(), absl::StatusCode::kUnavailable) << named.status();
  EXPECT_THAT(named.status().message(), HasSubstr("held by replica 'r2#"));
  StopAadd(r1.get(), &c1);
  StopAadd(r2.get(), &c2);
}

TEST_F(SharedStoreTest, AReplicaThatStopsGivesItsLeasesUpAndOneThatDiesLosesThemToTheLapse) {
  auto r1 = Replica("r1", {"--lease_seconds=60"});
  auto r2 = Replica("r2", {"--lease_seconds=3"});
  ASSERT_TRUE(r1 && r2);
  auto c1 = Connect(r1->port(), 1);
  auto c2 = Connect(r2->port(), 1);
  std::mt19937 rng(16);
  const std::vector<float> rows = MakeRows(&rng, 600);
  BuildTrainedSession(c1.get(), "graceful", rows);
  if (HasFatalFailure()) return;
  // SIGTERM: the 60 s lease is given up at exit, so r2 serves at once.
  StopAadd(r1.get(), &c1);
  int refusals = 0;
  auto served = GetWhenServed(c2.get(), "graceful", std::chrono::seconds(30), &refusals);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(refusals, 0);
  EXPECT_EQ(served->rows(), 600);
  EXPECT_EQ(served->labels(), 6);
  EXPECT_EQ(served->model_version(), 3);

  // r2 dies holding it (lease 3 s, at least 2 s left): r3 is refused until the lease lapsed.
  auto r3 = Replica("r3");
  ASSERT_TRUE(r3);
  auto c3 = Connect(r3->port(), 1);
  c2.reset();
  r2->Signal(SIGKILL);
  r2->WaitExit();
  auto taken = GetWhenServed(c3.get(), "graceful", std::chrono::seconds(30), &refusals);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_GT(refusals, 0) << "r2's lease was still running when it died";
  EXPECT_TRUE(r3->WaitForLog("took over (epoch 3, previous holder 'r2#",
                             std::chrono::seconds(30)))
      << r3->log();
  EXPECT_EQ(taken->rows(), 600);
  EXPECT_EQ(taken->labels(), 6);
  StopAadd(r3.get(), &c3);
}

TEST_F(SharedStoreTest, AnIdleSessionIsReleasedAndServedElsewhereAtOnce) {
  auto r1 = Replica("r1", {"--lease_seconds=3", "--idle_release_seconds=1"});
  auto r2 = Replica("r2", {"--lease_seconds=60"});
  ASSERT_TRUE(r1 && r2);
  auto c1 = Connect(r1->port(), 1);
  ASSERT_TRUE(c1->CreateSession(SmallSession("idle")).ok());
  ASSERT_TRUE(r1->WaitForLog("released (idle for 1 s)", std::chrono::seconds(30))) << r1->log();
  auto c2 = Connect(r2->port(), 1);
  int refusals = 0;
  auto served = GetWhenServed(c2.get(), "idle", std::chrono::seconds(30), &refusals);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(refusals, 0);
  StopAadd(r1.get(), &c1);
  StopAadd(r2.get(), &c2);
}

TEST_F(SharedStoreTest, EveryReplicaListsTheWholeStoreWithoutLoadingIt) {
  auto r1 = Replica("r1");
  auto r2 = Replica("r2");
  ASSERT_TRUE(r1 && r2);
  auto c1 = Connect(r1->port(), 1);
  auto c2 = Connect(r2->port(), 1);
  ASSERT_TRUE(c1->CreateSession(SmallSession("one")).ok());
  ASSERT_TRUE(c2->CreateSession(SmallSession("two")).ok());
  std::mt19937 rng(17);
  ASSERT_TRUE(c2->IngestMessages("two", {Batch("two", "b0", MakeRows(&rng, 30))}).ok());
  for (aad::AadClient* client : {c1.get(), c2.get()}) {
    auto listed = client->ListSessions();
    ASSERT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> seen;
    for (const auto& info : *listed) seen.push_back(absl::StrCat(info.session_id(), ":", info.rows()));
    EXPECT_THAT(seen, UnorderedElementsAre("one:0", "two:30"));
  }
  // Listing took nothing over: each is still its creator's.
  EXPECT_THAT(r1->log(), ::testing::Not(HasSubstr("took over")));
  EXPECT_EQ(c1->GetSession("two").status().code(), absl::StatusCode::kUnavailable);
  StopAadd(r1.get(), &c1);
  StopAadd(r2.get(), &c2);
}

TEST(SharedStoreFlags, LeaseFlagsWithoutASharedStoreOrOutOfRangeStopAadd) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--in_memory", "--lease_seconds=5"},
        std::vector<std::string>{"--in_memory", "--replica_id=r1"},
        std::vector<std::string>{"--store=postgresql://aadd@127.0.0.1:1/aadd",
                                 "--lease_seconds=0"},
        std::vector<std::string>{"--store=postgresql://aadd@127.0.0.1:1/aadd",
                                 "--idle_release_seconds=-1"}}) {
    AaddProcess process;
    std::vector<std::string> args = {"--port=0"};
    args.insert(args.end(), flags.begin(), flags.end());
    EXPECT_FALSE(process.Start(AADD_BINARY, args).ok()) << flags.back();
    const int status = process.WaitExit();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << flags.back();
    const std::string flag = flags.back().substr(0, flags.back().find('='));
    EXPECT_THAT(process.log(), HasSubstr(flag)) << process.log();
  }
}

}  // namespace
}  // namespace aad::testing
