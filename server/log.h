// A tiny stderr logger: Debian 12's Abseil has no absl/log. One line per
// call, "2024-01-02T03:04:05.678Z I [session abcd] message", written with a
// single fwrite so that lines of concurrent threads never interleave.
#ifndef AADD_SERVER_LOG_H_
#define AADD_SERVER_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace aad {

enum class LogLevel { kInfo, kWarning, kError };

// Thread-safe. `session` may be empty (server-wide events). Both may hold
// what a client sent (an id, a batch id, an error naming a value): every
// control byte and backslash is written as \xNN / \\, so a line is always
// one line and a client cannot forge another.
void Log(LogLevel level, absl::string_view session, absl::string_view message);

// The line Log() writes at `time`, newline included.
std::string FormatLogLine(LogLevel level, absl::string_view session, absl::string_view message,
                          absl::Time time);

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
