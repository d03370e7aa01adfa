#include "server/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace aad {
namespace {
std::atomic<bool> g_enabled{true};
}  // namespace

void SetLoggingEnabled(bool enabled) { g_enabled.store(enabled); }

void Log(LogLevel level, absl::string_view session, absl::string_view message) {
  if (!g_enabled.load(std::memory_order_relaxed)) return;
  const char tag = level == LogLevel::kInfo ? 'I' : level == LogLevel::kWarning ? 'W' : 'E';
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
      absl::string_view(&tag, 1), " ");
  if (!session.empty()) absl::StrAppend(&line, "[session ", session, "] ");
  absl::StrAppend(&line, message, "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace aad
