// Runs the aadctl binary (AADCTL_BINARY, a compile definition) against a
// local aadd, for the tests that drive the command line (transfer_test.cc,
// withdraw_test.cc).
#ifndef AADD_TESTS_INTEGRATION_AADCTL_RUNNER_H_
#define AADD_TESTS_INTEGRATION_AADCTL_RUNNER_H_

#include <stdio.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace aad::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// In the ThreadSanitizer build, aadctl runs with TSan's reports off. Its
// only threads besides main are gRPC's (uninstrumented), where TSan sees
// races that tsan.supp suppresses; matching a report against the
// suppressions runs the symbolizer on that thread, in the middle of gRPC's
// connect, and the errno it leaves (ENOENT) fails the connect: "failed to
// connect to all addresses ... No such file or directory" for about 1 call
// in 20. aadd and the test process keep their reports.
#if defined(__SANITIZE_THREAD__)
inline constexpr char kAadctlEnvironment[] = "TSAN_OPTIONS=report_bugs=0 ";
#else
inline constexpr char kAadctlEnvironment[] = "";
#endif

// Runs aadctl against 127.0.0.1:port. Arguments are test-made (no quoting).
inline CommandResult Aadctl(int port, const std::vector<std::string>& args) {
  const std::string command =
      absl::StrCat(kAadctlEnvironment, AADCTL_BINARY, " --server=127.0.0.1:", port, " ",
                   absl::StrJoin(args, " "), " 2>&1");
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace aad::testing

#endif  // AADD_TESTS_INTEGRATION_AADCTL_RUNNER_H_
