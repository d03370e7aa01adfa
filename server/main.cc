// aadd: the active anomaly detection server.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include <malloc.h>
#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "cli/command_line.h"
#include "google/protobuf/stubs/logging.h"
#include "absl/strings/str_cat.h"
#include "server/listen_address.h"
#include "server/log.h"
#include "server/server.h"
#include "server/tls/tls_files.h"
#include "server/storage/memory_session_store.h"
#include "server/storage/postgres_session_store.h"
#include "server/storage/sqlite_session_store.h"

ABSL_FLAG(int, port, 50051, "TCP port to listen on (on --listen_address); 0 picks a free port");
ABSL_FLAG(int, http_port, 8080,
          "HTTP port of the JSON API and the labelling page (same interfaces as --port); "
          "0: no HTTP; -1 picks a free port, which the log names (http listening on port N)");
ABSL_FLAG(int64_t, http_max_body_bytes, int64_t{64} << 20,
          "largest HTTP request body in bytes; larger ones get 413");
ABSL_FLAG(int, http_threads, 16,
          "HTTP requests served at once (an idle keep-alive connection holds one for up to 2 s)");
ABSL_FLAG(std::string, data_dir, "./aadd-data",
          "directory of the durable session store (DIR/aadd.db, SQLite; created if missing, "
          "locked against a second aadd): every acknowledged row, label and model survives a "
          "crash, and sessions come back on restart. Empty (--data_dir=): in memory only");
ABSL_FLAG(bool, in_memory, false,
          "keep sessions in memory only (nothing survives the process), ignoring --data_dir");
// The shared PostgreSQL store (issue 15).
ABSL_FLAG(std::string, store, "",
          "a PostgreSQL server to keep sessions in instead of --data_dir: a libpq URI "
          "postgresql://USER@HOST:PORT/DATABASE (the password from PGPASSWORD or ~/.pgpass, "
          "never here); the schema is created at start. Empty: SQLite in --data_dir");
ABSL_FLAG(int, store_connections, 4,
          "connections to the --store PostgreSQL server, shared by all calls: at most this "
          "many store transactions run at once");
// Several replicas on one --store (issue 15): leases and takeover.
ABSL_FLAG(std::string, replica_id, "",
          "this replica's name in the shared --store's leases and in messages (a session "
          "held elsewhere is answered UNAVAILABLE naming its holder). Empty: the host name");
ABSL_FLAG(int, lease_seconds, 10,
          "with --store: how long a replica's hold on a session lasts unrenewed (renewed every "
          "third of it); a session whose holder died is taken over this long after its last "
          "renewal, by the first replica that gets a call for it");
ABSL_FLAG(int, idle_release_seconds, 0,
          "with --store: a session without a call for this long is released (its memory "
          "freed, its lease given up; the next call on any replica loads it). 0: never");
ABSL_FLAG(int, training_threads, 2,
          "threads that train models, shared by all sessions: at most this many models train "
          "at once; each session trains one model at a time");
ABSL_FLAG(int64_t, max_sessions, 1000,
          "most sessions held at once; CreateSession beyond it gets RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, max_rows_per_session, 10'000'000,
          "most rows one session may hold; Ingest beyond it gets RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, max_features, 4096,
          "most features per row; wider rows get RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_message_bytes, 64 << 20,
          "largest request message in bytes; larger ones get RESOURCE_EXHAUSTED (clients "
          "split ingest into batches below it)");
ABSL_FLAG(int64_t, max_import_bytes, int64_t{4} << 30,
          "largest session archive ImportSession (aadctl import) takes; it is held in memory "
          "while the session is rebuilt; larger ones get RESOURCE_EXHAUSTED");
ABSL_FLAG(int, drain_seconds, 5,
          "on SIGTERM/SIGINT, how long the server first reports NOT_SERVING to health checks "
          "(gRPC and /healthz) while still answering them, refusing new work with UNAVAILABLE, "
          "so that a load balancer takes it out of rotation; a second signal ends the wait. "
          "0: none");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "on SIGTERM/SIGINT, after the drain, how long calls in flight get to finish before "
          "they are cut");
ABSL_FLAG(std::string, listen_address, "0.0.0.0",
          "interface both ports (--port, --http_port) listen on: 0.0.0.0 (all IPv4), "
          "127.0.0.1 (this machine only), :: (all, IPv6 too), or a host name");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate (chain, leaf first) to serve TLS with on both ports (gRPC, and "
          "HTTPS on --http_port); needs --tls_key. Read and checked at start");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert (unencrypted)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificate(s): with it, every client (gRPC and HTTPS) must present a "
          "certificate it signed (mutual TLS); needs --tls_cert");
// Issue 14, metrics.
ABSL_FLAG(bool, metrics, true,
          "count Prometheus metrics (gRPC calls, sessions, training, store, HTTP) and serve "
          "them as GET /metrics on --http_port; --nometrics turns counting off");

// Tokens and tenants (issue 14).
ABSL_FLAG(std::string, auth_tokens, "",
          "bearer-token file: lines 'TOKEN TENANT' (blank lines and # comments allowed; tokens "
          "of 16+ printable characters, tenants 1-64 of [A-Za-z0-9_-]); it must not be "
          "world-readable. Every aad.v1 call (gRPC and /v1 HTTP) then needs "
          "'authorization: Bearer TOKEN' and sees only its tenant's sessions; health checks, "
          "reflection, /healthz and the page stay open. SIGHUP reloads it. Empty: no tokens");
ABSL_FLAG(int64_t, max_sessions_per_tenant, 0,
          "most sessions one tenant may hold; beyond it RESOURCE_EXHAUSTED. 0: no limit");
ABSL_FLAG(int64_t, max_rows_per_tenant, 0,
          "most rows all sessions of one tenant may hold together; beyond it "
          "RESOURCE_EXHAUSTED. 0: no limit");

namespace {

// The default --replica_id.
std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "aadd";
  return name;
}

// protobuf's own log lines as aadd's (one line, timestamped): it logs one
// for each request string that is not UTF-8, which the service answers
// with INVALID_ARGUMENT (server/request_parsing.h) — a client's mistake,
// hence a warning.
void LogProtobuf(google::protobuf::LogLevel level, const char* file, int line,
                 const std::string& message) {
  aad::Log(level >= google::protobuf::LOGLEVEL_FATAL ? aad::LogLevel::kError
           : level >= google::protobuf::LOGLEVEL_WARNING ? aad::LogLevel::kWarning
                                                         : aad::LogLevel::kInfo,
           "", absl::StrCat("protobuf (", file, ":", line, "): ", message));
}

// Waits up to `timeout` for one of `signals` (blocked in every thread):
// its number, or 0 when the time is up.
int WaitForSignal(const sigset_t* signals, std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = end - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return 0;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec wait = {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    const int got = sigtimedwait(signals, nullptr, &wait);
    if (got > 0) return got;
    if (errno != EINTR) return 0;  // EAGAIN: the time is up
  }
}

// Waits for SIGTERM or SIGINT (its number), reloading the token file on
// each SIGHUP meanwhile (`tokens`: there is one): calls in flight go on
// through a reload.
int WaitForShutdownSignal(const sigset_t* waited, bool tokens, aad::AaddServer* server) {
  for (;;) {
    int signal = 0;
    sigwait(waited, &signal);
    if (signal != SIGHUP) return signal;
    if (!tokens) {
      aad::LogWarning("", "SIGHUP ignored: there is no token file to reload (--auth_tokens)");
      continue;
    }
    // Logs its outcome, success or error; the old table stays on an error.
    (void)server->ReloadTokens();
  }
}

}  // namespace

int main(int argc, char** argv) {
  aad::ShowFlagsOfFileInHelp("/server/main.cc");
  absl::SetProgramUsageMessage(
      "aadd: active anomaly detection server (gRPC service aad.v1.ActiveAnomalyDetection,\n"
      "grpc.health.v1 health checking and server reflection; the same calls as JSON over\n"
      "HTTP and the labelling page on --http_port).\n"
      "  aadd [--port 50051] [--http_port 8080] [--data_dir DIR] [--training_threads 2] [limits...]\n"
      "  TLS on both ports: --tls_cert FILE --tls_key FILE [--tls_client_ca FILE (mTLS)];\n"
      "  --listen_address 127.0.0.1 (default 0.0.0.0) for this machine only.\n"
      "SIGTERM or SIGINT shut it down gracefully (exit status 0): --drain_seconds of\n"
      "NOT_SERVING, then calls in flight get --shutdown_grace_seconds.");
  // A fixed mmap threshold (glibc's starting value, 128 KiB): every larger
  // buffer (an ingest message's floats, a pool's score vectors) is mapped
  // and given back when freed. glibc otherwise raises the threshold to the
  // largest buffer freed so far, and the freed buffers then stay resident
  // in each thread's arena: 33 bytes a row after a 1M-row ingest over gRPC
  // (bench/README.md, "Memory per session").
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  absl::ParseCommandLine(argc, argv);
  google::protobuf::SetLogHandler(&LogProtobuf);
  const int drain_seconds = absl::GetFlag(FLAGS_drain_seconds);
  const int grace_seconds = absl::GetFlag(FLAGS_shutdown_grace_seconds);
  if (drain_seconds < 0 || grace_seconds < 0) {
    std::fprintf(stderr, "aadd: --drain_seconds and --shutdown_grace_seconds must be >= 0\n");
    return 1;
  }

  // Checked before the store is opened, so that a bad flag leaves no trace.
  auto listen_address =
      aad::ListenAddress(absl::GetFlag(FLAGS_listen_address), absl::GetFlag(FLAGS_port));
  if (!listen_address.ok()) {
    std::fprintf(stderr, "aadd: %s\n", std::string(listen_address.status().message()).c_str());
    return 1;
  }
  // Certificates are read once, here: a bad file stops aadd now, naming it.
  auto tls = aad::LoadTlsFiles({absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                absl::GetFlag(FLAGS_tls_client_ca)});
  if (!tls.ok()) {
    std::fprintf(stderr, "aadd: %s\n", std::string(tls.status().message()).c_str());
    return 1;
  }

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  // Owned here, declared before the server: it outlives every session.
  std::unique_ptr<aad::SessionStore> store;
  std::string store_description;
  aad::SessionLeases* leases = nullptr;  // the shared store's, in `store`
  const std::string store_uri = absl::GetFlag(FLAGS_store);
  if (!store_uri.empty() && absl::GetFlag(FLAGS_in_memory)) {
    // Two stores asked for: a durable one must not turn volatile by a flag
    // left in a script, nor the reverse.
    std::fprintf(stderr, "aadd: --store and --in_memory name two different stores; give one\n");
    return 1;
  }
  if (!store_uri.empty()) {
    // --store: PostgreSQL. Messages name the server, never the URI (it may
    // hold a password).
    const int connections = absl::GetFlag(FLAGS_store_connections);
    if (connections < 1) {
      std::fprintf(stderr, "aadd: --store_connections must be at least 1, not %d\n", connections);
      return 1;
    }
    const int lease_seconds = absl::GetFlag(FLAGS_lease_seconds);
    if (lease_seconds < 1 || lease_seconds > 3600) {
      std::fprintf(stderr, "aadd: --lease_seconds must be in 1..3600, not %d\n", lease_seconds);
      return 1;
    }
    if (absl::GetFlag(FLAGS_idle_release_seconds) < 0) {
      std::fprintf(stderr, "aadd: --idle_release_seconds must be >= 0 (0: never), not %d\n",
                   absl::GetFlag(FLAGS_idle_release_seconds));
      return 1;
    }
    aad::PostgresStoreOptions store_options;
    store_options.connections = connections;
    store_options.replica = absl::GetFlag(FLAGS_replica_id);
    if (store_options.replica.empty()) store_options.replica = HostName();
    store_options.lease = std::chrono::seconds(lease_seconds);
    auto opened = aad::PostgresSessionStore::Open(store_uri, store_options);
    if (!opened.ok()) {
      std::fprintf(stderr, "aadd: cannot open the session store --store: %s\n",
                   std::string(opened.status().message()).c_str());
      return 1;
    }
    store_description = absl::StrCat("durable sessions in ", (*opened)->server(), ", ",
                                     connections, " connections, shared as replica ",
                                     (*opened)->holder(), " (leases of ", lease_seconds, " s)");
    leases = opened->get();
    store = *std::move(opened);
  } else if (!absl::GetFlag(FLAGS_replica_id).empty() ||
             absl::GetFlag(FLAGS_lease_seconds) != 10 ||
             absl::GetFlag(FLAGS_idle_release_seconds) != 0) {
    // Flags for a store this aadd does not have: the operator meant one.
    std::fprintf(stderr,
                 "aadd: --replica_id, --lease_seconds and --idle_release_seconds are for a "
                 "shared --store postgresql://...; this aadd keeps its sessions to itself\n");
    return 1;
  } else if (absl::GetFlag(FLAGS_in_memory) || data_dir.empty()) {
    store = std::make_unique<aad::MemorySessionStore>();
    store_description = "sessions in memory only (--in_memory or --data_dir=): nothing survives";
  } else {
    auto opened = aad::SqliteSessionStore::Open(data_dir);
    if (!opened.ok()) {
      std::fprintf(stderr, "aadd: cannot open the session store in --data_dir '%s': %s\n",
                   data_dir.c_str(), std::string(opened.status().message()).c_str());
      return 1;
    }
    store_description = absl::StrCat("durable sessions in ", (*opened)->path());
    store = *std::move(opened);
  }
  aad::LogInfo("", store_description);

  // Block the shutdown signals in every thread (gRPC's threads inherit the
  // mask) and take them synchronously below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // SIGHUP reloads --auth_tokens: blocked too, taken only while serving
  // (during the drain it waits, ignored).
  sigset_t waited = signals;
  sigaddset(&waited, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &waited, nullptr);

  aad::ServerOptions options;
  options.address = *std::move(listen_address);
  options.tls = *std::move(tls);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.http_port = absl::GetFlag(FLAGS_http_port);
  options.http_max_body_bytes = absl::GetFlag(FLAGS_http_max_body_bytes);
  options.http_threads = absl::GetFlag(FLAGS_http_threads);
  options.sessions.training_threads = absl::GetFlag(FLAGS_training_threads);
  options.sessions.max_sessions = absl::GetFlag(FLAGS_max_sessions);
  options.sessions.limits.max_rows_per_session = absl::GetFlag(FLAGS_max_rows_per_session);
  options.sessions.limits.max_features = absl::GetFlag(FLAGS_max_features);
  options.sessions.max_import_bytes = absl::GetFlag(FLAGS_max_import_bytes);
  options.sessions.store = store.get();
  if (leases != nullptr) {
    options.sessions.leases = leases;
    options.sessions.lease_renewal =
        std::chrono::milliseconds(absl::GetFlag(FLAGS_lease_seconds) * 1000 / 3);
    options.sessions.idle_release = std::chrono::seconds(absl::GetFlag(FLAGS_idle_release_seconds));
  }
  options.metrics = absl::GetFlag(FLAGS_metrics);
  options.auth_tokens_file = absl::GetFlag(FLAGS_auth_tokens);
  options.sessions.max_sessions_per_tenant = absl::GetFlag(FLAGS_max_sessions_per_tenant);
  options.sessions.max_rows_per_tenant = absl::GetFlag(FLAGS_max_rows_per_tenant);
  auto server = aad::AaddServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "aadd: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  const int signal =
      WaitForShutdownSignal(&waited, !options.auth_tokens_file.empty(), server->get());
  (*server)->StartDraining();
  // Logged once draining: a test may wait for this line.
  aad::LogInfo("", absl::StrCat("signal ", signal, ": draining for ", drain_seconds,
                                " s (health NOT_SERVING, new work refused; a second signal "
                                "ends the wait)"));
  if (int second = WaitForSignal(&signals, std::chrono::seconds(drain_seconds)); second > 0) {
    aad::LogInfo("", absl::StrCat("signal ", second, ": drain cut short"));
  }
  aad::LogInfo("", absl::StrCat("shutting down: calls in flight get up to ", grace_seconds,
                                " s"));
  (*server)->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(grace_seconds));
  (*server)->Wait();
  server->reset();
  return 0;
}
