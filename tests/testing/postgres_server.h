// A real PostgreSQL 15 server for tests: a fresh cluster (initdb) in a
// temporary directory, started with pg_ctl on a free loopback port (its
// unix socket inside the directory too, so it never meets a system
// server), stopped (pg_ctl stop -m fast) and removed at the end.
//
// initdb and postgres refuse to run as root, and CI runs the tests as root:
// then every PostgreSQL binary runs as the unprivileged user nobody through
// `runuser -u nobody --` (util-linux, in Debian's base system), with the
// directory chowned to nobody.
//
// A machine without postgresql-15 fails the test (Start() says to run
// scripts/install-deps.sh) rather than skipping it: CI installs it.
#ifndef AADD_TESTS_TESTING_POSTGRES_SERVER_H_
#define AADD_TESTS_TESTING_POSTGRES_SERVER_H_

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/free_port.h"
#include "tests/testing/temp_dir.h"

namespace aad::testing {

class PostgresServer {
 public:
  static constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin";
  // The cluster's superuser (initdb -U), trusted on loopback: no password.
  static constexpr char kUser[] = "aadd";

  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start() {
    if (!std::filesystem::exists(absl::StrCat(kBinDir, "/initdb"))) {
      return absl::FailedPreconditionError(
          absl::StrCat("PostgreSQL 15 is not installed (no ", kBinDir,
                       "/initdb): run scripts/install-deps.sh (package postgresql-15)"));
    }
    std::unique_ptr<PostgresServer> server(new PostgresServer());
    if (server->dir_.path().empty()) return absl::InternalError("no temporary directory");
    absl::Status status = server->Init();
    if (status.ok()) status = server->Restart();
    if (!status.ok()) return status;
    return server;
  }

  ~PostgresServer() {
    if (running_) (void)Stop();
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  std::string HostPort() const { return absl::StrCat("127.0.0.1:", port_); }
  // The libpq URI of database `db` on this server.
  std::string Uri(const std::string& db) const {
    return absl::StrCat("postgresql://", kUser, "@127.0.0.1:", port_, "/", db);
  }

  // pg_ctl stop -m fast: connections are cut, the server ends.
  absl::Status Stop() {
    running_ = false;
    return PgCtl("stop -m fast -w -t 60");
  }
  // Starts the (stopped) server again on the same directory and port, and
  // waits until it accepts connections.
  absl::Status Restart() {
    if (absl::Status s = PgCtl(absl::StrCat("start -w -t 60 -l '", dir_.path(),
                                        "/server.log' -o '-p ", port_, " -k ", dir_.path(),
                                        "/socket -c listen_addresses=127.0.0.1'")); !s.ok()) return s;
    running_ = true;
    // pg_ctl -w waited already; check from this side, with a deadline.
    const std::string conninfo =
        absl::StrCat("host=127.0.0.1 port=", port_, " user=", kUser, " dbname=postgres");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (PQping(conninfo.c_str()) != PQPING_OK) {
      if (std::chrono::steady_clock::now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("PostgreSQL on ", HostPort(), " does not answer; log:\n", ServerLog()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::OkStatus();
  }

  absl::Status CreateDatabase(const std::string& name) {
    return Execute("postgres", absl::StrCat("CREATE DATABASE \"", name, "\""));
  }

  // Runs `sql` in database `db` on a connection of its own; the first
  // column of the first row, "" when there is none.
  absl::StatusOr<std::string> Query(const std::string& db, const std::string& sql) {
    const std::string conninfo =
        absl::StrCat("host=127.0.0.1 port=", port_, " user=", kUser, " dbname=", db);
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      absl::Status status = absl::UnavailableError(PQerrorMessage(conn));
      PQfinish(conn);
      return status;
    }
    PGresult* result = PQexec(conn, sql.c_str());
    const ExecStatusType rc = PQresultStatus(result);
    absl::StatusOr<std::string> out;
    if (rc != PGRES_COMMAND_OK && rc != PGRES_TUPLES_OK) {
      out = absl::InternalError(absl::StrCat(sql, ": ", PQresultErrorMessage(result)));
    } else {
      out = PQntuples(result) > 0 && PQnfields(result) > 0 ? PQgetvalue(result, 0, 0) : "";
    }
    PQclear(result);
    PQfinish(conn);
    return out;
  }
  absl::Status Execute(const std::string& db, const std::string& sql) {
    return Query(db, sql).status();
  }

  // Ends every other connection to `db` (an administrator's
  // pg_terminate_backend): the store's connections break under it.
  absl::StatusOr<int> TerminateBackends(const std::string& db) {
    auto n = Query("postgres",
                   absl::StrCat("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = '", db, "' AND pid <> pg_backend_pid()"));
    if (!n.ok()) return n.status();
    return std::atoi(n->c_str());
  }

  std::string ServerLog() const {
    std::ifstream in(absl::StrCat(dir_.path(), "/server.log"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  PostgresServer() = default;

  absl::Status Init() {
    const bool root = geteuid() == 0;
    if (absl::Status s = MakeDir(dir_.path(), root); !s.ok()) return s;
    if (absl::Status s = MakeDir(absl::StrCat(dir_.path(), "/socket"), root); !s.ok()) return s;
    port_ = FreeLoopbackPort();
    if (port_ <= 0) return absl::InternalError("no free loopback port");
    // --no-sync: a test cluster need not survive a power cut; the server
    // itself keeps fsync on, as in production.
    return Run(absl::StrCat(kBinDir, "/initdb -D '", dir_.path(), "/data' -U ", kUser,
                            " --auth=trust --encoding=UTF8 --no-locale --no-sync"),
               "initdb");
  }

  static absl::Status MakeDir(const std::string& path, bool chown_to_nobody) {
    mkdir(path.c_str(), 0700);
    if (!chown_to_nobody) return absl::OkStatus();
    const passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr) return absl::FailedPreconditionError("no user 'nobody' to run PostgreSQL");
    if (chown(path.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
      return absl::InternalError(absl::StrCat("cannot chown ", path, " to nobody"));
    }
    return absl::OkStatus();
  }

  absl::Status PgCtl(const std::string& args) {
    return Run(absl::StrCat(kBinDir, "/pg_ctl -D '", dir_.path(), "/data' ", args), "pg_ctl");
  }

  // Runs a PostgreSQL binary (as nobody when we are root), its output in a
  // file of the directory for the message when it fails.
  absl::Status Run(const std::string& command, const std::string& what) {
    const std::string out = absl::StrCat(dir_.path(), "/", what, ".out");
    const std::string line = absl::StrCat(geteuid() == 0 ? "runuser -u nobody -- " : "", command,
                                          " >'", out, "' 2>&1 </dev/null");
    const int rc = std::system(line.c_str());
    if (rc == 0) return absl::OkStatus();
    std::ifstream in(out);
    std::stringstream s;
    s << in.rdbuf();
    return absl::InternalError(
        absl::StrCat(what, " failed (status ", rc, "): ", line, "\n", s.str()));
  }

  TempDir dir_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace aad::testing

#endif  // AADD_TESTS_TESTING_POSTGRES_SERVER_H_
