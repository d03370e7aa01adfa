// The gateway's JSON: messages in the proto's canonical JSON mapping, by
// protobuf's own parser and printer, so that the HTTP API is the gRPC API
// in another encoding (field names in lowerCamelCase, int64 as strings,
// enums by name) and every malformed or misspelt input is refused with
// protobuf's message naming the field.
#ifndef AADD_SERVER_HTTP_HTTP_JSON_H_
#define AADD_SERVER_HTTP_HTTP_JSON_H_

#include <map>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace aad {

// `body` (a JSON object; empty means {}) into `message`, which is cleared
// first. INVALID_ARGUMENT naming the message type and, where protobuf
// names it, the field: malformed JSON, unknown field, wrong type.
absl::Status ParseJsonBody(absl::string_view body, google::protobuf::Message* message);

// A URL's query parameters (already decoded) into `message`, each taken as
// the JSON value of the field of that name (lowerCamelCase or proto name):
// ?k=3&strategy=QUERY_STRATEGY_TOP becomes {"k":"3","strategy":"QUERY_STRATEGY_TOP"}
// for protobuf's parser, which reads numbers and booleans from strings. A parameter
// given more than once, or naming a repeated field, becomes a list.
// INVALID_ARGUMENT naming the parameter when it is no field or its value
// does not parse.
absl::Status ParseQueryParameters(const std::multimap<std::string, std::string>& parameters,
                                  google::protobuf::Message* message);

// `message` as JSON into *json, fields at their default value included (a
// client sees "labels":"0" rather than no field at all). INTERNAL when
// protobuf refuses (a string field that is not UTF-8).
absl::Status MessageToJson(const google::protobuf::Message& message, std::string* json);

// {"code":"NOT_FOUND","message":"..."}: the canonical code's name and the
// status message, in that order, quoted by JsonQuote. (Not a
// google.protobuf.Struct: protobuf 3.21's map code, inlined into a build
// with GCC's ThreadSanitizer, crashes on the first insert.)
std::string ErrorToJson(const absl::Status& status);

}  // namespace aad

#endif  // AADD_SERVER_HTTP_HTTP_JSON_H_
