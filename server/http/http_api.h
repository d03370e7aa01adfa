// The HTTP/JSON API and the labelling page, as routes on a router: every
// API route parses its request message (query parameters for GET and
// DELETE, the JSON body for POST), puts the path's session id into it and
// runs the same UnaryCalls as the gRPC service, so there is one API in two
// encodings.
//
//   GET    /healthz                        {"status":"SERVING"}, 503 NOT_SERVING when draining
//   GET    /v1/sessions?pageSize=&pageToken=   ListSessionsResponse
//   POST   /v1/sessions                    CreateSessionRequest -> CreateSessionResponse
//   GET    /v1/sessions/{id}               GetSessionResponse
//   DELETE /v1/sessions/{id}               {}
//   GET    /v1/sessions/{id}/candidates?k=&strategy=&seed=&explainTop=
//                                          GetQueryCandidatesResponse
//   POST   /v1/sessions/{id}/labels        SubmitLabelsRequest -> SubmitLabelsResponse
//   POST   /v1/sessions/{id}:score         ScoreRequest -> ScoreResponse
//   GET    /, /sessions/{id}, /static/{name}   the page (index.html, session.html, files)
//   GET    /metrics                        Prometheus text format 0.0.4 (with metrics on)
//
// With --auth_tokens every /v1 route takes "Authorization: Bearer TOKEN"
// (401 with WWW-Authenticate: Bearer otherwise) and serves the token's
// tenant its own sessions only, as the gRPC service does; /healthz and the
// page stay open (the page asks the expert for a token).
#ifndef AADD_SERVER_HTTP_HTTP_API_H_
#define AADD_SERVER_HTTP_HTTP_API_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/auth/authenticator.h"
#include "server/http/http_exchange.h"
#include "server/http/http_router.h"
#include "server/metrics/metrics.h"
#include "server/unary_calls.h"

namespace aad {

// Thread-safe: Handle may run on every server thread at once.
class HttpApi {
 public:
  // `calls` must outlive this object and every request in flight; so must
  // `metrics`, whose series GET /metrics serves (null: no such route);
  // `auth` (not owned; null: no tokens, the anonymous tenant).
  explicit HttpApi(UnaryCalls* calls, const Metrics* metrics = nullptr,
                   const Authenticator* auth = nullptr);

  // The reply to `request` (its id is set on the way). A labels request
  // with waitForModel blocks until the model is published (or training is
  // cancelled, as at shutdown).
  HttpReply Handle(HttpRequest* request) const { return router_.Handle(request); }
  // The route pattern `path` matches; empty when none does.
  std::string RouteOf(absl::string_view path) const { return router_.RouteOf(path); }

 private:
  void AddApiRoutes();
  void AddPageRoutes();
  void AddMetricsRoute(const Metrics* metrics);

  UnaryCalls* const calls_;
  const Authenticator* const auth_;
  HttpRouter router_;  // constant after construction
};

}  // namespace aad

#endif  // AADD_SERVER_HTTP_HTTP_API_H_
