// A loopback TCP port that was free a moment ago, for a server a test
// starts that cannot be told port 0 (PostgreSQL, nginx). Another process
// may take it before the server binds it: callers retry on another port
// when their server reports the port taken.
#ifndef AADD_TESTS_TESTING_FREE_PORT_H_
#define AADD_TESTS_TESTING_FREE_PORT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aad::testing {

// -1 when no port could be had.
inline int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace aad::testing

#endif  // AADD_TESTS_TESTING_FREE_PORT_H_
