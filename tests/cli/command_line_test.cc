#include "cli/command_line.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace aad {
namespace {

TEST(CommandLine, DashedFlagNamesBecomeUnderscoredAndValuesStay) {
  std::vector<std::string> in = {"aadctl", "--label-column=ground.truth", "--anomaly-value",
                                 "is-bad", "-k", "5", "file-name.csv"};
  std::vector<char*> argv;
  for (std::string& s : in) argv.push_back(s.data());
  std::vector<std::string> storage;
  const std::vector<char*> out = NormaliseFlagNames(static_cast<int>(argv.size()), argv.data(), &storage);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_STREQ(out[1], "--label_column=ground.truth");
  EXPECT_STREQ(out[2], "--anomaly_value");
  EXPECT_STREQ(out[3], "is-bad");
  EXPECT_STREQ(out[4], "--k");
  EXPECT_STREQ(out[6], "file-name.csv");
}

}  // namespace
}  // namespace aad
