// The gateway's JSON is protobuf's canonical mapping: what these tests pin
// is what a client of the HTTP API relies on (names, types, errors).
#include "server/http/http_json.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "aad/v1/aad.pb.h"
#include "server/http/web_assets.h"

namespace aad {
namespace {

using Query = std::multimap<std::string, std::string>;

TEST(HttpJson, BodyInTheCanonicalMapping) {
  v1::SubmitLabelsRequest request;
  ASSERT_TRUE(ParseJsonBody(R"({"labels":[{"rowId":"5","anomaly":true},{"row_id":7}],
                                "waitForModel":true})",
                            &request)
                  .ok());
  ASSERT_EQ(request.labels_size(), 2);
  EXPECT_EQ(request.labels(0).row_id(), 5);
  EXPECT_TRUE(request.labels(0).anomaly());
  EXPECT_EQ(request.labels(1).row_id(), 7);  // proto names are accepted too
  EXPECT_TRUE(request.wait_for_model());
  // An empty body is the empty message.
  ASSERT_TRUE(ParseJsonBody("", &request).ok());
  EXPECT_EQ(request.labels_size(), 0);
}

TEST(HttpJson, MalformedOrMisspeltBodyIsInvalidArgumentNamingTheField) {
  v1::SubmitLabelsRequest request;
  absl::Status s = ParseJsonBody(R"({"labels":[{"rowI":"5"}]})", &request);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("rowI"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("aad.v1.SubmitLabelsRequest"), absl::string_view::npos) << s;
  s = ParseJsonBody(R"({"labels":[{"rowId":"five"}]})", &request);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("five"), absl::string_view::npos) << s;
  s = ParseJsonBody(R"({"labels":[)", &request);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = ParseJsonBody("[1,2]", &request);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpJson, QueryParametersAreFieldsOfTheRequest) {
  v1::GetQueryCandidatesRequest request;
  ASSERT_TRUE(ParseQueryParameters(
                  Query{{"k", "3"}, {"strategy", "QUERY_STRATEGY_DIVERSE"}, {"seed", "9"},
                        {"explain_top", "0"}},
                  &request)
                  .ok());
  EXPECT_EQ(request.k(), 3);
  EXPECT_EQ(request.strategy(), v1::QUERY_STRATEGY_DIVERSE);
  ASSERT_TRUE(request.has_seed());
  EXPECT_EQ(request.seed(), 9u);
  ASSERT_TRUE(request.has_explain_top());
  EXPECT_EQ(request.explain_top(), 0);
  // lowerCamelCase, as in the body; an unset optional stays unset.
  ASSERT_TRUE(ParseQueryParameters(Query{{"explainTop", "2"}}, &request).ok());
  EXPECT_EQ(request.explain_top(), 2);
  EXPECT_FALSE(request.has_seed());
  // A repeated field takes one value or many.
  v1::ScoreRequest score;
  ASSERT_TRUE(ParseQueryParameters(Query{{"rowIds", "4"}}, &score).ok());
  EXPECT_EQ(score.row_ids_size(), 1);
  ASSERT_TRUE(ParseQueryParameters(Query{{"rowIds", "4"}, {"rowIds", "6"}}, &score).ok());
  ASSERT_EQ(score.row_ids_size(), 2);
  EXPECT_EQ(score.row_ids(1), 6);
  ASSERT_TRUE(ParseQueryParameters(Query{{"explain", "true"}}, &score).ok());
  EXPECT_TRUE(score.explain());
}

TEST(HttpJson, WrongQueryParameterIsInvalidArgumentNamingIt) {
  v1::GetQueryCandidatesRequest request;
  for (const Query& q : {Query{{"kk", "3"}}, Query{{"k", "3x"}}, Query{{"k", "1"}, {"k", "2"}},
                         Query{{"strategy", "BEST"}}, Query{{"k", std::string("\xff", 1)}}}) {
    const absl::Status s = ParseQueryParameters(q, &request);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << q.begin()->first;
    EXPECT_NE(s.message().find(q.begin()->first), absl::string_view::npos) << s;
  }
}

TEST(HttpJson, ResponsesPrintDefaultsAndInt64AsStrings) {
  v1::SubmitLabelsResponse response;
  response.set_labels(5);
  std::string json;
  ASSERT_TRUE(MessageToJson(response, &json).ok());
  EXPECT_EQ(json, R"({"labels":"5","modelVersion":"0","updateScheduled":false})");
}

TEST(HttpJson, ErrorBodyIsCodeThenMessage) {
  EXPECT_EQ(ErrorToJson(absl::NotFoundError("no session with id 'x\"\n'")),
            R"({"code":"NOT_FOUND","message":"no session with id 'x\"\n'"})");
  // Bytes that are not UTF-8 (an id from the path) come C-escaped, never dropped.
  EXPECT_EQ(ErrorToJson(absl::NotFoundError(std::string("id '\xff'"))),
            R"({"code":"NOT_FOUND","message":"id \\'\\xff\\'"})");
  EXPECT_EQ(ErrorToJson(absl::InvalidArgumentError("température")),
            R"({"code":"INVALID_ARGUMENT","message":"température"})");
}

TEST(WebAssets, ThePageIsCompiledInWithItsContentTypes) {
  const WebAsset* index = FindWebAsset("index.html");
  ASSERT_NE(index, nullptr) << "server/http/web/index.html is not embedded";
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("<html"), absl::string_view::npos);
  EXPECT_EQ(FindWebAsset("no-such-file.js"), nullptr);
  EXPECT_EQ(ContentTypeOf("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("a.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("a.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeOf("a.png"), "image/png");
  EXPECT_EQ(ContentTypeOf("README"), "application/octet-stream");
}

}  // namespace
}  // namespace aad
