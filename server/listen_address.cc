#include "server/listen_address.h"

#include <netdb.h>
#include <sys/socket.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace aad {

absl::StatusOr<std::string> ListenAddress(const std::string& host, int port) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", port, " out of range (0..65535)"));
  }
  std::string bare = host;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  if (bare.empty()) {
    return absl::InvalidArgumentError(
        "--listen_address is empty (give an address such as 0.0.0.0, 127.0.0.1 or ::)");
  }
  // What bind() would be given: a numeric address, or a name the resolver
  // knows (AI_PASSIVE: an address to listen on).
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int error = getaddrinfo(bare.c_str(), nullptr, &hints, &found);
  if (error != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen_address '", host, "': not an address, nor a host name that resolves (",
        gai_strerror(error), ")"));
  }
  freeaddrinfo(found);
  // gRPC wants an IPv6 address in brackets.
  return absl::StrContains(bare, ':') ? absl::StrCat("[", bare, "]:", port)
                                      : absl::StrCat(bare, ":", port);
}

}  // namespace aad
