// A tiny stderr logger: Debian 12's Abseil has no absl/log. One line per
// call, "2024-01-02T03:04:05.678Z I [session abcd] message", written with a
// single fwrite so that lines of concurrent threads never interleave.
#ifndef AADD_SERVER_LOG_H_
#define AADD_SERVER_LOG_H_

#include <string>

#include "absl/strings/string_view.h"

namespace aad {

enum class LogLevel { kInfo, kWarning, kError };

// Thread-safe. `session` may be empty (server-wide events).
void Log(LogLevel level, absl::string_view session, absl::string_view message);

inline void LogInfo(absl::string_view session, absl::string_view message) {
  Log(LogLevel::kInfo, session, message);
}
inline void LogWarning(absl::string_view session, absl::string_view message) {
  Log(LogLevel::kWarning, session, message);
}
inline void LogError(absl::string_view session, absl::string_view message) {
  Log(LogLevel::kError, session, message);
}

// Turns logging off (tests that drive thousands of calls) or back on.
void SetLoggingEnabled(bool enabled);

}  // namespace aad

#endif  // AADD_SERVER_LOG_H_
