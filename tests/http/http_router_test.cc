#include "server/http/http_router.h"

#include <string>

#include <gtest/gtest.h>

namespace aad {
namespace {

// A handler that answers which route ran and with what id.
HttpHandler Named(const std::string& name) {
  return [name](const HttpRequest& request) {
    HttpReply reply;
    reply.body = name + "(" + request.id + ")";
    return reply;
  };
}

HttpReply Route(const HttpRouter& router, const std::string& method, const std::string& path) {
  HttpRequest request;
  request.method = method;
  request.path = path;
  return router.Handle(&request);
}

class HttpRouterTest : public ::testing::Test {
 protected:
  HttpRouterTest() {
    router_.Add("GET", "/v1/sessions", Named("list"));
    router_.Add("POST", "/v1/sessions", Named("create"));
    router_.Add("POST", "/v1/sessions/{id}:score", Named("score"));
    router_.Add("GET", "/v1/sessions/{id}", Named("get"));
    router_.Add("DELETE", "/v1/sessions/{id}", Named("delete"));
    router_.Add("GET", "/v1/sessions/{id}/candidates", Named("candidates"));
  }
  HttpRouter router_;
};

TEST_F(HttpRouterTest, RoutesByPathAndMethodAndCapturesTheId) {
  EXPECT_EQ(Route(router_, "GET", "/v1/sessions").body, "list()");
  EXPECT_EQ(Route(router_, "POST", "/v1/sessions").body, "create()");
  EXPECT_EQ(Route(router_, "GET", "/v1/sessions/abc").body, "get(abc)");
  EXPECT_EQ(Route(router_, "DELETE", "/v1/sessions/abc").body, "delete(abc)");
  EXPECT_EQ(Route(router_, "GET", "/v1/sessions/a-b_c/candidates").body, "candidates(a-b_c)");
  // The more specific pattern, added first, wins over "{id}".
  EXPECT_EQ(Route(router_, "POST", "/v1/sessions/abc:score").body, "score(abc)");
}

TEST_F(HttpRouterTest, UnknownPathIs404NamingIt) {
  for (const char* path : {"/", "/v1", "/v1/sessions/", "/v1/sessions/a/b", "/v1/sessions/a/labels",
                           "/v1/sessionsx"}) {
    const HttpReply reply = Route(router_, "GET", path);
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_NE(reply.body.find("\"code\":\"NOT_FOUND\""), std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find(path), std::string::npos) << reply.body;
  }
}

TEST_F(HttpRouterTest, KnownPathWithAnotherMethodIs405WithAllow) {
  const HttpReply reply = Route(router_, "PUT", "/v1/sessions/abc");
  EXPECT_EQ(reply.status, 405);
  EXPECT_NE(reply.body.find("\"code\":\"UNIMPLEMENTED\""), std::string::npos) << reply.body;
  ASSERT_EQ(reply.headers.size(), 1u);
  EXPECT_EQ(reply.headers[0].first, "Allow");
  EXPECT_EQ(reply.headers[0].second, "DELETE, GET");
  // GET on the score path is that path's 405, not GetSession("abc:score").
  EXPECT_EQ(Route(router_, "GET", "/v1/sessions/abc:score").status, 405);
}

}  // namespace
}  // namespace aad
