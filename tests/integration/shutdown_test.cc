// Graceful shutdown (issue 17, defect 2), against the aadd binary: a SIGTERM
// first drains (health NOT_SERVING over gRPC and /healthz, new work refused
// with UNAVAILABLE, for --drain_seconds, cut short by a second signal), then
// stops the streams that stay open (an Ingest ends with UNAVAILABLE after
// the batch in hand, its batches stored) and cancels the rest once no call
// is in flight, so that an idle connection does not hold the exit. And the
// same steps on the in-process server.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "tests/integration/durability_util.h"
#include "tests/integration/server_fixture.h"
// Last: <httplib.h> brings <resolv.h>, whose _res macro breaks Eigen's headers.
#include <httplib.h>

namespace aad::testing {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Waits for the child's end; its wait status and the seconds it took.
std::pair<int, double> TimedExit(AaddProcess* aadd) {
  const Clock::time_point start = Clock::now();
  const int status = aadd->WaitExit();
  return {status, SecondsSince(start)};
}

bool ExitedCleanly(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

// Polls GetSession until the session holds `rows` (an Ingest stream
// acknowledges its batches only at its end); false after `timeout`.
bool WaitForRows(AadClient* client, const std::string& session, int64_t rows,
                 std::chrono::seconds timeout) {
  const Clock::time_point end = Clock::now() + timeout;
  while (Clock::now() < end) {
    auto info = client->GetSession(session);
    if (info.ok() && info->rows() == rows) return true;
  }
  return false;
}

// During the drain window the server says NOT_SERVING on both front doors
// and refuses new work, while reads are still answered; a second SIGTERM
// ends the window long before its 30 s.
TEST(Shutdown, DrainReportsNotServingAndRefusesNewWork) {
  AaddProcess aadd;
  ASSERT_TRUE(aadd.Start(AADD_BINARY, {"--port=0", "--http_port=-1", "--in_memory",
                                       "--drain_seconds=30", "--shutdown_grace_seconds=30"})
                  .ok())
      << aadd.log();
  auto client = Connect(aadd.port(), /*attempts=*/1);
  ASSERT_TRUE(client->CreateSession(SmallSession("before")).ok());
  ASSERT_EQ(client->Health().value_or("error"), "SERVING");

  aadd.Signal(SIGTERM);
  ASSERT_TRUE(aadd.WaitForLog("draining", std::chrono::seconds(30))) << aadd.log();
  auto health = client->Health();
  ASSERT_TRUE(health.ok()) << health.status() << "\n" << aadd.log();
  EXPECT_EQ(*health, "NOT_SERVING");
  httplib::Client http("127.0.0.1", aadd.http_port());
  auto healthz = http.Get("/healthz");
  ASSERT_TRUE(healthz) << httplib::to_string(healthz.error());
  EXPECT_EQ(healthz->status, 503) << healthz->body;
  EXPECT_NE(healthz->body.find("NOT_SERVING"), std::string::npos) << healthz->body;
  auto created = client->CreateSession(SmallSession("during"));
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnavailable) << created.status();
  auto posted = http.Post("/v1/sessions", R"({"sessionId":"during-http"})", "application/json");
  ASSERT_TRUE(posted) << httplib::to_string(posted.error());
  EXPECT_EQ(posted->status, 503) << posted->body;
  // Reads are still answered: a client finishing its work can look.
  EXPECT_TRUE(client->GetSession("before").ok());

  const Clock::time_point second = Clock::now();
  aadd.Signal(SIGTERM);
  const auto [status, seconds] = TimedExit(&aadd);
  EXPECT_TRUE(ExitedCleanly(status)) << status << "\n" << aadd.log();
  // Cut short: the window had ~30 s left.
  EXPECT_LT(SecondsSince(second), 15.0) << aadd.log();
  (void)seconds;
}

// An idle connection (a client that made a call and keeps its channel)
// must not hold the exit: with no call in flight the server goes at once,
// well before the 30 s grace and before the ~5 s gRPC core otherwise waits
// for a connected client to go away.
TEST(Shutdown, IdleConnectionDoesNotDelayTheExit) {
  AaddProcess aadd;
  ASSERT_TRUE(aadd.Start(AADD_BINARY, {"--port=0", "--in_memory", "--drain_seconds=0",
                                       "--shutdown_grace_seconds=30"})
                  .ok())
      << aadd.log();
  auto client = Connect(aadd.port(), /*attempts=*/1);
  ASSERT_TRUE(client->CreateSession(SmallSession("idle")).ok());
  aadd.Signal(SIGTERM);
  const auto [status, seconds] = TimedExit(&aadd);
  EXPECT_TRUE(ExitedCleanly(status)) << status << "\n" << aadd.log();
  EXPECT_LT(seconds, 3.0) << aadd.log();
}

// An Ingest stream the client keeps open ends with UNAVAILABLE at shutdown
// (after the batch in hand, not at the grace deadline); the batches it
// stored are there after a restart, and the client's retry of the stream
// with the same batch ids stores each batch once.
TEST(Shutdown, OpenIngestStreamEndsUnavailableAndItsBatchesStay) {
  TempDir dir;
  auto aadd = StartAadd(dir.path(), {"--shutdown_grace_seconds=30"});
  ASSERT_NE(aadd, nullptr);
  auto client = Connect(aadd->port(), /*attempts=*/1);
  ASSERT_TRUE(client->CreateSession(SmallSession("held")).ok());
  std::mt19937 rng(5);
  const std::vector<float> rows = MakeRows(&rng, 300);
  auto batch = [&](int b) {
    return Batch("held", absl::StrCat("b", b),
                 std::vector<float>(rows.begin() + b * 100 * kFeatures,
                                    rows.begin() + (b + 1) * 100 * kFeatures));
  };

  grpc::ClientContext context;
  context.AddMetadata("x-session-id", "held");
  v1::IngestResponse response;
  auto stream = client->stub()->Ingest(&context, &response);
  ASSERT_TRUE(stream->Write(batch(0)));
  ASSERT_TRUE(stream->Write(batch(1)));
  // Both batches stored; the stream stays open (no WritesDone).
  ASSERT_TRUE(WaitForRows(client.get(), "held", 200, std::chrono::seconds(60)));

  aadd->Signal(SIGTERM);
  const Clock::time_point signalled = Clock::now();
  const grpc::Status ended = stream->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << ended.error_message();
  EXPECT_NE(ended.error_message().find("shutting down"), std::string::npos)
      << ended.error_message();
  const auto [status, seconds] = TimedExit(aadd.get());
  EXPECT_TRUE(ExitedCleanly(status)) << status << "\n" << aadd->log();
  EXPECT_LT(SecondsSince(signalled), 15.0) << "the grace is 30 s\n" << aadd->log();
  (void)seconds;
  client.reset();

  aadd = StartAadd(dir.path());
  ASSERT_NE(aadd, nullptr);
  client = Connect(aadd->port());
  auto info = client->GetSession("held");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 200);
  // The client's retry sends the whole stream again, b2 now included.
  auto retried = client->IngestMessages("held", {batch(0), batch(1), batch(2)});
  ASSERT_TRUE(retried.ok()) << retried.status();
  ASSERT_EQ(retried->batches_size(), 3);
  EXPECT_TRUE(retried->batches(0).duplicate());
  EXPECT_TRUE(retried->batches(1).duplicate());
  EXPECT_FALSE(retried->batches(2).duplicate());
  EXPECT_EQ(retried->batches(1).first_row_id(), 100);
  EXPECT_EQ(retried->batches(2).first_row_id(), 200);
  EXPECT_EQ(retried->total_rows(), 300);
  StopAadd(aadd.get(), &client);
}

// The in-process server: StartDraining is the window (the test ends it by
// calling Shutdown), and Shutdown ends an Import stream left open with
// UNAVAILABLE, importing nothing, long before its 30 s deadline.
class InProcessShutdownTest : public ServerFixture {};

TEST_F(InProcessShutdownTest, DrainThenShutdownStopsOpenStreams) {
  const std::string id = NewSession();
  ASSERT_FALSE(id.empty());
  aad::ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", server_->port());
  options.max_attempts = 1;
  aad::AadClient client(options);
  ASSERT_EQ(client.Health().value_or("error"), "SERVING");

  grpc::ClientContext import_context;
  v1::ImportSessionResponse imported;
  auto import = client.stub()->ImportSession(&import_context, &imported);
  v1::ImportSessionRequest chunk;
  chunk.set_session_id("never-imported");
  chunk.set_chunk("the first bytes of an archive");
  ASSERT_TRUE(import->Write(chunk));

  server_->StartDraining();
  EXPECT_EQ(client.Health().value_or("error"), "NOT_SERVING");
  EXPECT_EQ(client.CreateSession(v1::CreateSessionRequest()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(client.GetSession(id).ok());

  const Clock::time_point start = Clock::now();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(30));
  EXPECT_LT(SecondsSince(start), 15.0);
  const grpc::Status ended = import->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << ended.error_message();
  EXPECT_TRUE(store_->LoadSession("never-imported").status().code() ==
              absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace aad::testing
