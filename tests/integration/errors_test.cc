// Every error path answers with DESIGN.md's code and a message that names
// the value.
#include <cmath>
#include <future>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/server_fixture.h"

namespace aad::testing {
namespace {

using ::testing::HasSubstr;

class ErrorsTest : public ServerFixture {
 protected:
  void Configure(aad::ServerOptions* options) override {
    options->max_message_bytes = 1 << 20;
    options->sessions.max_sessions = 4;
    options->sessions.limits.max_rows_per_session = 10000;
    options->sessions.limits.max_features = 64;
  }

  static std::vector<float> Rows(int rows, int cols) {
    std::vector<float> v(rows * cols);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7919) % 101) / 10.0f;
    return v;
  }

  static aad::v1::IngestRequest Batch(const std::string& id, const std::string& batch_id,
                                      const std::vector<float>& values, int cols) {
    aad::v1::IngestRequest m;
    m.set_session_id(id);
    m.set_batch_id(batch_id);
    m.set_feature_count(cols);
    m.mutable_values()->Assign(values.begin(), values.end());
    return m;
  }
};

TEST_F(ErrorsTest, UnknownSessionIsNotFoundNamingTheId) {
  auto s = client_->GetSession("no-such-session");
  ASSERT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("no-such-session"));
  EXPECT_EQ(client_->ScorePoolRows("no-such-session", std::vector<int64_t>{0}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->Train("no-such-session").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->Ingest("no-such-session", Rows(2, 3), 3).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->DeleteSession("no-such-session").code(), absl::StatusCode::kNotFound);
}

TEST_F(ErrorsTest, WrongFeatureCountNamesBothCounts) {
  const std::string id = NewSession();
  ASSERT_TRUE(client_->Ingest(id, Rows(10, 8), 8).ok());
  auto r = client_->Ingest(id, Rows(10, 5), 5);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("5 features"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("8"));
  // A ragged batch: 7 values are not rows of 3.
  auto ragged = client_->IngestMessages(id, {Batch(id, "r", std::vector<float>(7, 1.0f), 8)});
  EXPECT_EQ(ragged.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ErrorsTest, NanAndInfAreRejectedNamingRowAndColumn) {
  const std::string id = NewSession();
  std::vector<float> v = Rows(3, 4);
  v[1 * 4 + 2] = std::numeric_limits<float>::quiet_NaN();
  auto nan = client_->Ingest(id, v, 4);
  ASSERT_EQ(nan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(nan.status().message()), HasSubstr("row 1 column 2 is NaN"));
  v[1 * 4 + 2] = 0;
  v[2 * 4 + 0] = -std::numeric_limits<float>::infinity();
  auto inf = client_->Ingest(id, v, 4);
  ASSERT_EQ(inf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inf.status().message()), HasSubstr("row 2 column 0 is -Inf"));
  auto s = client_->GetSession(id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->rows(), 0) << "a rejected batch must store nothing";
}

TEST_F(ErrorsTest, EmptyBatchIsInvalid) {
  const std::string id = NewSession();
  auto r = client_->IngestMessages(id, {Batch(id, "empty", {}, 4)});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("empty"));
  auto none = client_->IngestMessages(id, {});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ErrorsTest, LabelForUnknownRowIsNotFoundAndStoresNothing) {
  const std::string id = NewSession();
  ASSERT_TRUE(client_->Ingest(id, Rows(20, 3), 3).ok());
  auto r = client_->SubmitLabels(id, {{3, true}, {12345, false}}, false);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("12345"));
  auto s = client_->GetSession(id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->labels(), 0);
}

TEST_F(ErrorsTest, OversizedMessageIsResourceExhausted) {
  const std::string id = NewSession();
  // 2 MiB of floats in one message; the server takes at most 1 MiB.
  auto r = client_->IngestMessages(id, {Batch(id, "big", Rows(8192, 64), 64)});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
}

TEST_F(ErrorsTest, LimitsAreResourceExhausted) {
  const std::string id = NewSession();
  auto rows = client_->Ingest(id, Rows(10001, 2), 2);
  ASSERT_EQ(rows.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(rows.status().message()), HasSubstr("limit of 10000"));
  auto wide = client_->Ingest(id, Rows(2, 65), 65);
  EXPECT_EQ(wide.status().code(), absl::StatusCode::kResourceExhausted);
  for (int i = 0; i < 3; ++i) NewSession();
  aad::v1::CreateSessionRequest request;
  auto fifth = client_->CreateSession(request);
  ASSERT_EQ(fifth.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(fifth.status().message()), HasSubstr("limit is 4"));
}

TEST_F(ErrorsTest, ScoringBeforeAnyModelIsFailedPrecondition) {
  const std::string id = NewSession();
  ASSERT_TRUE(client_->Ingest(id, Rows(20, 3), 3).ok());
  auto r = client_->ScoreRows(id, Rows(2, 3), 3);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(id));
  EXPECT_EQ(client_->GetQueryCandidates(id, 3).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Training an empty session is refused too.
  EXPECT_EQ(client_->Train(NewSession()).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ErrorsTest, InvalidConfigurationNamesTheField) {
  aad::v1::CreateSessionRequest request;
  request.mutable_config()->set_batch_size(-3);
  auto r = client_->CreateSession(request);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("-3"));

  aad::v1::CreateSessionRequest scale;
  scale.mutable_config()->set_leaf_input_scale(-2.5f);
  auto bad_scale = client_->CreateSession(scale);
  ASSERT_EQ(bad_scale.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_scale.status().message()), HasSubstr("leaf_input_scale"));
  EXPECT_THAT(std::string(bad_scale.status().message()), HasSubstr("-2.5"));
}

TEST_F(ErrorsTest, LeafInputSettingsAreKeptAndReported) {
  aad::v1::CreateSessionRequest defaults;
  auto with = client_->CreateSession(defaults);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_TRUE(with->config().leaf_inputs());
  EXPECT_EQ(with->config().leaf_input_scale(), 30.0f);
  aad::v1::CreateSessionRequest off;
  off.mutable_config()->set_leaf_inputs(false);
  off.mutable_config()->set_leaf_input_scale(12.0f);
  auto without = client_->CreateSession(off);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_FALSE(without->config().leaf_inputs());
  EXPECT_EQ(without->config().leaf_input_scale(), 12.0f);
}

TEST_F(ErrorsTest, RetriedBatchIdIsStoredOnce) {
  const std::string id = NewSession();
  const std::vector<float> a = Rows(10, 3), b = Rows(5, 3);
  auto first = client_->IngestMessages(id, {Batch(id, "a", a, 3), Batch(id, "b", b, 3)});
  ASSERT_TRUE(first.ok()) << first.status();
  // The retry of the whole stream, as a client does after a lost reply.
  auto retry = client_->IngestMessages(id, {Batch(id, "a", a, 3), Batch(id, "b", b, 3)});
  ASSERT_TRUE(retry.ok()) << retry.status();
  ASSERT_EQ(retry->batches_size(), 2);
  EXPECT_TRUE(retry->batches(0).duplicate());
  EXPECT_EQ(retry->batches(0).first_row_id(), 0);
  EXPECT_EQ(retry->batches(1).first_row_id(), 10);
  EXPECT_EQ(retry->total_rows(), 15);
  // The same id with other rows is a conflict, not a silent drop.
  auto conflict = client_->IngestMessages(id, {Batch(id, "a", Rows(4, 3), 3)});
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  auto s = client_->GetSession(id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->rows(), 15);
}

// A session whose training runs far longer than any test waits (10000
// epochs over 5000 rows): the call's own deadline or
// cancellation must stop it.
std::string EndlessSession(aad::AadClient* client, const std::vector<float>& rows) {
  aad::v1::CreateSessionRequest request;
  request.mutable_config()->set_pretrain_epochs(10000);
  request.mutable_config()->set_max_pretrain_rows(std::numeric_limits<int64_t>::max() / 2);
  request.mutable_config()->set_hidden_units(8);
  request.mutable_config()->set_latent_units(2);
  auto info = client->CreateSession(request);
  EXPECT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(client->Ingest(info->session_id(), rows, 4).ok());
  return info->session_id();
}

// Waits, by asking the server, until the session's trainer is idle again;
// fails the test if it is not within a minute.
void AwaitIdle(aad::AadClient* client, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  aad::v1::TrainingState last = aad::v1::TRAINING_STATE_UNSPECIFIED;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = client->GetSession(id);
    ASSERT_TRUE(s.ok()) << s.status();
    last = s->training_state();
    if (last == aad::v1::TRAINING_STATE_IDLE) return;
  }
  FAIL() << "session " << id << " still not idle after a minute (state " << last << ")";
}

TEST_F(ErrorsTest, DeadlineDuringTrainingStopsTheRun) {
  const std::string id = EndlessSession(client_.get(), Rows(5000, 4));
  aad::ClientOptions o;
  o.target = absl::StrCat("127.0.0.1:", server_->port());
  o.train_timeout = std::chrono::milliseconds(1500);
  aad::AadClient short_client(o);
  // The first progress message proves training was running when the
  // deadline passed.
  bool saw_progress = false;
  auto r = short_client.Train(id, [&](const aad::v1::TrainResponse& m) {
    saw_progress = saw_progress || m.epoch() > 0;
  });
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_TRUE(saw_progress);
  AwaitIdle(client_.get(), id);
  auto s = client_->GetSession(id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->model_version(), 0);
  EXPECT_FALSE(s->last_training_error().empty());
}

TEST_F(ErrorsTest, CancelledTrainStreamKeepsThePreviousModel) {
  // A quick first model, then an endless run on the same session that the
  // client cancels: the first model must still serve, unchanged.
  const std::string id = EndlessSession(client_.get(), Rows(5000, 4));
  auto v1 = client_->Train(id, {}, {}, /*pretrain_epochs=*/2);
  ASSERT_TRUE(v1.ok()) << v1.status();
  ASSERT_EQ(*v1, 1);
  auto before = client_->ScoreRows(id, Rows(3, 4), 4);
  ASSERT_TRUE(before.ok());

  grpc::ClientContext* context = nullptr;
  bool cancelled = false;
  auto r = client_->Train(
      id,
      [&](const aad::v1::TrainResponse& m) {
        if (!cancelled && m.epoch() > 0) {
          cancelled = true;
          context->TryCancel();
        }
      },
      [&](grpc::ClientContext* c) { context = c; });
  ASSERT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  EXPECT_TRUE(cancelled);
  AwaitIdle(client_.get(), id);
  auto after = client_->ScoreRows(id, Rows(3, 4), 4);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->model_version(), 1);
  EXPECT_EQ(std::vector<float>(after->p().begin(), after->p().end()),
            std::vector<float>(before->p().begin(), before->p().end()));
  auto s = client_->GetSession(id);
  ASSERT_TRUE(s.ok());
  EXPECT_THAT(s->last_training_error(), HasSubstr("cancel"));
}

TEST_F(ErrorsTest, SecondTrainWhileTrainingIsFailedPrecondition) {
  const std::string id = EndlessSession(client_.get(), Rows(5000, 4));
  grpc::ClientContext* context = nullptr;
  absl::Status second;
  auto r = client_->Train(
      id,
      [&](const aad::v1::TrainResponse& m) {
        if (m.epoch() == 1) {
          second = client_->Train(id).status();
          context->TryCancel();
        }
      },
      [&](grpc::ClientContext* c) { context = c; });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition) << second;
  EXPECT_THAT(std::string(second.message()), HasSubstr("already training"));
}

}  // namespace
}  // namespace aad::testing

namespace aad::testing {
namespace {

class SessionIdTest : public ServerFixture {};

TEST_F(SessionIdTest, ClientChosenIdIsKeptAndATakenOneIsAlreadyExists) {
  aad::v1::CreateSessionRequest request;
  request.set_session_id("fraud-team_7");
  auto created = client_->CreateSession(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->session_id(), "fraud-team_7");
  auto again = client_->CreateSession(request);
  ASSERT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.status().message()), ::testing::HasSubstr("fraud-team_7"));
}

TEST_F(SessionIdTest, MalformedIdIsInvalidNamingIt) {
  aad::v1::CreateSessionRequest request;
  request.set_session_id("no spaces/please");
  auto created = client_->CreateSession(request);
  ASSERT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(created.status().message()), ::testing::HasSubstr("no spaces/please"));
}

TEST_F(SessionIdTest, WithoutAnIdTheClientNamesTheSession) {
  auto a = client_->CreateSession(aad::v1::CreateSessionRequest());
  auto b = client_->CreateSession(aad::v1::CreateSessionRequest());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->session_id().size(), 32u);
  EXPECT_NE(a->session_id(), b->session_id());
}

}  // namespace
}  // namespace aad::testing

namespace aad::testing {
namespace {

class RequestFieldTest : public ServerFixture {};

TEST_F(RequestFieldTest, NegativePretrainEpochsAreInvalidNamingTheValue) {
  // issue 17, defect 3: -1 and -5 used to run the session's default.
  const std::string id = NewSession();
  std::vector<float> rows(400);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i % 13);
  ASSERT_TRUE(client_->Ingest(id, rows, 4).ok());
  for (int epochs : {-1, -5}) {
    auto r = client_->Train(id, {}, {}, epochs);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_NE(r.status().message().find(absl::StrCat("got ", epochs)), std::string::npos)
        << r.status();
  }
  auto none = client_->GetSession(id);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->model_version(), 0) << "a refused run trained nothing";
  auto zero = client_->Train(id, {}, {}, 0);  // 0 keeps its meaning: no pre-training
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(*zero, 1);
}

TEST_F(RequestFieldTest, AGarbagePageTokenIsInvalid) {
  // issue 17, defect 4: it answered OK with an empty page.
  ASSERT_FALSE(NewSession().empty());
  auto stub = v1::ActiveAnomalyDetection::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::ListSessionsRequest request;
  request.set_page_token("%%% not a token");
  v1::ListSessionsResponse response;
  const grpc::Status status = stub->ListSessions(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("page_token '%%% not a token'"), std::string::npos)
      << status.error_message();
  // A token this server gave still pages.
  grpc::ClientContext again;
  request.set_page_token("");
  request.set_page_size(1);
  ASSERT_TRUE(stub->ListSessions(&again, request, &response).ok());
  EXPECT_EQ(response.sessions_size(), 1);
}

}  // namespace
}  // namespace aad::testing
