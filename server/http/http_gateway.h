// The HTTP side of aadd: a cpp-httplib server on its own threads that
// serves HttpApi (the JSON API and the labelling page) on one port, beside
// the gRPC server. cpp-httplib because Debian maintains it (a header and a
// shared library, libcpp-httplib-dev), it has a thread-pool server and a
// client for the tests, and its OpenSSL support is what HTTPS will need.
#ifndef AADD_SERVER_HTTP_HTTP_GATEWAY_H_
#define AADD_SERVER_HTTP_HTTP_GATEWAY_H_

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/http/http_api.h"
#include "server/tls/tls_files.h"
#include "server/metrics/metrics.h"
#include "server/unary_calls.h"

namespace httplib {
class Server;
}

namespace aad {

struct HttpGatewayOptions {
  // Interface to listen on ("0.0.0.0", "127.0.0.1", "::").
  std::string host = "0.0.0.0";
  // 0 picks a free port (see HttpGateway::port).
  int port = 8080;
  // Larger request bodies are refused with 413 before any call runs.
  int64_t max_body_bytes = int64_t{64} << 20;
  // Server threads: requests served at once. An open keep-alive connection
  // holds one while it is idle (up to 2 s), and a labels call that waits for
  // the model holds one until the model is published.
  int threads = 16;
  // HTTPS with this certificate (and client certificates required and
  // verified when it has a client CA); unset: plain HTTP.
  std::optional<TlsFiles> tls;
  // Counts every request by route and status, and serves GET /metrics (not
  // owned, must outlive the gateway); null: neither.
  Metrics* metrics = nullptr;
  // Checks every /v1 request's bearer token (not owned; must outlive the
  // gateway). Null: no tokens.
  const Authenticator* auth = nullptr;
};

class HttpGateway {
 public:
  // Binds options.host:options.port and serves `calls` on its own threads.
  // UNAVAILABLE naming the address when it cannot be bound. `calls` must
  // outlive the gateway.
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(UnaryCalls* calls,
                                                            const HttpGatewayOptions& options);
  // Stop()s.
  ~HttpGateway();
  HttpGateway(const HttpGateway&) = delete;
  HttpGateway& operator=(const HttpGateway&) = delete;

  // The bound port. Thread-safe.
  int port() const { return port_; }

  // Stops accepting connections and returns once every request in flight
  // is answered and the threads are joined (a labels call waiting for its
  // model keeps it waiting: cancel training first). An idle keep-alive
  // connection delays it by up to 2 s (cpp-httplib 0.11 polls it until its
  // timeout); with TLS, a connection that has not finished its handshake
  // by up to 5 s (cpp-httplib's read timeout bounds SSL_accept).
  // Idempotent; not to be called concurrently with itself.
  void Stop();

 private:
  HttpGateway(UnaryCalls* calls, const HttpGatewayOptions& options);

  // Constant after Start.
  const HttpGatewayOptions options_;
  const HttpApi api_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  // The listening thread, and its end (set when listen returns).
  std::thread listener_;
  std::future<void> listener_done_;
  bool stopped_ = false;
};

}  // namespace aad

#endif  // AADD_SERVER_HTTP_HTTP_GATEWAY_H_
