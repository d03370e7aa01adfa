// The one place where the service's absl::Status becomes a grpc::Status.
// Both use the canonical code space; this keeps the conversion explicit so
// that a code the wire must not carry (none today) has one place to change.
#ifndef AADD_SERVER_STATUS_MAPPING_H_
#define AADD_SERVER_STATUS_MAPPING_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace aad {

// Same code, same message. Thread-safe, pure.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace aad

#endif  // AADD_SERVER_STATUS_MAPPING_H_
