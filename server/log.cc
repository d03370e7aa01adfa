#include "server/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace aad {
namespace {
std::atomic<bool> g_enabled{true};

// Appends `s` with control bytes (and DEL) as \xNN and backslashes doubled.
void AppendEscaped(absl::string_view s, std::string* out) {
  for (const char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      absl::StrAppendFormat(out, "\\x%02x", u);
    } else if (c == '\\') {
      out->append("\\\\");
    } else {
      out->push_back(c);
    }
  }
}
}  // namespace

void SetLoggingEnabled(bool enabled) { g_enabled.store(enabled); }

std::string FormatLogLine(LogLevel level, absl::string_view session, absl::string_view message,
                          absl::Time time) {
  const char tag = level == LogLevel::kInfo ? 'I' : level == LogLevel::kWarning ? 'W' : 'E';
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone()), " ",
                   absl::string_view(&tag, 1), " ");
  if (!session.empty()) {
    line.append("[session ");
    AppendEscaped(session, &line);
    line.append("] ");
  }
  AppendEscaped(message, &line);
  line.push_back('\n');
  return line;
}

void Log(LogLevel level, absl::string_view session, absl::string_view message) {
  if (!g_enabled.load(std::memory_order_relaxed)) return;
  const std::string line = FormatLogLine(level, session, message, absl::Now());
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace aad
