// What an HTTP handler of the gateway takes and gives, free of the server
// library: the routes and the API are plain functions of these, and only
// http_gateway.cc knows cpp-httplib.
#ifndef AADD_SERVER_HTTP_HTTP_EXCHANGE_H_
#define AADD_SERVER_HTTP_HTTP_EXCHANGE_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace aad {

struct HttpRequest {
  std::string method;  // GET (HEAD is served as GET), POST, DELETE, ...
  std::string path;    // percent-decoded, without the query
  std::multimap<std::string, std::string> query;  // decoded parameters
  absl::string_view body;  // valid while the request is served
  std::string id;  // the path's {id}, set by the router
  // The pattern of the route the path matched ("/v1/sessions/{id}"), set by
  // the router; empty when none did.
  std::string route;
  // The Authorization header; nullopt when the request has none.
  std::optional<std::string> authorization;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type
};

// The reply for `status`: its HTTP status (http_status.h) and the body
// {"code":"NOT_FOUND","message":"..."}. `status` must not be OK.
HttpReply ErrorReply(const absl::Status& status);

// ErrorReply(status) when it is not OK, else 200 with `message` as JSON.
HttpReply MessageReply(const absl::Status& status, const google::protobuf::Message& message);

}  // namespace aad

#endif  // AADD_SERVER_HTTP_HTTP_EXCHANGE_H_
