// The names go-grpc-prometheus gives status codes in grpc_code ("OK",
// "InvalidArgument", ...): the names Go's codes.Code prints, which the
// gRPC dashboards already filter on.
#ifndef AADD_SERVER_METRICS_GRPC_CODE_NAMES_H_
#define AADD_SERVER_METRICS_GRPC_CODE_NAMES_H_

#include <grpcpp/support/status.h>

#include "absl/strings/string_view.h"

namespace aad {

// "Unknown" for a value outside the 17 codes gRPC defines, so that the
// label stays bounded whatever a handler returns.
absl::string_view GrpcCodeName(grpc::StatusCode code);

// Codes 0..kGrpcCodeCount-1 are the defined ones.
inline constexpr int kGrpcCodeCount = 17;

}  // namespace aad

#endif  // AADD_SERVER_METRICS_GRPC_CODE_NAMES_H_
