// A real aadd process on the PostgreSQL store (aadd --store
// postgresql://..., issue 15) against a real PostgreSQL 15
// (tests/testing/postgres_server.h): what durability_test.cc checks for
// SQLite in --data_dir, a SIGKILL and a restart give every acknowledged
// row, label and model back with bit-identical scores (the restarted aadd
// is a new holder: it takes the session over once the dead one's lease
// lapsed, on the session's first call); a server that
// cannot be reached, or a URI of another kind, stops aadd at start with a
// message naming it and never the password.
#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

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

std::unique_ptr<AaddProcess> StartOnPostgres(const std::string& uri) {
  auto process = std::make_unique<AaddProcess>();
  const absl::Status started = process->Start(
      AADD_BINARY, {"--port=0", absl::StrCat("--store=", uri), "--training_threads=1",
                    "--replica_id=pg-test", "--lease_seconds=1"});
  EXPECT_TRUE(started.ok()) << started;
  return started.ok() ? std::move(process) : nullptr;
}

TEST(PostgresStore, EverythingAcknowledgedSurvivesASigkillOfAadd) {
  auto server = PostgresServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->CreateDatabase("aadd").ok());
  const std::string uri = (*server)->Uri("aadd");
  std::mt19937 rng(15);
  const std::vector<float> rows = MakeRows(&rng, 600);
  const std::vector<float> probe = MakeRows(&rng, 20);

  Observed before;
  {
    auto aadd = StartOnPostgres(uri);
    ASSERT_NE(aadd, nullptr);
    EXPECT_NE(aadd->log().find(absl::StrCat("durable sessions in PostgreSQL at ",
                                            (*server)->HostPort())),
              std::string::npos)
        << aadd->log();
    auto client = Connect(aadd->port());
    BuildTrainedSession(client.get(), "pg", rows);
    if (HasFatalFailure()) return;
    before = Observe(client.get(), "pg", probe);
    // No clean shutdown: what was acknowledged must already be committed.
    client.reset();
    aadd->Signal(SIGKILL);
    aadd->WaitExit();
  }
  ASSERT_EQ(before.info.model_version(), 3);

  auto aadd = StartOnPostgres(uri);
  ASSERT_NE(aadd, nullptr);
  EXPECT_NE(aadd->log().find("each is loaded on its first call"), std::string::npos)
      << aadd->log();
  auto client = Connect(aadd->port());
  auto served = GetWhenServed(client.get(), "pg", std::chrono::seconds(30));
  ASSERT_TRUE(served.ok()) << served.status();
  // The log line is written before the reply, but read from aadd's pipe
  // on the test's own time: wait for it.
  EXPECT_TRUE(aadd->WaitForLog("took over (epoch 2, previous holder 'pg-test#",
                               std::chrono::seconds(30)))
      << aadd->log();
  EXPECT_TRUE(aadd->WaitForLog("600 rows, 6 labels, model version 3", std::chrono::seconds(30)))
      << aadd->log();
  const Observed after = Observe(client.get(), "pg", probe);
  EXPECT_EQ(after.info.rows(), 600);
  ExpectSameSession(before, after);
  // It keeps learning where it stopped: a retried batch is a duplicate,
  // labels give the next model.
  ExpectRetriedBatchIsADuplicate(client.get(), "pg", rows);
  if (HasFatalFailure()) return;
  auto labelled = client->SubmitLabels("pg", {{10, true}}, true);
  ASSERT_TRUE(labelled.ok()) << labelled.status();
  EXPECT_EQ(labelled->model_version(), 4);
  StopAadd(aadd.get(), &client);
}

// aadd with `store` must exit non-zero, its log containing `needle` and
// not `secret`.
void ExpectStartFails(const std::string& store, const std::string& needle,
                      const std::string& secret, const std::vector<std::string>& more = {}) {
  AaddProcess process;
  std::vector<std::string> args = {"--port=0", absl::StrCat("--store=", store)};
  args.insert(args.end(), more.begin(), more.end());
  const absl::Status started = process.Start(AADD_BINARY, args);
  EXPECT_FALSE(started.ok()) << "aadd started on " << needle;
  if (started.ok()) process.Signal(SIGKILL);
  const int status = process.WaitExit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << "wait status " << status;
  EXPECT_NE(process.log().find(needle), std::string::npos)
      << "expected '" << needle << "' in:\n"
      << process.log();
  EXPECT_EQ(process.log().find(secret), std::string::npos) << process.log();
}

TEST(PostgresStore, AServerThatCannotBeReachedStopsAaddNamingHostAndPort) {
  auto server = PostgresServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Stop().ok());  // its port is known and nothing listens there
  ExpectStartFails(absl::StrCat("postgresql://aadd:pw-9f3k@127.0.0.1:", (*server)->port(), "/aadd"),
                   (*server)->HostPort(), "pw-9f3k");
}

TEST(PostgresStore, AStoreThatIsNotAPostgresUriIsAnErrorNamingIt) {
  ExpectStartFails("mysql://root:pw-9f3k@db/aadd", "'mysql:", "pw-9f3k");
}

TEST(PostgresStore, StoreWithInMemoryIsAnErrorNamingBoth) {
  ExpectStartFails("postgresql://aadd:pw-9f3k@127.0.0.1:1/aadd", "--store and --in_memory",
                   "pw-9f3k", {"--in_memory"});
}

}  // namespace
}  // namespace aad::testing
