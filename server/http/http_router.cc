#include "server/http/http_router.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace aad {

void HttpRouter::Add(absl::string_view method, absl::string_view pattern, HttpHandler handler) {
  Route route;
  const size_t at = pattern.find("{id}");
  route.has_id = at != absl::string_view::npos;
  route.prefix = std::string(pattern.substr(0, at));
  if (route.has_id) route.suffix = std::string(pattern.substr(at + 4));
  route.pattern = std::string(pattern);
  for (Route& r : routes_) {
    if (r.prefix == route.prefix && r.suffix == route.suffix && r.has_id == route.has_id) {
      r.by_method[std::string(method)] = std::move(handler);
      return;
    }
  }
  route.by_method[std::string(method)] = std::move(handler);
  routes_.push_back(std::move(route));
}

bool HttpRouter::Matches(const Route& route, absl::string_view path, std::string* id) {
  if (!route.has_id) return path == route.prefix;
  if (path.size() <= route.prefix.size() + route.suffix.size() ||
      !absl::StartsWith(path, route.prefix) || !absl::EndsWith(path, route.suffix)) {
    return false;
  }
  const absl::string_view middle = path.substr(
      route.prefix.size(), path.size() - route.prefix.size() - route.suffix.size());
  if (middle.find('/') != absl::string_view::npos) return false;
  *id = std::string(middle);
  return true;
}

HttpReply HttpRouter::Handle(HttpRequest* request) const {
  for (const Route& route : routes_) {
    std::string id;
    if (!Matches(route, request->path, &id)) continue;
    request->route = route.pattern;
    const auto handler = route.by_method.find(request->method);
    if (handler == route.by_method.end()) {
      std::vector<std::string> allowed;
      for (const auto& [method, unused] : route.by_method) allowed.push_back(method);
      HttpReply reply = ErrorReply(absl::UnimplementedError(
          absl::StrCat("method ", absl::CHexEscape(request->method), " is not allowed on ",
                       absl::CHexEscape(request->path), "; it takes ",
                       absl::StrJoin(allowed, ", "))));
      reply.status = 405;
      reply.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
      return reply;
    }
    request->id = std::move(id);
    return handler->second(*request);
  }
  return ErrorReply(
      absl::NotFoundError(absl::StrCat("no such path: ", absl::CHexEscape(request->path))));
}

std::string HttpRouter::RouteOf(absl::string_view path) const {
  for (const Route& route : routes_) {
    std::string id;
    if (Matches(route, path, &id)) return route.pattern;
  }
  return "";
}

}  // namespace aad
