// aadctl create against the aadd binary: the id it prints is the session's,
// the one --session names or else the server's choice; a taken one is
// refused, naming it.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/aadctl_runner.h"
#include "tests/integration/durability_util.h"
#include "tests/testing/temp_dir.h"

namespace aad::testing {
namespace {

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

TEST(AadctlCreate, SessionFlagNamesTheNewSession) {
  TempDir data;
  auto aadd = StartAadd(data.path());
  ASSERT_NE(aadd, nullptr);
  const CommandResult named = Aadctl(aadd->port(), {"create", "--session", "fraud-q3"});
  ASSERT_EQ(named.exit_code, 0) << named.output;
  EXPECT_EQ(FirstLine(named.output), "fraud-q3");
  const CommandResult chosen = Aadctl(aadd->port(), {"create"});
  ASSERT_EQ(chosen.exit_code, 0) << chosen.output;
  const std::string id = FirstLine(chosen.output);
  EXPECT_NE(id, "fraud-q3");
  EXPECT_FALSE(id.empty());
  const CommandResult taken = Aadctl(aadd->port(), {"create", "--session", "fraud-q3"});
  EXPECT_NE(taken.exit_code, 0) << taken.output;
  EXPECT_NE(taken.output.find("ALREADY_EXISTS"), std::string::npos) << taken.output;
  EXPECT_NE(taken.output.find("fraud-q3"), std::string::npos) << taken.output;
  auto client = Connect(aadd->port());
  EXPECT_TRUE(client->GetSession("fraud-q3").ok());
  EXPECT_TRUE(client->GetSession(id).ok());
  StopAadd(aadd.get(), &client);
}

}  // namespace
}  // namespace aad::testing
