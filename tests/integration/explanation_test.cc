// Explanations over the wire: candidates carry them with the session's
// feature names, Score gives them when asked, they follow the labels, and
// bad explain options are INVALID_ARGUMENT naming the value.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/util/random.h"
#include "tests/integration/server_fixture.h"

namespace aad::testing {
namespace {

constexpr int kDims = 6;
constexpr int kRows = 1000;
const std::vector<std::string> kNames = {"amount", "hour", "velocity", "country", "merchant",
                                         "device"};

class ExplanationTest : public ServerFixture {
 protected:
  // Gaussian rows; rows 0..9 are anomalies planted in "hour" and "merchant"
  // (+6 standard deviations each).
  static std::vector<float> Rows() {
    aad::Rng rng(11);
    std::vector<float> v(kRows * kDims);
    for (float& x : v) x = static_cast<float>(rng.Normal());
    for (int r = 0; r < 10; ++r) {
      v[r * kDims + 1] += 6.0f;
      v[r * kDims + 4] += 6.0f;
    }
    return v;
  }

  // A trained session over Rows(), with feature names.
  std::string TrainedSession() {
    aad::v1::CreateSessionRequest request;
    request.mutable_config()->set_pretrain_epochs(3);
    request.mutable_config()->set_hidden_units(16);
    request.mutable_config()->set_latent_units(4);
    for (const std::string& n : kNames) request.add_feature_names(n);
    auto info = client_->CreateSession(request);
    EXPECT_TRUE(info.ok()) << info.status();
    if (!info.ok()) return "";
    rows_ = Rows();
    EXPECT_TRUE(client_->Ingest(info->session_id(), rows_, kDims).ok());
    EXPECT_TRUE(client_->Train(info->session_id()).ok());
    return info->session_id();
  }

  grpc::Status Score(const aad::v1::ScoreRequest& request, aad::v1::ScoreResponse* response) {
    grpc::ClientContext context;
    return client_->stub()->Score(&context, request, response);
  }

  std::vector<float> rows_;
};

TEST_F(ExplanationTest, CandidatesAreExplainedWithTheSessionsFeatureNames) {
  const std::string id = TrainedSession();
  auto c = client_->GetQueryCandidates(id, 5);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->row_ids_size(), 5);
  ASSERT_EQ(c->explanations_size(), 5);
  EXPECT_EQ(std::vector<std::string>(c->feature_names().begin(), c->feature_names().end()),
            kNames);
  for (int i = 0; i < 5; ++i) {
    const aad::v1::Explanation& e = c->explanations(i);
    ASSERT_EQ(e.top_size(), 5) << "the default names five features";
    // The top candidates are the planted rows; their planted features lead.
    ASSERT_LT(c->row_ids(i), 10) << "candidate " << i;
    const std::string first = e.top(0).name(), second = e.top(1).name();
    EXPECT_TRUE((first == "hour" && second == "merchant") ||
                (first == "merchant" && second == "hour"))
        << "row " << c->row_ids(i) << " explained by " << first << ", " << second;
    for (const aad::v1::FeatureContribution& f : e.top()) {
      EXPECT_EQ(f.name(), kNames[f.feature()]);
      EXPECT_EQ(f.value(), c->values(i * kDims + f.feature()));
      EXPECT_GT(f.spread(), 0.0f);
    }
  }
  auto fewer = client_->GetQueryCandidates(id, 2, aad::v1::QUERY_STRATEGY_UNSPECIFIED,
                                           std::nullopt, 2);
  ASSERT_TRUE(fewer.ok()) << fewer.status();
  ASSERT_EQ(fewer->explanations_size(), 2);
  EXPECT_EQ(fewer->explanations(0).top_size(), 2);
  auto none = client_->GetQueryCandidates(id, 2, aad::v1::QUERY_STRATEGY_UNSPECIFIED,
                                          std::nullopt, 0);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->explanations_size(), 0);
}

TEST_F(ExplanationTest, ScoreExplainsWhenAskedAndTheExplanationFollowsTheLabels) {
  const std::string id = TrainedSession();
  aad::v1::ScoreRequest request;
  request.set_session_id(id);
  request.add_row_ids(500);
  request.add_row_ids(3);
  aad::v1::ScoreResponse plain;
  ASSERT_TRUE(Score(request, &plain).ok());
  EXPECT_EQ(plain.explanations_size(), 0) << "no explanations unless asked";

  request.set_explain(true);
  request.set_explain_top(kDims);
  aad::v1::ScoreResponse before;
  ASSERT_TRUE(Score(request, &before).ok());
  ASSERT_EQ(before.explanations_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(before.explanations(i).logit(), before.logit(i));
    EXPECT_EQ(before.logit(i), plain.logit(i)) << "explaining changes no score";
  }
  // The same rows sent inline get the same explanation.
  aad::v1::ScoreRequest inline_rows;
  inline_rows.set_session_id(id);
  inline_rows.set_feature_count(kDims);
  for (int64_t r : {500, 3}) {
    for (int f = 0; f < kDims; ++f) inline_rows.add_values(rows_[r * kDims + f]);
  }
  inline_rows.set_explain(true);
  inline_rows.set_explain_top(kDims);
  aad::v1::ScoreResponse inline_response;
  ASSERT_TRUE(Score(inline_rows, &inline_response).ok());
  EXPECT_EQ(inline_response.explanations(1).SerializeAsString(),
            before.explanations(1).SerializeAsString());

  // The expert says rows with a high "amount" are the anomalies.
  std::vector<std::pair<int64_t, bool>> labels;
  int anomalies = 0;
  for (int r = 10; r < kRows && anomalies < 15; ++r) {
    if (rows_[r * kDims] > 1.5f) {
      labels.push_back({r, true});
      ++anomalies;
    } else if (labels.size() < 45) {
      labels.push_back({r, false});
    }
  }
  ASSERT_TRUE(client_->SubmitLabels(id, labels, /*wait_for_model=*/true).ok());
  aad::v1::ScoreResponse after;
  ASSERT_TRUE(Score(request, &after).ok());
  ASSERT_GT(after.model_version(), before.model_version());
  auto amount = [](const aad::v1::Explanation& e) {
    for (const auto& f : e.top()) {
      if (f.name() == "amount") return f.contribution();
    }
    return 0.0f;
  };
  // Row 500's explanation moved with the weights: "amount" now counts for
  // more (in either direction, by the sign of its value).
  EXPECT_NE(after.explanations(0).SerializeAsString(), before.explanations(0).SerializeAsString());
  EXPECT_GT(std::abs(amount(after.explanations(0))), std::abs(amount(before.explanations(0))));
}

TEST_F(ExplanationTest, BadExplainOptionsNameTheValue) {
  const std::string id = TrainedSession();
  auto c = client_->GetQueryCandidates(id, 2, aad::v1::QUERY_STRATEGY_UNSPECIFIED, std::nullopt,
                                       1001);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("1001"), absl::string_view::npos) << c.status();
  c = client_->GetQueryCandidates(id, 2, aad::v1::QUERY_STRATEGY_UNSPECIFIED, std::nullopt, -3);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("-3"), absl::string_view::npos) << c.status();

  aad::v1::ScoreRequest request;
  request.set_session_id(id);
  request.add_row_ids(1);
  request.set_explain_top(3);  // without explain
  aad::v1::ScoreResponse response;
  grpc::Status status = Score(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("explain"), std::string::npos) << status.error_message();
  request.set_explain(true);
  request.set_explain_top(0);
  status = Score(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("got 0"), std::string::npos) << status.error_message();
}

}  // namespace
}  // namespace aad::testing
