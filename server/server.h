// The aadd server assembled: session manager, service, health checking and
// reflection on one gRPC server, and the HTTP/JSON gateway with the
// labelling page on an HTTP port beside it. Used by the aadd binary and,
// in-process on port 0, by the integration tests and the benchmark.
#ifndef AADD_SERVER_SERVER_H_
#define AADD_SERVER_SERVER_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/server.h>

#include "absl/status/statusor.h"
#include "server/auth/authenticator.h"
#include "server/http/http_gateway.h"
#include "server/metrics/metrics.h"
#include "server/service.h"
#include "server/session_manager.h"
#include "server/tls/tls_files.h"

namespace aad {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see AaddServer::port).
  std::string address = "0.0.0.0:50051";
  // Largest request message accepted; larger ones get RESOURCE_EXHAUSTED.
  int max_message_bytes = 64 << 20;
  // HTTP/JSON gateway port, on the host of `address`: 0 = no gateway (the
  // in-process default), -1 = a free port (see AaddServer::http_port).
  int http_port = 0;
  // Largest HTTP request body accepted; larger ones get 413.
  int64_t http_max_body_bytes = int64_t{64} << 20;
  // HTTP server threads (HttpGatewayOptions::threads).
  int http_threads = 16;
  SessionManagerOptions sessions;
  // TLS on both ports (gRPC and the HTTP gateway's HTTPS), with client
  // certificates required when it has a client CA; unset: plaintext.
  std::optional<TlsFiles> tls;
  // Prometheus metrics (issue 14): counted, and served as GET /metrics on
  // the HTTP port. Off: no interceptor, no counting (benchmarks compare).
  // sessions.metrics is set by Start when on.
  bool metrics = true;
  // Bearer tokens and tenants (issue 14): the --auth_tokens file, read at
  // start (an error in it stops the start, naming the file) and again on
  // ReloadTokens. Empty: no tokens, every call the anonymous tenant's.
  std::string auth_tokens_file;
};

class AaddServer {
 public:
  // Restores the stored sessions (options.sessions.store), binds and starts
  // serving. The store's error when a session cannot be restored;
  // UNAVAILABLE when the address or the HTTP port cannot be bound.
  static absl::StatusOr<std::unique_ptr<AaddServer>> Start(const ServerOptions& options);
  // Shuts down (if Shutdown was not called) and releases everything.
  ~AaddServer();

  // The bound port. Thread-safe.
  int port() const { return port_; }
  // The bound HTTP port; 0 without a gateway. Thread-safe.
  int http_port() const { return http_ == nullptr ? 0 : http_->port(); }
  // Whether both ports serve TLS (ServerOptions::tls). Thread-safe.
  bool tls_enabled() const { return tls_enabled_; }

  // The drain, first step of a graceful shutdown: health NOT_SERVING (gRPC
  // and /healthz) and new work refused with UNAVAILABLE, while the server
  // still accepts calls: health checks are answered, reads served, calls in
  // flight go on, so that a load balancer can take the server out of
  // rotation. The caller decides how long (aadd: --drain_seconds), then
  // calls Shutdown. Idempotent.
  void StartDraining();

  // Graceful shutdown (after StartDraining, which it does if not done):
  // every new call refused with UNAVAILABLE; the streams a client keeps
  // open stopped (Ingest and Import end with UNAVAILABLE after the message
  // in hand, Train with its run's CANCELLED), training cancelled; calls in
  // flight given until `deadline` to finish; then, as soon as none is left
  // (or at `deadline`), gRPC shut down at once, cancelling what remains
  // (health watches, calls past the deadline) and closing the connections,
  // so that an idle client connection does not hold the exit; then the
  // HTTP gateway stopped (its calls in flight answered). Idempotent; neither
  // it nor StartDraining is to be called concurrently with itself or the
  // other.
  void Shutdown(std::chrono::system_clock::time_point deadline);

  // Blocks until the server has shut down.
  void Wait();

  // Reads the token file again (aadd: on SIGHUP); calls in flight go on,
  // new ones check the new table. Logs "auth tokens reloaded: N tokens for
  // M tenants from PATH" on success; an error (naming the file) keeps the
  // old table. FAILED_PRECONDITION without --auth_tokens. Thread-safe.
  absl::Status ReloadTokens();

 private:
  AaddServer() = default;

  // Declaration order matters: the servers (which call into the service)
  // are destroyed first, the sessions, then the metrics they report to, last.
  std::unique_ptr<Metrics> metrics_;  // null with metrics off
  std::unique_ptr<SessionManager> sessions_;
  std::unique_ptr<Authenticator> auth_;  // null without auth_tokens_file
  std::unique_ptr<AadService> service_;
  std::unique_ptr<HttpGateway> http_;  // null without --http_port
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool tls_enabled_ = false;
  bool draining_ = false;
  bool shut_down_ = false;
};

}  // namespace aad

#endif  // AADD_SERVER_SERVER_H_
