// Feature names end to end (issue 12): a CSV header sent with the first
// Ingest message names a session created without names, over gRPC, through
// a restart and through `aadctl ingest` / `aadctl status` against the aadd
// binary; other names, names out of place and bad names are refused naming
// the column, with nothing ingested.
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/aad_client.h"
#include "tests/integration/aadctl_runner.h"
#include "tests/integration/durability_util.h"
#include "tests/integration/server_fixture.h"

namespace aad::testing {
namespace {

using Names = std::vector<std::string>;

Names NamesOf(const aad::v1::SessionInfo& info) {
  return Names(info.feature_names().begin(), info.feature_names().end());
}

// `rows` rows of three features.
std::vector<float> Rows3(int64_t rows) {
  std::vector<float> v;
  for (int64_t i = 0; i < rows; ++i) {
    for (int f = 0; f < 3; ++f) v.push_back(static_cast<float>((i * 5 + f) % 7));
  }
  return v;
}

aad::v1::IngestRequest Message(const std::string& session, const std::string& batch,
                               int64_t rows, const Names& names) {
  aad::v1::IngestRequest m;
  m.set_session_id(session);
  m.set_batch_id(batch);
  m.set_feature_count(3);
  const std::vector<float> values = Rows3(rows);
  m.mutable_values()->Assign(values.begin(), values.end());
  for (const std::string& n : names) m.add_feature_names(n);
  return m;
}

class IngestFeatureNamesTest : public ServerFixture {
 protected:
  IngestFeatureNamesTest() { durable_store_ = true; }

  // A restart of the server on the same data directory.
  void Restart() {
    client_.reset();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
    server_.reset();
    store_.reset();  // releases the directory lock
    auto opened = aad::SqliteSessionStore::Open(data_dir_->path());
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
    aad::ServerOptions options;
    options.address = "127.0.0.1:0";
    options.sessions.training_threads = 2;
    options.sessions.store = store_.get();
    auto server = aad::AaddServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    aad::ClientOptions client_options;
    client_options.target = absl::StrCat("127.0.0.1:", server_->port());
    client_ = std::make_unique<aad::AadClient>(client_options);
  }
};

TEST_F(IngestFeatureNamesTest, TheFirstIngestNamesASessionCreatedWithoutNamesAndARestartKeepsThem) {
  const std::string id = NewSession();
  const Names header = {"mcg", "gvh", "alm"};
  auto ingested = client_->Ingest(id, Rows3(50), 3, "csv", header);
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  auto info = client_->GetSession(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(NamesOf(*info), header);
  EXPECT_EQ(info->feature_count(), 3);

  // Another file with another header: refused naming the column, nothing in.
  auto other = client_->Ingest(id, Rows3(10), 3, "other", Names{"mcg", "GVH", "alm"});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument) << other.status();
  EXPECT_NE(other.status().message().find(absl::StrCat(
                "feature name 1 is 'GVH' in this ingest but 'gvh' in session ", id)),
            std::string::npos)
      << other.status();
  // The same header again is accepted.
  ASSERT_TRUE(client_->Ingest(id, Rows3(10), 3, "more", header).ok());
  info = client_->GetSession(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->rows(), 60);

  Restart();
  if (HasFatalFailure()) return;
  info = client_->GetSession(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(NamesOf(*info), header);
  EXPECT_EQ(info->rows(), 60);
}

TEST_F(IngestFeatureNamesTest, NamesInALaterMessageOfTheStreamAreRefused) {
  const std::string id = NewSession();
  auto reply = client_->IngestMessages(
      id, {Message(id, "m0", 5, {}), Message(id, "m1", 5, {"a", "b", "c"})});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument) << reply.status();
  EXPECT_NE(reply.status().message().find("they may come in the first message only"),
            std::string::npos)
      << reply.status();
  auto info = client_->GetSession(id);
  ASSERT_TRUE(info.ok());
  // The first batch was stored as it arrived; the second and its names not.
  EXPECT_EQ(info->rows(), 5);
  EXPECT_EQ(info->feature_names_size(), 0);
}

TEST_F(IngestFeatureNamesTest, BadNamesAreRefusedNamingTheNameAndNothingIsIngested) {
  const std::string id = NewSession();
  for (const Names& bad : {Names{"a", "", "c"}, Names{"a", "b", "a"}, Names{"a", "b"},
                           Names{"a", "b", std::string(257, 'c')}}) {
    auto reply = client_->IngestMessages(id, {Message(id, "m0", 5, bad)});
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument)
        << absl::StrJoin(bad, ",") << ": " << reply.status();
    EXPECT_NE(reply.status().message().find("feature name"), std::string::npos)
        << reply.status();
  }
  auto info = client_->GetSession(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->rows(), 0);
  EXPECT_EQ(info->feature_names_size(), 0);
}

TEST_F(IngestFeatureNamesTest, ASessionCreatedWithNamesAcceptsTheSameAtIngest) {
  aad::v1::CreateSessionRequest request;
  request.mutable_config()->set_pretrain_epochs(2);
  for (const char* n : {"x", "y", "z"}) request.add_feature_names(n);
  auto created = client_->CreateSession(request);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string id = created->session_id();
  ASSERT_TRUE(client_->Ingest(id, Rows3(8), 3, "same", Names{"x", "y", "z"}).ok());
  auto swapped = client_->Ingest(id, Rows3(8), 3, "swapped", Names{"x", "z", "y"});
  EXPECT_EQ(swapped.status().code(), absl::StatusCode::kInvalidArgument);
  // CreateSession checks names by the same rule.
  aad::v1::CreateSessionRequest repeated;
  for (const char* n : {"x", "x"}) repeated.add_feature_names(n);
  auto refused = client_->CreateSession(repeated);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("feature name 1 'x' repeats feature name 0"),
            std::string::npos)
      << refused.status();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

TEST(AadctlFeatureNames, IngestSendsTheHeaderAndStatusPrintsItAcrossARestart) {
  TempDir data, files;
  const std::string csv = files.path() + "/rows.csv";
  WriteFile(csv, "amount,hour,label,merchant\n1.5,3,nominal,7\n2.5,4,anomaly,8\n0.5,5,nominal,9\n");
  auto aadd = StartAadd(data.path());
  ASSERT_NE(aadd, nullptr);
  const int port = aadd->port();
  const CommandResult created = Aadctl(port, {"create", "--pretrain-epochs=1"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string id = created.output.substr(0, created.output.find('\n'));

  const CommandResult ingested = Aadctl(port, {"ingest", csv, "--session", id});
  ASSERT_EQ(ingested.exit_code, 0) << ingested.output;
  // The label column is not a feature, nor its name.
  const CommandResult status = Aadctl(port, {"status", "--session", id});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find(" features amount,hour,merchant"), std::string::npos)
      << status.output;
  const CommandResult json = Aadctl(port, {"status", "--json", "--session", id});
  EXPECT_NE(json.output.find("\"feature_names\":[\"amount\",\"hour\",\"merchant\"]"),
            std::string::npos)
      << json.output;

  // A file whose header differs in one column is refused, naming it.
  const std::string renamed = files.path() + "/renamed.csv";
  WriteFile(renamed, "amount,minute,merchant\n1,2,3\n");
  const CommandResult refused = Aadctl(port, {"ingest", renamed, "--session", id});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("INVALID_ARGUMENT: feature name 1 is 'minute' in this ingest "
                                "but 'hour' in session"),
            std::string::npos)
      << refused.output;

  std::unique_ptr<aad::AadClient> client;
  StopAadd(aadd.get(), &client);
  aadd = StartAadd(data.path());
  ASSERT_NE(aadd, nullptr);
  const CommandResult restarted = Aadctl(aadd->port(), {"status", "--session", id});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.output;
  EXPECT_NE(restarted.output.find(absl::StrCat(id, " rows 3 ")), std::string::npos)
      << restarted.output;
  EXPECT_NE(restarted.output.find(" features amount,hour,merchant"), std::string::npos)
      << restarted.output;
  StopAadd(aadd.get(), &client);
}

TEST(AadctlFeatureNames, AHeaderOfNumbersIsNotSentAsNames) {
  TempDir data, files;
  const std::string csv = files.path() + "/headless.csv";
  WriteFile(csv, "1,2,3\n4,5,6\n7,8,9\n");
  auto aadd = StartAadd(data.path());
  ASSERT_NE(aadd, nullptr);
  const CommandResult created = Aadctl(aadd->port(), {"create"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string id = created.output.substr(0, created.output.find('\n'));
  const CommandResult ingested = Aadctl(aadd->port(), {"ingest", csv, "--session", id});
  ASSERT_EQ(ingested.exit_code, 0) << ingested.output;
  EXPECT_NE(ingested.output.find("holds numbers only"), std::string::npos) << ingested.output;
  auto client = Connect(aadd->port());
  auto info = client->GetSession(id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->feature_names_size(), 0);
  EXPECT_EQ(info->rows(), 2);
  StopAadd(aadd.get(), &client);
}

}  // namespace
}  // namespace aad::testing
