#include "server/auth/authenticator.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace aad {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTokenA[] = "alpha-token-0123456789";
constexpr char kTokenB[] = "bravo-token-0123456789";
constexpr char kTokenC[] = "charlie-token-0123456789";

class AuthenticatorTest : public ::testing::Test {
 protected:
  void Write(const std::string& text) {
    std::ofstream(path_, std::ios::trunc) << text;
    ASSERT_EQ(chmod(path_.c_str(), 0600), 0);
  }
  std::unique_ptr<Authenticator> Load() {
    auto auth = Authenticator::Load(path_);
    EXPECT_TRUE(auth.ok()) << auth.status();
    return auth.ok() ? *std::move(auth) : nullptr;
  }
  testing::TempDir dir_;
  const std::string path_ = dir_.path() + "/tokens";
};

TEST_F(AuthenticatorTest, MapsEachTokenToItsTenant) {
  Write(absl::StrCat(kTokenA, " acme\n", kTokenB, " globex\n", kTokenC, " acme\n"));
  auto auth = Load();
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(*auth->Authenticate(absl::StrCat("Bearer ", kTokenA)), "acme");
  EXPECT_EQ(*auth->Authenticate(absl::StrCat("Bearer ", kTokenB)), "globex");
  EXPECT_EQ(*auth->Authenticate(absl::StrCat("bearer ", kTokenC)), "acme");
  EXPECT_EQ(auth->Describe(), absl::StrCat("3 tokens for 2 tenants from ", path_));
}

TEST_F(AuthenticatorTest, RefusesMissingMalformedAndUnknownTokensWithoutEchoingThem) {
  Write(absl::StrCat(kTokenA, " acme\n"));
  auto auth = Load();
  ASSERT_NE(auth, nullptr);
  struct Case {
    std::optional<absl::string_view> header;
    std::string expected;
  };
  const std::string unknown = "Bearer secret-guess-0123456789";
  const std::string raw = "secret-guess-0123456789";
  const std::string basic = "Basic secret-guess-0123456789";
  const std::string prefix = absl::StrCat("Bearer ", kTokenA).substr(0, 20);
  const Case cases[] = {
      {std::nullopt, "no bearer token"},
      {absl::string_view(""), "no bearer token"},
      {absl::string_view(raw), "is not 'Bearer TOKEN'"},
      {absl::string_view(basic), "is not 'Bearer TOKEN'"},
      {absl::string_view("Bearer "), "is not 'Bearer TOKEN'"},
      {absl::string_view(unknown), "the bearer token is not valid"},
      {absl::string_view(prefix), "not valid"},
  };
  for (const Case& c : cases) {
    auto tenant = auth->Authenticate(c.header);
    ASSERT_FALSE(tenant.ok()) << c.expected;
    EXPECT_EQ(tenant.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(tenant.status().message(), HasSubstr(c.expected));
    EXPECT_THAT(tenant.status().message(), Not(HasSubstr("secret-guess")));
    EXPECT_THAT(tenant.status().message(), Not(HasSubstr("alpha-token")));
  }
}

TEST_F(AuthenticatorTest, ReloadSwapsTheTableAndAFailedReloadKeepsTheOldOne) {
  Write(absl::StrCat(kTokenA, " acme\n"));
  auto auth = Load();
  ASSERT_NE(auth, nullptr);
  Write(absl::StrCat(kTokenB, " globex\n"));
  ASSERT_TRUE(auth->Reload().ok());
  EXPECT_EQ(auth->Authenticate(absl::StrCat("Bearer ", kTokenA)).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(*auth->Authenticate(absl::StrCat("Bearer ", kTokenB)), "globex");

  Write(absl::StrCat(kTokenC, " acme extra\n"));
  absl::Status failed = auth->Reload();
  EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(failed.message(), HasSubstr(path_ + " line 1"));
  EXPECT_EQ(*auth->Authenticate(absl::StrCat("Bearer ", kTokenB)), "globex");
}

}  // namespace
}  // namespace aad
