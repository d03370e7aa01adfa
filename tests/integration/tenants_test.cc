// Bearer tokens and tenants (issue 14) through the real server: in-process
// where that is enough, the aadd binary for the token file's start-up
// checks, SIGHUP reloads and restarts.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client/aad_client.h"
#include "tests/integration/aadctl_runner.h"
#include "tests/integration/aadd_process.h"
#include "tests/integration/server_fixture.h"
#include "tests/testing/temp_dir.h"

namespace aad::testing {
namespace {

constexpr char kTokenA[] = "token-of-tenant-a-0123456789";
constexpr char kTokenA2[] = "second-token-of-a-0123456789";
constexpr char kTokenB[] = "token-of-tenant-b-0123456789";

// Writes `text` as a token file readable by its owner only (or `mode`).
std::string WriteTokenFile(const std::string& path, const std::string& text,
                           mode_t mode = 0600) {
  std::ofstream(path, std::ios::trunc) << text;
  EXPECT_EQ(chmod(path.c_str(), mode), 0) << path;
  return path;
}

aad::v1::CreateSessionRequest Small(const std::string& id = "") {
  aad::v1::CreateSessionRequest request;
  request.set_session_id(id);
  request.mutable_config()->set_pretrain_epochs(2);
  request.mutable_config()->set_hidden_units(8);
  request.mutable_config()->set_latent_units(2);
  return request;
}

std::vector<float> Rows(int rows, int features) {
  std::vector<float> values(static_cast<size_t>(rows) * features);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 37) % 11) / 11;
  return values;
}

class TenantsTest : public ServerFixture {
 protected:
  void Configure(aad::ServerOptions* options) override {
    tokens_path_ = WriteTokenFile(tokens_dir_.path() + "/tokens",
                                  absl::StrCat("# two tenants\n", kTokenA, " acme\n", kTokenA2,
                                               " acme\n", kTokenB, " globex\n"));
    options->auth_tokens_file = tokens_path_;
    options->sessions.max_sessions_per_tenant = max_sessions_per_tenant_;
    options->sessions.max_rows_per_tenant = max_rows_per_tenant_;
  }

  std::unique_ptr<AadClient> ClientWith(const std::string& token) {
    ClientOptions options;
    options.target = absl::StrCat("127.0.0.1:", server_->port());
    options.timeout = std::chrono::seconds(60);
    options.max_attempts = 1;
    options.token = token;
    return std::make_unique<AadClient>(options);
  }

  // Every RPC that names a session, on `id`, as `client`: the status each
  // answers, by method.
  std::map<std::string, absl::Status> EveryCallOn(AadClient* client, const std::string& id) {
    std::map<std::string, absl::Status> out;
    const std::vector<float> row = Rows(1, 3);
    out["GetSession"] = client->GetSession(id).status();
    out["Ingest"] = client->Ingest(id, row, 3).status();
    out["Train"] = client->Train(id).status();
    out["ScoreRows"] = client->ScoreRows(id, row, 3).status();
    out["ScorePoolRows"] = client->ScorePoolRows(id, std::vector<int64_t>{0}).status();
    out["GetQueryCandidates"] = client->GetQueryCandidates(id, 1).status();
    out["SubmitLabels"] = client->SubmitLabels(id, {{0, true}}, false).status();
    out["ExportSession"] = client->ExportSession(id).status();
    out["DeleteSession"] = client->DeleteSession(id);
    return out;
  }

  TempDir tokens_dir_;
  std::string tokens_path_;
  int64_t max_sessions_per_tenant_ = 0;
  int64_t max_rows_per_tenant_ = 0;
};

TEST_F(TenantsTest, EveryCallWithoutAValidTokenIsUnauthenticated) {
  auto anonymous = ClientWith("");
  auto wrong = ClientWith("not-a-token-of-this-server-42");
  for (AadClient* client : {anonymous.get(), wrong.get()}) {
    std::map<std::string, absl::Status> calls = EveryCallOn(client, "some-id");
    calls["CreateSession"] = client->CreateSession(Small()).status();
    calls["ListSessions"] = client->ListSessions().status();
    calls["ImportSession"] = client->ImportSession("archive", "").status();
    for (const auto& [method, status] : calls) {
      EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << method << ": " << status;
      EXPECT_EQ(status.message().find("not-a-token"), std::string::npos) << status;
    }
  }
  EXPECT_NE(anonymous->GetSession("x").status().message().find("no bearer token"),
            std::string::npos);
  EXPECT_NE(wrong->GetSession("x").status().message().find("bearer token is not valid"),
            std::string::npos);
}

TEST_F(TenantsTest, HealthCheckingAnswersWithoutAToken) {
  auto health = ClientWith("")->Health();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
}

// Tenant B sees tenant A's session exactly as it sees an id nobody holds:
// the same code and message from every call, before and after A deletes
// it, and A's session is untouched.
TEST_F(TenantsTest, AnotherTenantsSessionIsNotFoundOnEveryCallAsAnUnknownIdIs) {
  auto a = ClientWith(kTokenA);
  auto b = ClientWith(kTokenB);
  ASSERT_TRUE(a->CreateSession(Small("owned-by-a")).ok());
  const std::vector<float> rows = Rows(64, 3);
  ASSERT_TRUE(a->Ingest("owned-by-a", rows, 3).ok());
  ASSERT_TRUE(a->Train("owned-by-a").ok());

  const std::map<std::string, absl::Status> held = EveryCallOn(b.get(), "owned-by-a");
  for (const auto& [method, status] : held) {
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << method << ": " << status;
  }
  auto info = a->GetSession("owned-by-a");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rows(), 64);
  EXPECT_EQ(info->labels(), 0);

  ASSERT_TRUE(a->DeleteSession("owned-by-a").ok());
  const std::map<std::string, absl::Status> unknown = EveryCallOn(b.get(), "owned-by-a");
  for (const auto& [method, status] : held) {
    EXPECT_EQ(status, unknown.at(method)) << method;
  }
}

// Ids are one namespace per server: a taken id is ALREADY_EXISTS whoever
// holds it, in the same words (server/session_manager.cc, Reserve).
TEST_F(TenantsTest, AnIdAnotherTenantHoldsIsTakenInTheSameWordsAsOnesOwn) {
  auto a = ClientWith(kTokenA);
  auto b = ClientWith(kTokenB);
  ASSERT_TRUE(a->CreateSession(Small("taken")).ok());
  absl::Status by_b = b->CreateSession(Small("taken")).status();
  absl::Status by_a = a->CreateSession(Small("taken")).status();
  EXPECT_EQ(by_b.code(), absl::StatusCode::kAlreadyExists) << by_b;
  EXPECT_EQ(by_b, by_a);
  auto archive = a->ExportSession("taken");
  ASSERT_TRUE(archive.ok()) << archive.status();
  absl::Status imported = b->ImportSession(*archive, "taken").status();
  EXPECT_EQ(imported.code(), absl::StatusCode::kAlreadyExists) << imported;
  EXPECT_EQ(a->GetSession("taken")->session_id(), "taken");
}

TEST_F(TenantsTest, ListSessionsShowsEachTenantItsOwnInEveryPage) {
  auto a = ClientWith(kTokenA);
  auto a2 = ClientWith(kTokenA2);
  auto b = ClientWith(kTokenB);
  // Interleaved ids, so that pages of one tenant skip the other's.
  for (const char* id : {"s1", "s3", "s5"}) ASSERT_TRUE(a->CreateSession(Small(id)).ok());
  for (const char* id : {"s2", "s4"}) ASSERT_TRUE(b->CreateSession(Small(id)).ok());
  auto ids = [](AadClient* client) {
    std::vector<std::string> out;
    auto all = client->ListSessions();  // every page
    EXPECT_TRUE(all.ok()) << all.status();
    if (all.ok()) {
      for (const auto& s : *all) out.push_back(s.session_id());
    }
    return out;
  };
  EXPECT_EQ(ids(a.get()), (std::vector<std::string>{"s1", "s3", "s5"}));
  // Another token of the same tenant sees the same sessions.
  EXPECT_EQ(ids(a2.get()), (std::vector<std::string>{"s1", "s3", "s5"}));
  EXPECT_EQ(ids(b.get()), (std::vector<std::string>{"s2", "s4"}));

  // One page at a time: a page holds only the caller's, and its token
  // leads to the caller's next.
  std::vector<std::string> paged;
  aad::v1::ListSessionsRequest request;
  request.set_page_size(1);
  for (int pages = 0; pages < 10; ++pages) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kTokenB));
    aad::v1::ListSessionsResponse response;
    grpc::Status status = b->stub()->ListSessions(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_LE(response.sessions_size(), 1);
    for (const auto& s : response.sessions()) paged.push_back(s.session_id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"s2", "s4"}));
}

TEST_F(TenantsTest, AnImportBelongsToTheImporter) {
  auto a = ClientWith(kTokenA);
  auto b = ClientWith(kTokenB);
  ASSERT_TRUE(a->CreateSession(Small("original")).ok());
  ASSERT_TRUE(a->Ingest("original", Rows(16, 3), 3).ok());
  auto archive = a->ExportSession("original");
  ASSERT_TRUE(archive.ok()) << archive.status();
  auto imported = b->ImportSession(*archive, "copy");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->rows(), 16);
  EXPECT_TRUE(b->GetSession("copy").ok());
  EXPECT_EQ(a->GetSession("copy").status().code(), absl::StatusCode::kNotFound);
  auto listed = b->ListSessions();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].session_id(), "copy");
}

TEST_F(TenantsTest, AadctlTakesItsTokenFromTheFlagOrAaddToken) {
  ASSERT_TRUE(ClientWith(kTokenA)->CreateSession(Small("of-acme")).ok());
  ASSERT_TRUE(ClientWith(kTokenB)->CreateSession(Small("of-globex")).ok());
  const int port = server_->port();
  CommandResult none = Aadctl(port, {"sessions"});
  EXPECT_EQ(none.exit_code, 1) << none.output;
  EXPECT_NE(none.output.find("no bearer token"), std::string::npos) << none.output;

  CommandResult by_flag = Aadctl(port, {absl::StrCat("--token=", kTokenA), "sessions"});
  EXPECT_EQ(by_flag.exit_code, 0) << by_flag.output;
  EXPECT_NE(by_flag.output.find("of-acme"), std::string::npos) << by_flag.output;
  EXPECT_EQ(by_flag.output.find("of-globex"), std::string::npos) << by_flag.output;

  // popen's shell and aadctl inherit the environment.
  ASSERT_EQ(setenv("AADD_TOKEN", kTokenB, 1), 0);
  CommandResult by_env = Aadctl(port, {"sessions"});
  CommandResult flag_first = Aadctl(port, {absl::StrCat("--token=", kTokenA), "sessions"});
  unsetenv("AADD_TOKEN");
  EXPECT_EQ(by_env.exit_code, 0) << by_env.output;
  EXPECT_NE(by_env.output.find("of-globex"), std::string::npos) << by_env.output;
  EXPECT_EQ(by_env.output.find("of-acme"), std::string::npos) << by_env.output;
  EXPECT_NE(flag_first.output.find("of-acme"), std::string::npos) << flag_first.output;
  EXPECT_EQ(flag_first.output.find("of-globex"), std::string::npos) << flag_first.output;
}

class TenantLimitsTest : public TenantsTest {
 protected:
  TenantLimitsTest() {
    max_sessions_per_tenant_ = 2;
    max_rows_per_tenant_ = 100;
  }
};

TEST_F(TenantLimitsTest, ATenantsSessionLimitCountsItsOwnOnly) {
  auto a = ClientWith(kTokenA);
  auto b = ClientWith(kTokenB);
  ASSERT_TRUE(a->CreateSession(Small()).ok());
  ASSERT_TRUE(a->CreateSession(Small()).ok());
  absl::Status third = a->CreateSession(Small()).status();
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted) << third;
  EXPECT_EQ(third.message(),
            "tenant 'acme' holds 2 sessions, the limit is 2 (--max_sessions_per_tenant)");
  // B's count is its own.
  ASSERT_TRUE(b->CreateSession(Small()).ok());
  ASSERT_TRUE(b->CreateSession(Small()).ok());
  EXPECT_EQ(b->CreateSession(Small()).status().message(),
            "tenant 'globex' holds 2 sessions, the limit is 2 (--max_sessions_per_tenant)");
}

// The aadd binary with a token file.
class TenantsProcessTest : public ::testing::Test {
 protected:
  std::string Tokens(const std::string& text, mode_t mode = 0600) {
    return WriteTokenFile(path_, text, mode);
  }
  std::unique_ptr<AadClient> ClientOf(int port, const std::string& token) {
    ClientOptions options;
    options.target = absl::StrCat("127.0.0.1:", port);
    options.timeout = std::chrono::seconds(60);
    options.max_attempts = 1;
    options.token = token;
    return std::make_unique<AadClient>(options);
  }
  TempDir dir_;
  const std::string path_ = dir_.path() + "/tokens";
};

TEST_F(TenantsProcessTest, AWorldReadableTokenFileStopsTheStartNamingFileAndMode) {
  Tokens(absl::StrCat(kTokenA, " acme\n"), 0644);
  AaddProcess aadd;
  absl::Status started =
      aadd.Start(AADD_BINARY, {"--port=0", "--in_memory", "--auth_tokens=" + path_});
  EXPECT_FALSE(started.ok());
  EXPECT_NE(WEXITSTATUS(aadd.WaitExit()), 0);
  EXPECT_NE(aadd.log().find(path_ + " is world-readable (mode 0644)"), std::string::npos)
      << aadd.log();
}

TEST_F(TenantsProcessTest, AMalformedLineStopsTheStartNamingFileAndLineNotTheToken) {
  Tokens(absl::StrCat("# ok\n", kTokenA, " acme\n", kTokenB, " glo/bex\n"));
  AaddProcess aadd;
  absl::Status started =
      aadd.Start(AADD_BINARY, {"--port=0", "--in_memory", "--auth_tokens=" + path_});
  EXPECT_FALSE(started.ok());
  EXPECT_NE(WEXITSTATUS(aadd.WaitExit()), 0);
  const std::string log = aadd.log();
  EXPECT_NE(log.find(path_ + " line 3: tenant 'glo/bex' is not 1-64 characters"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(kTokenB), std::string::npos) << log;
}

// A reload adds one token and removes another while the server serves;
// a reload that fails keeps the table it had. No token reaches the log.
TEST_F(TenantsProcessTest, SighupReloadsTheTokens) {
  Tokens(absl::StrCat(kTokenA, " acme\n", kTokenA2, " acme\n"));
  AaddProcess aadd;
  ASSERT_TRUE(aadd.Start(AADD_BINARY, {"--port=0", "--in_memory", "--auth_tokens=" + path_}).ok())
      << aadd.log();
  EXPECT_TRUE(aadd.WaitForLog("auth tokens loaded: 2 tokens for 1 tenants", std::chrono::seconds(5)))
      << aadd.log();
  EXPECT_TRUE(aadd.WaitForLog("tokens cross the network in plaintext", std::chrono::seconds(5)));
  auto a = ClientOf(aadd.port(), kTokenA);
  auto a2 = ClientOf(aadd.port(), kTokenA2);
  auto b = ClientOf(aadd.port(), kTokenB);
  ASSERT_TRUE(a->CreateSession(Small("kept")).ok());
  EXPECT_EQ(b->ListSessions().status().code(), absl::StatusCode::kUnauthenticated);

  // An Ingest stream opened with A2's token, open across the reload that
  // revokes it: a call is checked when it starts, and none is dropped.
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kTokenA2));
  aad::v1::IngestResponse ingested;
  auto stream = a2->stub()->Ingest(&context, &ingested);
  aad::v1::IngestRequest batch;
  batch.set_session_id("kept");
  batch.set_feature_count(3);
  for (float v : Rows(2, 3)) batch.add_values(v);
  batch.set_batch_id("before-reload");
  ASSERT_TRUE(stream->Write(batch));
  // Stored means the server has started (and authenticated) the call.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (a->GetSession("kept")->rows() < 2) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the first batch was never stored";
  }

  // A2 revoked, B added.
  Tokens(absl::StrCat(kTokenA, " acme\n", kTokenB, " globex\n"));
  aadd.Signal(SIGHUP);
  ASSERT_TRUE(aadd.WaitForLog("auth tokens reloaded: 2 tokens for 2 tenants",
                              std::chrono::seconds(30)))
      << aadd.log();
  batch.set_batch_id("after-reload");
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_TRUE(stream->WritesDone());
  const grpc::Status finished = stream->Finish();
  ASSERT_TRUE(finished.ok()) << finished.error_message();
  EXPECT_EQ(ingested.total_rows(), 4);
  EXPECT_TRUE(a->GetSession("kept").ok());
  EXPECT_EQ(a2->GetSession("kept").status().code(), absl::StatusCode::kUnauthenticated);
  auto listed = b->ListSessions();
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_TRUE(listed->empty());

  // A broken file: logged naming it, the table stays.
  Tokens(absl::StrCat(kTokenA, "\n"));
  aadd.Signal(SIGHUP);
  ASSERT_TRUE(aadd.WaitForLog("auth tokens not reloaded", std::chrono::seconds(30)))
      << aadd.log();
  EXPECT_NE(aadd.log().find(path_ + " line 1: expected 'TOKEN TENANT'"), std::string::npos);
  EXPECT_TRUE(b->ListSessions().ok());

  const std::string log = aadd.log();
  for (const char* token : {kTokenA, kTokenA2, kTokenB}) {
    EXPECT_EQ(log.find(token), std::string::npos) << log;
  }
  aadd.Signal(SIGTERM);
  EXPECT_EQ(WEXITSTATUS(aadd.WaitExit()), 0);
}

TEST_F(TenantsProcessTest, TheTenantSurvivesARestart) {
  Tokens(absl::StrCat(kTokenA, " acme\n", kTokenB, " globex\n"));
  const std::string data_dir = dir_.path() + "/data";
  const std::vector<std::string> args = {"--port=0", "--data_dir=" + data_dir,
                                         "--auth_tokens=" + path_};
  {
    AaddProcess aadd;
    ASSERT_TRUE(aadd.Start(AADD_BINARY, args).ok()) << aadd.log();
    ASSERT_TRUE(ClientOf(aadd.port(), kTokenA)->CreateSession(Small("of-a")).ok());
    ASSERT_TRUE(ClientOf(aadd.port(), kTokenB)->CreateSession(Small("of-b")).ok());
    aadd.Signal(SIGTERM);
    EXPECT_EQ(WEXITSTATUS(aadd.WaitExit()), 0);
  }
  AaddProcess aadd;
  ASSERT_TRUE(aadd.Start(AADD_BINARY, args).ok()) << aadd.log();
  auto a = ClientOf(aadd.port(), kTokenA);
  auto b = ClientOf(aadd.port(), kTokenB);
  auto of_a = a->ListSessions();
  ASSERT_TRUE(of_a.ok()) << of_a.status();
  ASSERT_EQ(of_a->size(), 1u);
  EXPECT_EQ((*of_a)[0].session_id(), "of-a");
  EXPECT_EQ(b->GetSession("of-a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(b->GetSession("of-b").ok());
  aadd.Signal(SIGTERM);
  EXPECT_EQ(WEXITSTATUS(aadd.WaitExit()), 0);
}

// Rows count over all of a tenant's sessions, imports included, and a
// deleted session gives its rows back.
TEST_F(TenantLimitsTest, ATenantsRowLimitSpansItsSessions) {
  auto a = ClientWith(kTokenA);
  auto b = ClientWith(kTokenB);
  ASSERT_TRUE(a->CreateSession(Small("a1")).ok());
  ASSERT_TRUE(a->CreateSession(Small("a2")).ok());
  ASSERT_TRUE(a->Ingest("a1", Rows(60, 3), 3).ok());
  absl::Status over = a->Ingest("a2", Rows(50, 3), 3).status();
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted) << over;
  EXPECT_NE(over.message().find("tenant 'acme' holds 60 rows; 50 more would pass its limit of "
                                "100 (--max_rows_per_tenant)"),
            std::string::npos)
      << over;
  ASSERT_TRUE(a->Ingest("a2", Rows(40, 3), 3).ok());
  // B's rows are its own.
  ASSERT_TRUE(b->CreateSession(Small("b1")).ok());
  ASSERT_TRUE(b->Ingest("b1", Rows(100, 3), 3).ok());
  auto archive = b->ExportSession("b1");
  ASSERT_TRUE(archive.ok()) << archive.status();
  ASSERT_TRUE(b->DeleteSession("b1").ok());
  // An import counts; a deleted session's rows are free again.
  auto imported = b->ImportSession(*archive, "b2");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(a->ImportSession(*archive, "a3").status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace aad::testing
