// Runs the real aadd binary as a child process, for tests of what only a
// process shows: restart, SIGKILL crash recovery, startup errors. The child's
// stderr goes through a pipe that a thread drains (so the child never blocks
// on a full pipe); Start() waits for the "listening on port N" line or for
// the child's end, never by sleeping. aadd logs "http listening on port N"
// before it, when its HTTP gateway is on: off (--http_port=0) unless the
// args name --http_port, so that tests never contend for port 8080. The
// drain window of a shutdown is off (--drain_seconds=0) unless the args
// name --drain_seconds, so that a SIGTERM does not wait for load balancers.
#ifndef AADD_TESTS_INTEGRATION_AADD_PROCESS_H_
#define AADD_TESTS_INTEGRATION_AADD_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace aad::testing {

class AaddProcess {
 public:
  AaddProcess() = default;
  AaddProcess(const AaddProcess&) = delete;
  AaddProcess& operator=(const AaddProcess&) = delete;
  // Kills a child still running.
  ~AaddProcess() {
    if (pid_ > 0) {
      Signal(SIGKILL);
      WaitExit();
    }
    if (reader_.joinable()) reader_.join();
  }

  // Spawns `binary` with `args` and waits up to `timeout` for it to listen.
  // OK with port() set; otherwise the reason, with the child's log.
  absl::Status Start(const std::string& binary, const std::vector<std::string>& args,
                     std::chrono::seconds timeout = std::chrono::seconds(120)) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<std::string> argv_storage = {binary};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    bool names_http_port = false;
    bool names_drain = false;
    for (const std::string& a : args) {
      names_http_port |= a.rfind("--http_port", 0) == 0;
      names_drain |= a.rfind("--drain_seconds", 0) == 0;
    }
    if (!names_http_port) argv_storage.push_back("--http_port=0");
    if (!names_drain) argv_storage.push_back("--drain_seconds=0");
    std::vector<char*> argv;
    for (std::string& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      pid_ = -1;
      return absl::InternalError(absl::StrCat("cannot spawn ", binary, ": ", std::strerror(rc)));
    }
    const int read_fd = fds[0];
    reader_ = std::thread([this, read_fd] { Drain(read_fd); });
    std::unique_lock<std::mutex> lock(mu_);
    const bool ready = changed_.wait_for(lock, timeout, [this] { return port_ > 0 || eof_; });
    if (port_ > 0) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat(
        "aadd did not report a port ", ready ? "before its stderr closed" : "in time", "; log:\n",
        log_));
  }

  int port() {
    std::lock_guard<std::mutex> lock(mu_);
    return port_;
  }
  // The HTTP gateway's port; 0 when it is off. Known once Start() is OK.
  int http_port() {
    std::lock_guard<std::mutex> lock(mu_);
    return http_port_;
  }
  std::string log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

  // Waits up to `timeout` for `text` in the log (from the start); false
  // when it did not come, or the child's stderr closed first.
  bool WaitForLog(const std::string& text, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] {
      return log_.find(text) != std::string::npos || eof_;
    }) && log_.find(text) != std::string::npos;
  }

  void Signal(int signal) {
    if (pid_ > 0) kill(pid_, signal);
  }

  // Waits for the child to end; its wait status (see WIFEXITED...).
  int WaitExit() {
    int status = 0;
    if (pid_ <= 0) return exit_status_;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    exit_status_ = status;
    // The pipe closes with the child (and any child of its own): the reader
    // ends and the whole log is in.
    if (reader_.joinable()) reader_.join();
    return status;
  }

 private:
  void Drain(int fd) {
    char buffer[4096];
    for (;;) {
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::lock_guard<std::mutex> lock(mu_);
      log_.append(buffer, static_cast<size_t>(n));
      changed_.notify_all();  // for WaitForLog
      // Whole lines only; the gRPC line is logged last, once all serves.
      for (size_t end; port_ == 0 && (end = log_.find('\n', parsed_)) != std::string::npos;
           parsed_ = end + 1) {
        const std::string line = log_.substr(parsed_, end - parsed_);
        const std::string http_marker = "http listening on port ";
        const std::string marker = "listening on port ";
        size_t at = line.find(http_marker);
        if (at != std::string::npos) {
          (void)absl::SimpleAtoi(line.substr(at + http_marker.size()), &http_port_);
        } else if ((at = line.find(marker)) != std::string::npos &&
                   absl::SimpleAtoi(line.substr(at + marker.size()), &port_)) {
          changed_.notify_all();
        }
      }
    }
    close(fd);
    std::lock_guard<std::mutex> lock(mu_);
    eof_ = true;
    changed_.notify_all();
  }

  pid_t pid_ = -1;
  int exit_status_ = 0;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::string log_;   // guarded by mu_
  int port_ = 0;      // guarded by mu_
  int http_port_ = 0;  // guarded by mu_
  size_t parsed_ = 0;  // guarded by mu_: log_ is parsed up to here
  bool eof_ = false;  // guarded by mu_
};

}  // namespace aad::testing

#endif  // AADD_TESTS_INTEGRATION_AADD_PROCESS_H_
