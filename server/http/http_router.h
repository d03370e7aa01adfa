// Which handler serves a request: path patterns with one {id} segment,
// each with its handlers by method, so that a known path asked with the
// wrong method is told 405 (and which methods it takes) and an unknown one
// 404, both naming the path.
#ifndef AADD_SERVER_HTTP_HTTP_ROUTER_H_
#define AADD_SERVER_HTTP_HTTP_ROUTER_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/http/http_exchange.h"

namespace aad {

using HttpHandler = std::function<HttpReply(const HttpRequest& request)>;

// Built once (Add), then read by every server thread at once (Handle is
// const and thread-safe when the handlers are).
class HttpRouter {
 public:
  // `pattern` is a literal path with at most one "{id}", which matches a
  // non-empty run of characters other than '/' (a session id, a file
  // name): "/v1/sessions/{id}:score". Patterns are tried in the order first
  // added; the first whose path matches decides, so a more specific one
  // ("{id}:score") goes before a more general one ("{id}").
  void Add(absl::string_view method, absl::string_view pattern, HttpHandler handler);

  // The reply of the handler for request->method at request->path, with
  // request->id set to what {id} matched; 404 NOT_FOUND when no pattern
  // matches the path, 405 (code UNIMPLEMENTED, header Allow) when the
  // matching one has no handler for the method.
  HttpReply Handle(HttpRequest* request) const;

  // The pattern of the route `path` matches; empty when none does.
  std::string RouteOf(absl::string_view path) const;

 private:
  struct Route {
    std::string prefix;  // before {id} (the whole pattern when it has none)
    std::string suffix;  // after {id}
    std::string pattern;  // as added
    bool has_id = false;
    std::map<std::string, HttpHandler> by_method;
  };

  // Whether `path` matches `route`, and what {id} matched.
  static bool Matches(const Route& route, absl::string_view path, std::string* id);

  std::vector<Route> routes_;
};

}  // namespace aad

#endif  // AADD_SERVER_HTTP_HTTP_ROUTER_H_
