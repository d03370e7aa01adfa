// The HTTP/JSON gateway in front of the real server: what goes in over HTTP
// is seen over gRPC and the other way round, answers equal the gRPC ones
// message for message, and every bad input of issue 12 gets its status.
// cpp-httplib's client talks to the in-process server on free ports, and
// to the aadd binary started with --http_port=-1.
#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "core/data/synthetic.h"
#include "server/http/http_gateway.h"
#include "server/http/web_assets.h"
#include "server/session_manager.h"
#include "server/unary_calls.h"
#include "tests/integration/aadd_process.h"
#include "tests/integration/server_fixture.h"
// Last: through <resolv.h> it defines the macro _res, a parameter name in
// Eigen's headers.
#include <httplib.h>

namespace aad::testing {
namespace {

namespace pb = google::protobuf;
using pb::util::MessageDifferencer;

constexpr int64_t kMaxBody = 64 << 10;

// The JSON `json` as message M; fails the test when it does not parse.
template <typename M>
M FromJson(const std::string& json) {
  M message;
  const auto parsed = pb::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString() << " in " << json;
  return message;
}

struct ErrorBody {
  std::string code, message;  // message as it stands in the JSON (escaped)
};

// The gateway's error body, {"code":"..","message":".."} in that order
// (read without protobuf's Struct, whose map code crashes in the GCC
// ThreadSanitizer build; see http_json.h).
ErrorBody ErrorOf(const httplib::Result& r) {
  if (!r) return {"(no reply)", ""};
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  static const std::regex kError(R"re(^\{"code":"([A-Z_]+)","message":"((?:[^"\\]|\\.)*)"\}$)re");
  std::smatch m;
  if (!std::regex_match(r->body, m, kError)) {
    ADD_FAILURE() << "not an error body: " << r->body;
    return {};
  }
  return {m[1].str(), m[2].str()};
}

// Status and body, or a failed test when no reply came.
#define ASSERT_REPLY(result) ASSERT_TRUE(result) << "no HTTP reply: " << httplib::to_string(result.error())

class HttpGatewayTest : public ServerFixture {
 protected:
  void Configure(aad::ServerOptions* options) override {
    options->http_port = -1;
    options->http_max_body_bytes = kMaxBody;
  }
  void SetUp() override {
    ServerFixture::SetUp();
    ASSERT_GT(server_->http_port(), 0);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", server_->http_port());
    http_->set_read_timeout(120, 0);  // a labels call may wait for a model
  }
  void TearDown() override {
    http_.reset();
    ServerFixture::TearDown();
  }

  httplib::Result Post(const std::string& path, const std::string& body) {
    return http_->Post(path.c_str(), body, "application/json");
  }

  // A session of `rows` x 6 synthetic rows with a trained model.
  std::string TrainedSession(int64_t rows = 400) {
    const std::string id = NewSession(3);
    aad::SyntheticOptions so;
    so.rows = rows;
    so.dims = 6;
    auto data = aad::MakeLowDensityAnomalies(so);
    EXPECT_TRUE(data.ok()) << data.status();
    if (!data.ok()) return id;
    const auto& f = data->features;
    EXPECT_TRUE(client_->Ingest(id, absl::MakeConstSpan(f.data(), f.size()), so.dims).ok());
    auto version = client_->Train(id);
    EXPECT_TRUE(version.ok()) << version.status();
    return id;
  }

  std::unique_ptr<httplib::Client> http_;
};

TEST_F(HttpGatewayTest, HealthzServes) {
  auto r = http_->Get("/healthz");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"status":"SERVING"})");
}

TEST_F(HttpGatewayTest, SessionCreatedOverHttpIsSeenOverGrpcAndBack) {
  auto r = Post("/v1/sessions", R"({"sessionId":"from-http",
      "config":{"pretrainEpochs":3,"hiddenUnits":16,"strategy":"QUERY_STRATEGY_UNCERTAIN"},
      "featureNames":["a","b"]})");
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto created = FromJson<v1::CreateSessionResponse>(r->body);
  EXPECT_EQ(created.session().session_id(), "from-http");
  auto over_grpc = client_->GetSession("from-http");
  ASSERT_TRUE(over_grpc.ok()) << over_grpc.status();
  EXPECT_EQ(over_grpc->config().pretrain_epochs(), 3);
  EXPECT_EQ(over_grpc->config().strategy(), v1::QUERY_STRATEGY_UNCERTAIN);
  EXPECT_EQ(over_grpc->feature_names_size(), 2);
  EXPECT_TRUE(MessageDifferencer::Equals(created.session(), *over_grpc));

  // A session made over gRPC, read over HTTP: the same message.
  const std::string from_grpc = NewSession();
  r = http_->Get(("/v1/sessions/" + from_grpc).c_str());
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto info = client_->GetSession(from_grpc);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(MessageDifferencer::Equals(FromJson<v1::GetSessionResponse>(r->body).session(), *info));

  // Listed, in pages; the path id is percent-decoded ("from%2Dhttp").
  r = http_->Get("/v1/sessions?pageSize=1");
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto page = FromJson<v1::ListSessionsResponse>(r->body);
  EXPECT_EQ(page.sessions_size(), 1);
  EXPECT_FALSE(page.next_page_token().empty());
  r = http_->Get("/v1/sessions");
  ASSERT_REPLY(r);
  EXPECT_EQ(FromJson<v1::ListSessionsResponse>(r->body).sessions_size(), 2);
  r = http_->Get("/v1/sessions/from%2Dhttp");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 200) << r->body;

  // Deleted over HTTP: gone over gRPC.
  r = http_->Delete("/v1/sessions/from-http");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, "{}");
  EXPECT_EQ(client_->GetSession("from-http").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(HttpGatewayTest, CandidatesAndScoresEqualTheGrpcAnswers) {
  const std::string id = TrainedSession();
  auto r = http_->Get(("/v1/sessions/" + id + "/candidates?k=3").c_str());
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto over_grpc = client_->GetQueryCandidates(id, 3);
  ASSERT_TRUE(over_grpc.ok()) << over_grpc.status();
  const auto over_http = FromJson<v1::GetQueryCandidatesResponse>(r->body);
  EXPECT_EQ(over_http.row_ids_size(), 3);
  EXPECT_TRUE(MessageDifferencer::Equals(over_http, *over_grpc))
      << over_http.ShortDebugString() << "\nvs\n" << over_grpc->ShortDebugString();
  // int64 ids are JSON strings in the canonical mapping.
  EXPECT_NE(r->body.find(absl::StrCat("\"rowIds\":[\"", over_grpc->row_ids(0), "\"")),
            std::string::npos)
      << r->body;

  // Every parameter of the request, by its JSON name.
  r = http_->Get(("/v1/sessions/" + id +
                  "/candidates?k=4&strategy=QUERY_STRATEGY_RANDOM&seed=7&explainTop=0")
                     .c_str());
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  over_grpc = client_->GetQueryCandidates(id, 4, v1::QUERY_STRATEGY_RANDOM, 7, 0);
  ASSERT_TRUE(over_grpc.ok()) << over_grpc.status();
  EXPECT_TRUE(MessageDifferencer::Equals(FromJson<v1::GetQueryCandidatesResponse>(r->body),
                                         *over_grpc));

  // Pool rows by id, and inline rows.
  r = Post("/v1/sessions/" + id + ":score", R"({"rowIds":["0","1","2"]})");
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto scored = client_->ScorePoolRows(id, std::vector<int64_t>{0, 1, 2});
  ASSERT_TRUE(scored.ok()) << scored.status();
  EXPECT_TRUE(MessageDifferencer::Equals(FromJson<v1::ScoreResponse>(r->body), *scored));
  const std::vector<float> row = {0.5f, -1.0f, 2.0f, 0.0f, 3.5f, 1.0f};
  r = Post("/v1/sessions/" + id + ":score",
           R"({"featureCount":6,"values":[0.5,-1,2,0,3.5,1]})");
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  scored = client_->ScoreRows(id, row, 6);
  ASSERT_TRUE(scored.ok()) << scored.status();
  const auto scored_over_http = FromJson<v1::ScoreResponse>(r->body);
  EXPECT_TRUE(MessageDifferencer::Equals(scored_over_http, *scored));
  EXPECT_EQ(scored_over_http.p_size(), 1);
}

TEST_F(HttpGatewayTest, LabelsAreStoredAndARelabelReplaces) {
  const std::string id = TrainedSession();
  auto candidates = client_->GetQueryCandidates(id, 2);
  ASSERT_TRUE(candidates.ok()) << candidates.status();
  const std::string row = absl::StrCat(candidates->row_ids(0));
  const std::string other = absl::StrCat(candidates->row_ids(1));

  auto r = Post("/v1/sessions/" + id + "/labels",
                R"({"labels":[{"rowId":")" + row + R"(","anomaly":true}]})");
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(FromJson<v1::SubmitLabelsResponse>(r->body).labels(), 1);
  auto info = client_->GetSession(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels(), 1);
  EXPECT_EQ(info->anomalies(), 1);

  // The same row again, nominal: replaced, not added.
  r = Post("/v1/sessions/" + id + "/labels",
           R"({"labels":[{"rowId":")" + row + R"(","anomaly":false}]})");
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(FromJson<v1::SubmitLabelsResponse>(r->body).labels(), 1);
  info = client_->GetSession(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels(), 1);
  EXPECT_EQ(info->anomalies(), 0);

  // waitForModel: the reply comes from the training thread, with the model
  // that holds the labels, the one gRPC then reports.
  r = Post("/v1/sessions/" + id + "/labels",
           R"({"labels":[{"rowId":")" + other + R"(","anomaly":true}],"waitForModel":true})");
  ASSERT_REPLY(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto waited = FromJson<v1::SubmitLabelsResponse>(r->body);
  EXPECT_EQ(waited.labels(), 2);
  EXPECT_GT(waited.model_version(), info->model_version());
  info = client_->GetSession(id);
  ASSERT_TRUE(info.ok());
  EXPECT_GE(info->model_version(), waited.model_version());
  EXPECT_EQ(info->labels(), 2);
  EXPECT_EQ(info->anomalies(), 1);
}

TEST_F(HttpGatewayTest, UnknownSessionOrRowIs404NamingIt) {
  struct Call {
    std::string method, path, body;
  };
  for (const Call& c : std::vector<Call>{
           {"GET", "/v1/sessions/no-such-session", ""},
           {"GET", "/v1/sessions/no-such-session/candidates?k=1", ""},
           {"DELETE", "/v1/sessions/no-such-session", ""},
           {"POST", "/v1/sessions/no-such-session/labels", R"({"labels":[{"rowId":"0"}]})"},
           {"POST", "/v1/sessions/no-such-session:score", R"({"rowIds":["0"]})"}}) {
    const httplib::Result r = c.method == "GET"      ? http_->Get(c.path.c_str())
                              : c.method == "DELETE" ? http_->Delete(c.path.c_str())
                                                     : Post(c.path, c.body);
    ASSERT_REPLY(r);
    EXPECT_EQ(r->status, 404) << c.method << " " << c.path << ": " << r->body;
    const ErrorBody e = ErrorOf(r);
    EXPECT_EQ(e.code, "NOT_FOUND");
    EXPECT_NE(e.message.find("no-such-session"), std::string::npos) << e.message;
  }
  const std::string id = NewSession();
  ASSERT_TRUE(client_->Ingest(id, std::vector<float>(10 * 3, 1.0f), 3).ok());
  auto r = Post("/v1/sessions/" + id + "/labels", R"({"labels":[{"rowId":"987654","anomaly":true}]})");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 404) << r->body;
  const ErrorBody e = ErrorOf(r);
  EXPECT_EQ(e.code, "NOT_FOUND");
  EXPECT_NE(e.message.find("987654"), std::string::npos) << e.message;
  auto info = client_->GetSession(id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels(), 0);
  // A path id that is not UTF-8 comes back escaped, in valid JSON.
  r = http_->Get("/v1/sessions/%FF");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 404) << r->body;
  EXPECT_NE(ErrorOf(r).message.find("\\xff"), std::string::npos) << r->body;
}

TEST_F(HttpGatewayTest, MalformedJsonOrAWrongFieldIs400NamingIt) {
  const std::string id = NewSession();
  auto r = Post("/v1/sessions/" + id + "/labels", R"({"labels":[{"rowId":"1",)");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(ErrorOf(r).code, "INVALID_ARGUMENT");

  r = Post("/v1/sessions/" + id + "/labels", R"({"labels":[{"rowI":"1","anomaly":true}]})");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 400) << r->body;
  ErrorBody e = ErrorOf(r);
  EXPECT_EQ(e.code, "INVALID_ARGUMENT");
  EXPECT_NE(e.message.find("rowI"), std::string::npos) << e.message;

  r = Post("/v1/sessions/" + id + "/labels", R"({"labels":[{"rowId":"one"}]})");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(ErrorOf(r).message.find("labels[0].row_id"), std::string::npos) << r->body;

  r = http_->Get(("/v1/sessions/" + id + "/candidates?k=1&kk=2").c_str());
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 400) << r->body;
  e = ErrorOf(r);
  EXPECT_EQ(e.code, "INVALID_ARGUMENT");
  EXPECT_NE(e.message.find("kk"), std::string::npos) << e.message;

  // A POST's fields go in its body; a query beside it is refused, not ignored.
  r = Post("/v1/sessions/" + id + "/labels?waitForModel=true", R"({"labels":[{"rowId":"0"}]})");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(ErrorOf(r).message.find("waitForModel"), std::string::npos) << r->body;

  // Semantic checks are the session's, as over gRPC: k out of range.
  r = http_->Get(("/v1/sessions/" + id + "/candidates?k=0").c_str());
  ASSERT_REPLY(r);
  EXPECT_GE(r->status, 400);
  EXPECT_LT(r->status, 500);
}

TEST_F(HttpGatewayTest, BodyOverTheLimitIs413) {
  const std::string id = NewSession();
  const std::string at_limit(kMaxBody, ' ');
  // At the limit the body is read and parsed (400: no JSON object in it);
  // one byte over it, it is refused unparsed.
  auto r = Post("/v1/sessions/" + id + "/labels", at_limit);
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 400) << r->body;
  r = Post("/v1/sessions/" + id + "/labels", at_limit + " ");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 413) << r->body;
  ErrorBody e = ErrorOf(r);
  EXPECT_EQ(e.code, "RESOURCE_EXHAUSTED");
  EXPECT_NE(e.message.find(absl::StrCat(kMaxBody)), std::string::npos) << e.message;
  // The same without a Content-Length (chunked): stored up to the limit, the
  // rest read and dropped, so that the reply is not lost to a reset (a
  // body well past the socket buffers: the client is still writing when
  // the limit is reached).
  r = http_->Post(
      ("/v1/sessions/" + id + "/labels").c_str(),
      [](size_t offset, httplib::DataSink& sink) {
        if (offset >= 8 * kMaxBody) {
          sink.done();
        } else {
          const std::string chunk(4096, ' ');
          sink.write(chunk.data(), chunk.size());
        }
        return true;
      },
      "application/json");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 413) << r->body;
  EXPECT_EQ(ErrorOf(r).code, "RESOURCE_EXHAUSTED");
}

TEST_F(HttpGatewayTest, UnknownPathIs404AndWrongMethod405) {
  auto r = http_->Get("/v2/sessions");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 404) << r->body;
  ErrorBody e = ErrorOf(r);
  EXPECT_EQ(e.code, "NOT_FOUND");
  EXPECT_NE(e.message.find("/v2/sessions"), std::string::npos) << e.message;

  const std::string id = NewSession();
  r = http_->Put(("/v1/sessions/" + id).c_str(), "{}", "application/json");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 405) << r->body;
  EXPECT_EQ(r->get_header_value("Allow"), "DELETE, GET");
  EXPECT_EQ(ErrorOf(r).code, "UNIMPLEMENTED");
  r = http_->Get(("/v1/sessions/" + id + "/labels").c_str());
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 405) << r->body;
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  r = Post("/healthz", "{}");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 405) << r->body;
}

TEST_F(HttpGatewayTest, ThePageIsServedFromTheBinary) {
  for (const auto& [path, file] : std::vector<std::pair<std::string, std::string>>{
           {"/", "index.html"}, {"/sessions/some-id", "session.html"},
           {"/static/index.html", "index.html"}}) {
    const WebAsset* asset = FindWebAsset(file);
    ASSERT_NE(asset, nullptr) << file;
    auto r = http_->Get(path.c_str());
    ASSERT_REPLY(r);
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body, asset->body) << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
  }
  auto r = http_->Get("/static/no-such-file.js");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(ErrorOf(r).code, "NOT_FOUND");
}

TEST_F(HttpGatewayTest, ShutdownStopsTheHttpPort) {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto r = http_->Get("/healthz");
  EXPECT_FALSE(r) << "still answering after Shutdown: " << r->status;
}

// Draining seen from outside: the gateway over a manager of its own, so the
// drain can be started without stopping the server.
TEST(HttpGatewayDraining, HealthzAndWritesAre503ReadsAnswer) {
  aad::SetLoggingEnabled(false);
  SessionManager sessions{SessionManagerOptions()};
  UnaryCalls calls(&sessions);
  HttpGatewayOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  auto gateway = HttpGateway::Start(&calls, options);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  httplib::Client http("127.0.0.1", (*gateway)->port());
  auto r = http.Get("/healthz");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 200);

  calls.StartDraining();
  r = http.Get("/healthz");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, R"({"status":"NOT_SERVING"})");
  r = http.Post("/v1/sessions", "{}", "application/json");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(ErrorOf(r).code, "UNAVAILABLE");
  r = http.Get("/v1/sessions");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 200) << r->body;
  (*gateway)->Stop();
  (*gateway)->Stop();  // idempotent
}

TEST(HttpGatewayStart, APortInUseIsUnavailableNamingIt) {
  SessionManager sessions{SessionManagerOptions()};
  UnaryCalls calls(&sessions);
  HttpGatewayOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  auto first = HttpGateway::Start(&calls, options);
  ASSERT_TRUE(first.ok()) << first.status();
  options.port = (*first)->port();
  auto second = HttpGateway::Start(&calls, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(absl::StrCat(options.port)), absl::string_view::npos)
      << second.status();
}

// The aadd binary: --http_port=-1 serves on a free port it logs; a port in
// use stops the second aadd at start with a message naming it.
TEST(HttpGatewayProcess, AaddServesHttpOnTheFlaggedPort) {
  AaddProcess aadd;
  ASSERT_TRUE(aadd.Start(AADD_BINARY, {"--port=0", "--http_port=-1", "--in_memory"}).ok())
      << aadd.log();
  ASSERT_GT(aadd.http_port(), 0) << aadd.log();
  httplib::Client http("127.0.0.1", aadd.http_port());
  auto r = http.Get("/healthz");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 200);
  r = http.Post("/v1/sessions", R"({"sessionId":"over-http"})", "application/json");
  ASSERT_REPLY(r);
  EXPECT_EQ(r->status, 200) << r->body;
  {
    aad::ClientOptions co;
    co.target = absl::StrCat("127.0.0.1:", aadd.port());
    aad::AadClient client(co);
    EXPECT_TRUE(client.GetSession("over-http").ok());
  }

  AaddProcess second;
  EXPECT_FALSE(second
                   .Start(AADD_BINARY, {"--port=0", absl::StrCat("--http_port=", aadd.http_port()),
                                        "--in_memory"})
                   .ok());
  const int status = second.WaitExit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(second.log().find(absl::StrCat("cannot listen for HTTP on 0.0.0.0:", aadd.http_port())),
            std::string::npos)
      << second.log();

  aadd.Signal(SIGTERM);
  const int exit = aadd.WaitExit();
  EXPECT_TRUE(WIFEXITED(exit) && WEXITSTATUS(exit) == 0) << aadd.log();
}

}  // namespace
}  // namespace aad::testing
