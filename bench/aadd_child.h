// The aadd binary as a child process of a benchmark, so that what the
// benchmark measures of the server (its resident memory) is the server's
// alone. Its stderr goes to a log file; Start() polls that file for the
// "listening on port N" line (the gRPC one, logged last). Header-only.
#ifndef AADD_BENCH_AADD_CHILD_H_
#define AADD_BENCH_AADD_CHILD_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace aad::bench {

class AaddChild {
 public:
  AaddChild() = default;
  AaddChild(const AaddChild&) = delete;
  AaddChild& operator=(const AaddChild&) = delete;
  ~AaddChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }

  // Spawns `binary` with `args` (--port=0 and --http_port=0 added), its
  // stderr appended to `log_path`, and waits up to `timeout` for its port.
  absl::Status Start(const std::string& binary, std::vector<std::string> args,
                     const std::string& log_path,
                     std::chrono::seconds timeout = std::chrono::seconds(120)) {
    log_path_ = log_path;
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat(log_path, ": ", std::strerror(errno)));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, STDERR_FILENO);
    std::vector<std::string> storage = {binary, "--port=0", "--http_port=0"};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fd);
    if (rc != 0) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("cannot spawn ", binary, ": ", std::strerror(rc)));
    }
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      std::string line;
      std::ifstream in(log_path);
      while (std::getline(in, line)) {
        const std::string marker = "listening on port ";
        const size_t at = line.find(marker);
        if (at == std::string::npos || line.find("http listening") != std::string::npos) continue;
        if (absl::SimpleAtoi(line.substr(at + marker.size()), &port_)) return absl::OkStatus();
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::UnavailableError(absl::StrCat("aadd exited before listening; log:\n", Log()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::UnavailableError(absl::StrCat("aadd did not report a port; log:\n", Log()));
  }

  int pid() const { return pid_; }
  int port() const { return port_; }

  std::string Log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // VmRSS in bytes; -1 when the process is gone.
  int64_t ResidentBytes() const { return StatusBytes("VmRSS:"); }
  // The most resident memory the process has held since it started.
  int64_t PeakResidentBytes() const { return StatusBytes("VmHWM:"); }

  // SIGTERM, then the exit status (see WIFEXITED...).
  int Stop() {
    if (pid_ > 0) kill(pid_, SIGTERM);
    return Wait();
  }
  // SIGKILL (a crash: nothing runs after it), then the exit status.
  int Kill() {
    if (pid_ > 0) kill(pid_, SIGKILL);
    return Wait();
  }

 private:
  // A "kB" field of /proc/PID/status, in bytes; -1 when absent.
  int64_t StatusBytes(const std::string& field) const {
    std::ifstream in(absl::StrCat("/proc/", pid_, "/status"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(field, 0) == 0) return std::stoll(line.substr(field.size())) * 1024;
    }
    return -1;
  }

  int Wait() {
    int status = 0;
    if (pid_ <= 0) return 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

}  // namespace aad::bench

#endif  // AADD_BENCH_AADD_CHILD_H_
