// --listen_address: the interface both of aadd's ports (gRPC and HTTP)
// listen on, checked before anything binds so that a typo is named as such
// rather than as a port that cannot be bound.
#ifndef AADD_SERVER_LISTEN_ADDRESS_H_
#define AADD_SERVER_LISTEN_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"

namespace aad {

// The gRPC "host:port" for `host` (an IPv4 or IPv6 address, "[::1]" too, or
// a host name that resolves) and `port`: "0.0.0.0:50051", "[::]:50051".
// INVALID_ARGUMENT naming the address when it is empty, is no address and
// does not resolve, or when the port is out of 0..65535.
absl::StatusOr<std::string> ListenAddress(const std::string& host, int port);

}  // namespace aad

#endif  // AADD_SERVER_LISTEN_ADDRESS_H_
