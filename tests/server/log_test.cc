#include "server/log.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

TEST(Log, ALineIsOneLineWhateverItQuotes) {
  const absl::Time t = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ(FormatLogLine(LogLevel::kInfo, "abc", "created", t),
            "2023-11-14T22:13:20.000Z I [session abc] created\n");
  const std::string line =
      FormatLogLine(LogLevel::kWarning, "x\n2026-01-01T00:00:00.000Z I [session admin] forged",
                    "bad \"value\"\r\x01 back\\slash", t);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_EQ(line,
            "2023-11-14T22:13:20.000Z W [session x\\x0a2026-01-01T00:00:00.000Z I [session admin] "
            "forged] bad \"value\"\\x0d\\x01 back\\\\slash\n");
  EXPECT_EQ(FormatLogLine(LogLevel::kError, "", "server-wide", t),
            "2023-11-14T22:13:20.000Z E server-wide\n");
}

}  // namespace
}  // namespace aad
