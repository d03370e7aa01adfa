#include "server/http/http_gateway.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/http/http_status.h"
#include "server/log.h"

namespace aad {
namespace {

// A keep-alive connection holds a server thread while idle, and Stop()
// waits for it (see Stop): short, and many requests a connection, so that
// a page or a client in a loop keeps its connection.
constexpr time_t kKeepAliveSeconds = 2;
constexpr size_t kKeepAliveRequests = 1000;

// A chunked body over the limit is read on, unstored, for up to this much
// more before the 413 goes out: a connection closed with bytes unread ends
// in a TCP reset, which can reach the client before the reply and lose it
// (cpp-httplib likewise skips a declared Content-Length it refuses).
constexpr int64_t kMinDrainBytes = 1 << 20;

// aadd_http_requests_total's path_template for a path no route matches.
constexpr char kUnmatchedRoute[] = "unmatched";

HttpRequest FromHttplib(const httplib::Request& req, absl::string_view body) {
  HttpRequest request;
  // cpp-httplib serves HEAD with the GET handlers and drops the body.
  request.method = req.method == "HEAD" ? "GET" : req.method;
  request.path = req.path;  // cpp-httplib has percent-decoded it
  request.query = req.params;  // the URL's: bodies are read apart
  request.body = body;
  if (req.has_header("Authorization")) request.authorization = req.get_header_value("Authorization");
  return request;
}

void ToHttplib(HttpReply reply, httplib::Response* res) {
  res->status = reply.status;
  for (const auto& [name, value] : reply.headers) res->set_header(name, value);
  // Served as declared, never sniffed into something else (a JSON error
  // quoting client text read as HTML).
  res->set_header("X-Content-Type-Options", "nosniff");
  res->body = std::move(reply.body);
  res->set_header("Content-Type", reply.content_type);
}

// The reply to a request cpp-httplib refused on its own (before or while
// reading the body), by the status it chose.
HttpReply RefusalReply(int status, int64_t max_body_bytes) {
  std::string message;
  switch (status) {
    case 413:
      message = absl::StrCat("request body over the limit of ", max_body_bytes,
                             " bytes (aadd --http_max_body_bytes)");
      break;
    case 414:
      message = "request URI too long";
      break;
    case 400:
      message = "malformed HTTP request";
      break;
    default:
      message = absl::StrCat("HTTP status ", status);
  }
  HttpReply reply = ErrorReply(absl::Status(CodeOfHttpStatus(status), message));
  reply.status = status;
  return reply;
}

// Plain HTTP, or HTTPS with the TLS files, which cpp-httplib reads itself
// (LoadTlsFiles has checked them); is_valid() tells whether it could.
std::unique_ptr<httplib::Server> MakeServer(const HttpGatewayOptions& options) {
  if (!options.tls.has_value()) return std::make_unique<httplib::Server>();
  const TlsPaths& paths = options.tls->paths;
  // With a client CA, cpp-httplib requires and verifies client certificates
  // (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
  auto server = std::make_unique<httplib::SSLServer>(
      paths.cert_file.c_str(), paths.key_file.c_str(),
      paths.client_ca_file.empty() ? nullptr : paths.client_ca_file.c_str());
  // cpp-httplib 0.11 allows TLS 1.1; gRPC's floor is 1.2.
  if (server->is_valid()) SSL_CTX_set_min_proto_version(server->ssl_context(), TLS1_2_VERSION);
  return server;
}

}  // namespace

HttpGateway::HttpGateway(UnaryCalls* calls, const HttpGatewayOptions& options)
    : options_(options), api_(calls, options.metrics, options.auth), server_(MakeServer(options)) {}

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(
    UnaryCalls* calls, const HttpGatewayOptions& options) {
  if (options.port < 0 || options.port > 65535 || options.max_body_bytes < 0 ||
      options.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP gateway options out of range: port ", options.port, " (0..65535), max body bytes ",
        options.max_body_bytes, " (>= 0), threads ", options.threads, " (>= 1)"));
  }
  std::unique_ptr<HttpGateway> gateway(new HttpGateway(calls, options));
  httplib::Server& server = *gateway->server_;
  if (!server.is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTPS cannot load --tls_cert '", options.tls->paths.cert_file, "', --tls_key '",
        options.tls->paths.key_file, "' or --tls_client_ca '", options.tls->paths.client_ca_file,
        "'"));
  }
  const size_t threads = static_cast<size_t>(options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(static_cast<size_t>(options.max_body_bytes));
  server.set_keep_alive_timeout(kKeepAliveSeconds);
  server.set_keep_alive_max_count(kKeepAliveRequests);
  // Small JSON replies: without it, Nagle's algorithm and the client's
  // delayed ACK hold each one back by tens of milliseconds.
  server.set_tcp_nodelay(true);
  // cpp-httplib's default also sets SO_REUSEPORT, with which a second aadd
  // on the same port binds without error and the kernel splits the
  // connections between the two. SO_REUSEADDR alone: a restarted aadd
  // rebinds at once, a second one is refused.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  const HttpApi* api = &gateway->api_;
  const int64_t max_body_bytes = options.max_body_bytes;
  Metrics* const metrics = options.metrics;
  // Each reply counted by the route its path matched: a bounded label,
  // where the path itself holds session ids.
  const auto count = [metrics](const std::string& route, int status,
                               std::chrono::steady_clock::time_point start) {
    if (metrics == nullptr) return;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    metrics->CountHttpRequest(route.empty() ? kUnmatchedRoute : route, status, elapsed.count());
  };
  const auto serve = [api, count](const httplib::Request& req, absl::string_view body,
                                  httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    HttpRequest request = FromHttplib(req, body);
    HttpReply reply = api->Handle(&request);
    count(request.route, reply.status, start);
    if (reply.status >= 500) {
      LogWarning(request.id, absl::StrCat("HTTP ", request.method, " ", request.path, ": ",
                                          reply.status, " ", reply.body));
    }
    ToHttplib(std::move(reply), &res);
  };
  const httplib::Server::Handler without_body =
      [serve](const httplib::Request& req, httplib::Response& res) { serve(req, "", res); };
  // Methods with a body read it through a content reader: cpp-httplib then
  // leaves it alone, where it would otherwise parse a body sent as a form
  // (curl -d sends JSON so) into the query parameters, and refuse one over
  // 8 KiB.
  const httplib::Server::HandlerWithContentReader with_body =
      [serve, count, api, max_body_bytes](const httplib::Request& req, httplib::Response& res,
                                          const httplib::ContentReader& read) {
        const auto start = std::chrono::steady_clock::now();
        std::string body;
        bool over_limit = false;
        int64_t drained = 0;
        const int64_t drain_limit = std::max(max_body_bytes, kMinDrainBytes);
        const bool complete = read([&](const char* data, size_t size) {
          if (!over_limit) {
            over_limit = static_cast<int64_t>(body.size() + size) > max_body_bytes;
            if (!over_limit) {
              body.append(data, size);
              return true;
            }
            body.clear();
          }
          drained += static_cast<int64_t>(size);
          return drained <= drain_limit;
        });
        if (!complete || over_limit) {
          // Over the limit: cpp-httplib's check (413, from Content-Length) or
          // ours (a chunked body); else a malformed body (cpp-httplib's 400).
          const int status = over_limit ? 413 : res.status > 0 ? res.status : 400;
          ToHttplib(RefusalReply(status, max_body_bytes), &res);
          count(api->RouteOf(req.path), status, start);
          return;
        }
        serve(req, body, res);
      };
  // Every method reaches the router, which tells 404 from 405 itself.
  server.Get(".*", without_body);
  server.Options(".*", without_body);
  server.Post(".*", with_body);
  server.Put(".*", with_body);
  server.Patch(".*", with_body);
  server.Delete(".*", with_body);
  server.Post(".*", without_body);
  server.Put(".*", without_body);
  server.Patch(".*", without_body);
  server.Delete(".*", without_body);
  // What cpp-httplib refuses before any handler (a body over the limit, a
  // malformed request line) gets the same JSON error body as the API's.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body_bytes, count, api](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // a reply of ours
    ToHttplib(RefusalReply(res.status, max_body_bytes), &res);
    count(api->RouteOf(req.path), res.status, std::chrono::steady_clock::now());
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        LogError("", absl::StrCat("HTTP ", req.method, " ", req.path, ": ", what));
        ToHttplib(ErrorReply(absl::InternalError(what)), &res);
      });

  errno = 0;
  if (options.port == 0) {
    gateway->port_ = server.bind_to_any_port(options.host);
  } else {
    gateway->port_ = server.bind_to_port(options.host, options.port) ? options.port : -1;
  }
  if (gateway->port_ <= 0) {
    const int error = errno;
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", options.host, ":",
                                               options.port,
                                               error != 0 ? ": " : "",
                                               error != 0 ? std::strerror(error) : ""));
  }
  std::promise<void> done;
  gateway->listener_done_ = done.get_future();
  gateway->listener_ = std::thread([&server, done = std::move(done)]() mutable {
    server.listen_after_bind();
    done.set_value();
  });
  return gateway;
}

HttpGateway::~HttpGateway() { Stop(); }

void HttpGateway::Stop() {
  if (stopped_ || !listener_.joinable()) return;
  stopped_ = true;
  // cpp-httplib 0.11's stop() does nothing until the listen loop has marked
  // itself running, which the listener thread may not have reached yet; and
  // a second stop() while the loop winds down asserts. So: wait for the loop
  // to run (or to have ended on its own), stop it once, then wait.
  while (!server_->is_running()) {
    if (listener_done_.wait_for(std::chrono::milliseconds(1)) == std::future_status::ready) break;
  }
  if (server_->is_running()) server_->stop();
  listener_.join();
}

}  // namespace aad
