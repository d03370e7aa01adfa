// Debian's nginx (/usr/sbin/nginx, nginx-light) in front of aadd replicas on
// loopback, configured from the SHIPPED deploy/nginx/aadd.conf, as
// tests/deploy/nginx_affinity_test.sh does in shell: the file's upstream
// `server` lines become the replicas' 127.0.0.1:PORT (with the shipped
// lines' parameters, e.g. max_fails), its `listen` line a free loopback
// port, and it is included in a minimal nginx.conf that keeps every path in
// a temporary directory and runs in the foreground. The test therefore
// follows whatever the shipped file says about hashing and failover.
//
// One substitution: a shipped `grpc_next_upstream off;` (a session lived on
// one replica's disk, so another could not serve it) becomes
// `grpc_next_upstream error;` so that a call for a dead replica's session
// goes on to a survivor that can take the session over from the shared
// store. A shipped file that already fails over is used as it is.
#ifndef AADD_TESTS_INTEGRATION_NGINX_PROXY_H_
#define AADD_TESTS_INTEGRATION_NGINX_PROXY_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/aad_client.h"
#include "tests/testing/free_port.h"
#include "tests/testing/temp_dir.h"

extern char** environ;

namespace aad::testing {

class NginxProxy {
 public:
  static constexpr char kBinary[] = "/usr/sbin/nginx";

  // nginx with `shipped_conf` (the path of deploy/nginx/aadd.conf) routing
  // to 127.0.0.1:PORT for each of `upstream_ports`, serving once a health
  // call through it is answered.
  static absl::StatusOr<std::unique_ptr<NginxProxy>> Start(const std::string& shipped_conf,
                                                           const std::vector<int>& upstream_ports) {
    if (access(kBinary, X_OK) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "nginx is not installed (no ", kBinary,
          "): scripts/install-deps.sh --deploy installs nginx-light"));
    }
    std::ifstream in(shipped_conf);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", shipped_conf));
    std::stringstream text;
    text << in.rdbuf();
    std::unique_ptr<NginxProxy> proxy(new NginxProxy());
    if (proxy->dir_.path().empty()) return absl::InternalError("no temporary directory");
    // Another process may take a port between FreePort and nginx's bind.
    absl::Status last = absl::InternalError("no attempt");
    for (int attempt = 0; attempt < 10; ++attempt) {
      const int port = FreeLoopbackPort();
      absl::StatusOr<std::string> conf = Substitute(text.str(), upstream_ports, port);
      if (!conf.ok()) return conf.status();
      last = proxy->Run(*conf, port);
      if (last.ok()) return proxy;
    }
    return last;
  }

  ~NginxProxy() { Stop(); }
  NginxProxy(const NginxProxy&) = delete;
  NginxProxy& operator=(const NginxProxy&) = delete;

  int port() const { return port_; }
  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  // The configuration nginx runs with (for failure messages).
  const std::string& conf() const { return conf_; }
  std::string ErrorLog() const { return ReadFile(absl::StrCat(dir_.path(), "/error.log")); }
  // One line per call: "x-session-id upstream-address(es) status".
  std::string AccessLog() const { return ReadFile(absl::StrCat(dir_.path(), "/access.log")); }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  // The shipped text with the replicas, the port and failover filled in.
  static absl::StatusOr<std::string> Substitute(const std::string& shipped,
                                                const std::vector<int>& upstream_ports,
                                                int listen_port) {
    // "    server aadd-0.aadd-headless:50051 max_fails=0;": address, then parameters.
    static const std::regex kServer(R"(^\s*server\s+[^\s;{]+([^;{]*);\s*$)");
    static const std::regex kListen(R"(^\s*listen\s)");
    std::string out;
    bool servers_written = false, listen_written = false, hashes = false;
    for (const absl::string_view line_view : absl::StrSplit(shipped, '\n')) {
      std::string line(line_view);
      std::smatch match;
      if (std::regex_match(line, match, kServer)) {
        if (!servers_written) {
          for (int p : upstream_ports) {
            absl::StrAppend(&out, "    server 127.0.0.1:", p, match[1].str(), ";\n");
          }
          servers_written = true;
        }
        continue;
      }
      // One loopback listen line for all the shipped ones (e.g. IPv4 and IPv6).
      if (std::regex_search(line, kListen)) {
        if (!listen_written) absl::StrAppend(&out, "    listen 127.0.0.1:", listen_port, " http2;\n");
        listen_written = true;
        continue;
      }
      hashes |= line.find("hash $http_x_session_id consistent") != std::string::npos;
      const size_t off = line.find("grpc_next_upstream off;");
      if (off != std::string::npos) line.replace(off, 23, "grpc_next_upstream error;");
      absl::StrAppend(&out, line, "\n");
    }
    if (!servers_written || !listen_written || !hashes) {
      return absl::FailedPreconditionError(
          "deploy/nginx/aadd.conf lacks an upstream `server` line, a `listen` line or "
          "`hash $http_x_session_id consistent`");
    }
    return out;
  }

 private:
  NginxProxy() = default;

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Writes the configuration, spawns nginx and waits (deadline 20 s) until
  // a health call through it is answered; an nginx that exits (its port
  // was taken) is an error with its log.
  absl::Status Run(const std::string& aadd_conf, int port) {
    const std::string& d = dir_.path();
    conf_ = aadd_conf;
    std::ofstream(absl::StrCat(d, "/aadd.conf")) << aadd_conf;
    std::ofstream(absl::StrCat(d, "/nginx.conf"))
        << (geteuid() == 0 ? "user root;\n" : "") << "daemon off;\n"
        << "worker_processes 1;\n"
        << "pid " << d << "/nginx.pid;\n"
        << "error_log " << d << "/error.log notice;\n"
        << "events { worker_connections 512; }\n"
        << "http {\n"
        << "  log_format affinity '$http_x_session_id $upstream_addr $status';\n"
        << "  access_log " << d << "/access.log affinity;\n"
        << "  client_body_temp_path " << d << "/body;\n"
        << "  proxy_temp_path " << d << "/proxy;\n"
        << "  fastcgi_temp_path " << d << "/fastcgi;\n"
        << "  uwsgi_temp_path " << d << "/uwsgi;\n"
        << "  scgi_temp_path " << d << "/scgi;\n"
        << "  include " << d << "/aadd.conf;\n"
        << "}\n";
    std::vector<std::string> storage = {kBinary, "-p", d, "-c", absl::StrCat(d, "/nginx.conf"),
                                        "-e", absl::StrCat(d, "/error.log")};
    std::vector<char*> argv;
    for (std::string& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, kBinary, nullptr, nullptr, argv.data(), environ);
    if (rc != 0) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("cannot spawn nginx: ", std::strerror(rc)));
    }
    port_ = port;
    ClientOptions options;
    options.target = target();
    options.timeout = std::chrono::seconds(2);
    options.max_attempts = 1;
    AadClient client(options);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::UnavailableError(
            absl::StrCat("nginx on port ", port, " exited; log:\n", ErrorLog()));
      }
      if (client.Health().ok()) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Stop();
    return absl::DeadlineExceededError(
        absl::StrCat("nginx on port ", port, " answered no health call in 20 s; log:\n",
                     ErrorLog()));
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string conf_;
};

}  // namespace aad::testing

#endif  // AADD_TESTS_INTEGRATION_NGINX_PROXY_H_
