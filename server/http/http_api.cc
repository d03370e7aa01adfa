#include "server/http/http_api.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aad/v1/aad.pb.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/http/http_json.h"
#include "server/http/web_assets.h"
#include "server/mutex.h"

namespace aad {
namespace {

namespace v1 = aad::v1;

// A GET or DELETE takes its fields from the query; a POST from its JSON
// body, and a query beside it would be ignored, so it is refused.
absl::Status ParseRequest(const HttpRequest& http, google::protobuf::Message* message) {
  if (http.method == "POST") {
    if (!http.query.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "POST ", absl::CHexEscape(http.path), " takes its fields in the JSON body, not in "
          "query parameters (got '", absl::CHexEscape(http.query.begin()->first), "')"));
    }
    return ParseJsonBody(http.body, message);
  }
  return ParseQueryParameters(http.query, message);
}

// The path's {id} when the route has one, else the request's own field
// (POST /v1/sessions may name the new session in its body).
std::string IdOf(const HttpRequest& http, const std::string& field) {
  return http.id.empty() ? field : http.id;
}

// A labels call answers through a callback, from a training thread when it
// waits for the model; the server thread waits here for it. Shared with the
// callback, which may still be returning when the waiter wakes.
class Completion {
 public:
  void Done(const absl::Status& status) {
    MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
    done_cv_.SignalAll();
  }
  absl::Status Wait() {
    MutexLock lock(&mu_);
    while (!done_) done_cv_.Wait(&mu_);
    return status_;
  }

 private:
  Mutex mu_;
  CondVar done_cv_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

// grpc.health.v1's answer in JSON, for load balancers and probes.
HttpReply Health(const UnaryCalls& calls) {
  HttpReply reply;
  if (calls.draining()) {
    reply.status = 503;
    reply.body = R"({"status":"NOT_SERVING"})";
  } else {
    reply.body = R"({"status":"SERVING"})";
  }
  return reply;
}

// A /v1 route's handler: the request and the caller's tenant.
using TenantHandler = std::function<HttpReply(const HttpRequest&, const std::string& tenant)>;

// `handler` behind the bearer-token check: 401 with the JSON error and
// WWW-Authenticate (RFC 6750) when `auth` refuses the request's token.
HttpHandler Authenticated(const Authenticator* auth, TenantHandler handler) {
  return [auth, handler = std::move(handler)](const HttpRequest& http) {
    if (auth == nullptr) return handler(http, std::string());
    absl::StatusOr<std::string> tenant =
        auth->Authenticate(http.authorization.has_value()
                               ? std::optional<absl::string_view>(*http.authorization)
                               : std::nullopt);
    if (!tenant.ok()) {
      HttpReply reply = ErrorReply(tenant.status());
      reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"aadd\"");
      return reply;
    }
    return handler(http, *tenant);
  };
}

HttpReply Asset(absl::string_view name, const std::string& path) {
  const WebAsset* asset = FindWebAsset(name);
  if (asset == nullptr) {
    return ErrorReply(
        absl::NotFoundError(absl::StrCat("no such file: ", absl::CHexEscape(path))));
  }
  HttpReply reply;
  reply.content_type = std::string(asset->content_type);
  reply.body = std::string(asset->body);
  // Always revalidated: a new aadd binary serves a new page at once.
  reply.headers.emplace_back("Cache-Control", "no-cache");
  return reply;
}

}  // namespace

HttpApi::HttpApi(UnaryCalls* calls, const Metrics* metrics, const Authenticator* auth)
    : calls_(calls), auth_(auth) {
  AddApiRoutes();
  AddPageRoutes();
  if (metrics != nullptr) AddMetricsRoute(metrics);
}

void HttpApi::AddMetricsRoute(const Metrics* metrics) {
  router_.Add("GET", "/metrics", [metrics](const HttpRequest&) {
    HttpReply reply;
    reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply.body = metrics->Scrape();
    return reply;
  });
}

void HttpApi::AddApiRoutes() {
  UnaryCalls* const calls = calls_;
  const Authenticator* const auth = auth_;
  // Open: probes carry no token.
  router_.Add("GET", "/healthz", [calls](const HttpRequest&) { return Health(*calls); });

  router_.Add("GET", "/v1/sessions",
              Authenticated(auth, [calls](const HttpRequest& http, const std::string& tenant) {
    v1::ListSessionsRequest request;
    v1::ListSessionsResponse response;
    absl::Status status = ParseRequest(http, &request);
    if (status.ok()) status = calls->ListSessions(tenant, request, &response);
    return MessageReply(status, response);
  }));
  router_.Add("POST", "/v1/sessions",
              Authenticated(auth, [calls](const HttpRequest& http, const std::string& tenant) {
    v1::CreateSessionRequest request;
    v1::CreateSessionResponse response;
    absl::Status status = ParseRequest(http, &request);
    if (status.ok()) {
      status = calls->CreateSession(tenant, IdOf(http, request.session_id()), request, &response);
    }
    return MessageReply(status, response);
  }));

  // Before "{id}", which would take "ID:score" for an id.
  router_.Add("POST", "/v1/sessions/{id}:score",
              Authenticated(auth, [calls](const HttpRequest& http, const std::string& tenant) {
    v1::ScoreRequest request;
    v1::ScoreResponse response;
    absl::Status status = ParseRequest(http, &request);
    if (status.ok()) status = calls->Score(tenant, IdOf(http, request.session_id()), request, &response);
    return MessageReply(status, response);
  }));
  router_.Add("GET", "/v1/sessions/{id}",
              Authenticated(auth, [calls](const HttpRequest& http, const std::string& tenant) {
    v1::GetSessionRequest request;
    v1::GetSessionResponse response;
    absl::Status status = ParseRequest(http, &request);
    if (status.ok()) status = calls->GetSession(tenant, IdOf(http, request.session_id()), &response);
    return MessageReply(status, response);
  }));
  router_.Add("DELETE", "/v1/sessions/{id}",
              Authenticated(auth, [calls](const HttpRequest& http, const std::string& tenant) {
    v1::DeleteSessionRequest request;
    absl::Status status = ParseRequest(http, &request);
    if (status.ok()) status = calls->DeleteSession(tenant, IdOf(http, request.session_id()));
    return MessageReply(status, v1::DeleteSessionResponse());
  }));
  router_.Add("GET", "/v1/sessions/{id}/candidates",
              Authenticated(auth, [calls](const HttpRequest& http, const std::string& tenant) {
    v1::GetQueryCandidatesRequest request;
    v1::GetQueryCandidatesResponse response;
    absl::Status status = ParseRequest(http, &request);
    if (status.ok()) {
      status = calls->GetQueryCandidates(tenant, IdOf(http, request.session_id()), request,
                                         &response);
    }
    return MessageReply(status, response);
  }));
  router_.Add("POST", "/v1/sessions/{id}/labels",
              Authenticated(auth, [calls](const HttpRequest& http, const std::string& tenant) {
    v1::SubmitLabelsRequest request;
    v1::SubmitLabelsResponse response;
    absl::Status status = ParseRequest(http, &request);
    if (status.ok()) {
      // `response` outlives the call: this thread waits for the callback.
      auto completion = std::make_shared<Completion>();
      calls->SubmitLabels(tenant, IdOf(http, request.session_id()), request, &response,
                          [completion](const absl::Status& s) { completion->Done(s); });
      status = completion->Wait();
    }
    return MessageReply(status, response);
  }));
}

void HttpApi::AddPageRoutes() {
  router_.Add("GET", "/", [](const HttpRequest& http) { return Asset("index.html", http.path); });
  // The session page reads its session id from its own URL.
  router_.Add("GET", "/sessions/{id}",
              [](const HttpRequest& http) { return Asset("session.html", http.path); });
  router_.Add("GET", "/static/{id}",
              [](const HttpRequest& http) { return Asset(http.id, http.path); });
}

}  // namespace aad
