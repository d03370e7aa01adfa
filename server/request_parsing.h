// Request messages parsed from their bytes by the service itself, so that a
// request protobuf refuses gets INVALID_ARGUMENT naming the field (issue
// 17): gRPC's generated handlers answer a unary or server-streaming request
// that does not parse with UNIMPLEMENTED and an empty message, and end a
// client stream at such a message as if the client had closed its side.
// In proto3 a `string` field must be valid UTF-8 (the parser refuses
// anything else), so a session id of arbitrary bytes is the usual cause.
#ifndef AADD_SERVER_REQUEST_PARSING_H_
#define AADD_SERVER_REQUEST_PARSING_H_

#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace aad {

// Parses `bytes` into `message` as gRPC's handlers would. INVALID_ARGUMENT
// otherwise, naming the message type and, when it is one, the string field
// that is not UTF-8 (DescribeUnparsable); `what` (may be empty) leads the
// message, e.g. "ingest message 3".
absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* message,
                          absl::string_view what = "");

// Why `bytes`, which protobuf did not parse as `type`, are refused: the
// first string field (by its path from `type`: "feature_names[1]",
// "config.name") holding bytes that are not UTF-8, with those bytes escaped;
// else that they are not a `type` at all.
std::string DescribeUnparsable(absl::string_view bytes, const google::protobuf::Descriptor& type);

}  // namespace aad

#endif  // AADD_SERVER_REQUEST_PARSING_H_
