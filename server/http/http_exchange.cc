#include "server/http/http_exchange.h"

#include "server/http/http_json.h"
#include "server/http/http_status.h"

namespace aad {

HttpReply ErrorReply(const absl::Status& status) {
  HttpReply reply;
  reply.status = HttpStatusOf(status.code());
  reply.body = ErrorToJson(status);
  return reply;
}

HttpReply MessageReply(const absl::Status& status, const google::protobuf::Message& message) {
  if (!status.ok()) return ErrorReply(status);
  HttpReply reply;
  if (absl::Status printed = MessageToJson(message, &reply.body); !printed.ok()) {
    return ErrorReply(printed);
  }
  return reply;
}

}  // namespace aad
