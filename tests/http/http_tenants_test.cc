// Bearer tokens and tenants on the HTTP gateway (issue 14): the gRPC
// service's rules, over the real in-process server.
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/integration/server_fixture.h"
#include "tests/testing/temp_dir.h"

// After the gRPC headers, as in http_gateway_test.cc.
#include <httplib.h>

namespace aad::testing {
namespace {

constexpr char kTokenA[] = "http-token-of-acme-0123456789";
constexpr char kTokenB[] = "http-token-of-globex-0123456789";

class HttpTenantsTest : public ServerFixture {
 protected:
  void Configure(aad::ServerOptions* options) override {
    const std::string path = tokens_dir_.path() + "/tokens";
    std::ofstream(path) << kTokenA << " acme\n" << kTokenB << " globex\n";
    ASSERT_EQ(chmod(path.c_str(), 0600), 0);
    options->auth_tokens_file = path;
    options->http_port = -1;
  }
  void SetUp() override {
    ServerFixture::SetUp();
    ASSERT_GT(server_->http_port(), 0);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", server_->http_port());
    http_->set_read_timeout(120, 0);
  }
  void TearDown() override {
    http_.reset();
    ServerFixture::TearDown();
  }

  static httplib::Headers As(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }

  // A's session with rows and a model, made over gRPC with A's token.
  void MakeSessionOfA(const std::string& id) {
    ClientOptions options;
    options.target = absl::StrCat("127.0.0.1:", server_->port());
    options.token = kTokenA;
    AadClient a(options);
    aad::v1::CreateSessionRequest create;
    create.set_session_id(id);
    create.mutable_config()->set_pretrain_epochs(2);
    create.mutable_config()->set_hidden_units(8);
    create.mutable_config()->set_latent_units(2);
    ASSERT_TRUE(a.CreateSession(create).ok());
    std::vector<float> rows(64 * 3);
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i % 7);
    ASSERT_TRUE(a.Ingest(id, rows, 3).ok());
    ASSERT_TRUE(a.Train(id).ok());
  }

  // Every /v1 route on session `id` as `token`: "METHOD path" -> "status body".
  std::map<std::string, std::string> EveryRouteOn(const std::string& id, const std::string& token) {
    const httplib::Headers h = As(token);
    const std::string base = "/v1/sessions/" + id;
    std::map<std::string, std::string> out;
    auto put = [&out](const std::string& name, const httplib::Result& r) {
      out[name] = r ? absl::StrCat(r->status, " ", r->body) : "no reply";
    };
    put("GET " + base, http_->Get(base.c_str(), h));
    put("GET candidates", http_->Get((base + "/candidates?k=1").c_str(), h));
    put("POST labels", http_->Post((base + "/labels").c_str(), h,
                                   R"({"labels":[{"rowId":"0","anomaly":true}]})",
                                   "application/json"));
    put("POST score", http_->Post((base + ":score").c_str(), h,
                                  R"({"featureCount":3,"values":[1,2,3]})", "application/json"));
    put("DELETE " + base, http_->Delete(base.c_str(), h));
    return out;
  }

  TempDir tokens_dir_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(HttpTenantsTest, ApiRoutesWithoutAValidTokenAre401WithAChallenge) {
  for (const std::string& token : {std::string(), std::string("not-a-token-at-all-0123456")}) {
    auto r = http_->Get("/v1/sessions", As(token));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer realm=\"aadd\"");
    EXPECT_NE(r->body.find("\"code\":\"UNAUTHENTICATED\""), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("not-a-token"), std::string::npos) << r->body;
    for (const auto& [route, reply] : EveryRouteOn("any", token)) {
      EXPECT_EQ(reply.substr(0, 4), "401 ") << route << ": " << reply;
    }
    auto created = http_->Post("/v1/sessions", As(token), "{}", "application/json");
    ASSERT_TRUE(created);
    EXPECT_EQ(created->status, 401);
  }
  // A raw token without the scheme is refused too, and not echoed.
  auto raw = http_->Get("/v1/sessions", {{"Authorization", kTokenA}});
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 401);
  EXPECT_EQ(raw->body.find(kTokenA), std::string::npos);
}

TEST_F(HttpTenantsTest, HealthzAndThePageStayOpen) {
  auto health = http_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"SERVING"})");
  auto page = http_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
}

// B gets from every route on A's session what it gets on an id nobody
// holds: the same status and body, before and after A deletes it.
TEST_F(HttpTenantsTest, AnotherTenantsSessionIs404AsAnUnknownIdIs) {
  MakeSessionOfA("of-acme");
  const std::map<std::string, std::string> held = EveryRouteOn("of-acme", kTokenB);
  for (const auto& [route, reply] : held) {
    EXPECT_EQ(reply.substr(0, 4), "404 ") << route << ": " << reply;
  }
  auto own = http_->Get("/v1/sessions/of-acme", As(kTokenA));
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200) << own->body;
  EXPECT_NE(own->body.find("\"rows\":\"64\""), std::string::npos) << own->body;

  auto deleted = http_->Delete("/v1/sessions/of-acme", As(kTokenA));
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 200);
  EXPECT_EQ(EveryRouteOn("of-acme", kTokenB), held);
}

TEST_F(HttpTenantsTest, ListsAndCreatesArePerTenant) {
  for (const char* id : {"h1", "h3"}) {
    auto r = http_->Post("/v1/sessions", As(kTokenA), absl::StrCat(R"({"sessionId":")", id, "\"}"),
                         "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  auto r = http_->Post("/v1/sessions", As(kTokenB), R"({"sessionId":"h2"})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;

  auto ids_of = [this](const std::string& token, const std::string& query) {
    auto listed = http_->Get(("/v1/sessions" + query).c_str(), As(token));
    EXPECT_TRUE(listed);
    return listed ? listed->body : std::string();
  };
  const std::string of_a = ids_of(kTokenA, "");
  EXPECT_NE(of_a.find("\"h1\""), std::string::npos) << of_a;
  EXPECT_NE(of_a.find("\"h3\""), std::string::npos) << of_a;
  EXPECT_EQ(of_a.find("\"h2\""), std::string::npos) << of_a;
  const std::string of_b = ids_of(kTokenB, "");
  EXPECT_NE(of_b.find("\"h2\""), std::string::npos) << of_b;
  EXPECT_EQ(of_b.find("\"h1\""), std::string::npos) << of_b;
  // A page of one after h1 skips B's h2.
  const std::string page = ids_of(kTokenA, "?pageSize=1&pageToken=h1");
  EXPECT_NE(page.find("\"h3\""), std::string::npos) << page;
  EXPECT_EQ(page.find("\"h2\""), std::string::npos) << page;
}

}  // namespace
}  // namespace aad::testing
