#include "server/auth/token_file.h"

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

std::string WriteFile(const std::string& dir, const std::string& text, mode_t mode) {
  const std::string path = dir + "/tokens";
  std::ofstream(path) << text;
  EXPECT_EQ(chmod(path.c_str(), mode), 0);
  return path;
}

TEST(TokenFileTest, ParsesTokensCommentsAndBlankLines) {
  auto entries = ParseTokenFile(
      absl::StrCat("# tokens\n\n", kTokenA, " acme\n  \t", kTokenB, "\tglobex  \r\n"), "f");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].tenant, "acme");
  EXPECT_EQ((*entries)[0].digest, DigestToken(kTokenA));
  EXPECT_EQ((*entries)[1].tenant, "globex");
  EXPECT_EQ((*entries)[1].digest, DigestToken(kTokenB));
}

TEST(TokenFileTest, BadLinesNameFileAndLineButNeverTheToken) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::string token = kTokenA;
  const Case cases[] = {
      {"# c\n" + token + "\n", "tokens.txt line 2: expected 'TOKEN TENANT' (two fields), got 1"},
      {token + " acme extra\n", "tokens.txt line 1: expected 'TOKEN TENANT' (two fields), got 3"},
      {token + " ac/me\n", "tokens.txt line 1: tenant 'ac/me' is not 1-64 characters"},
      {"short acme\n", "tokens.txt line 1: the token has 5 characters; a token needs at least 16"},
      {token + "\x01 acme\n", "tokens.txt line 1: the token holds a byte outside printable ASCII"},
      {token + " acme\n\n" + token + " globex\n", "tokens.txt line 3: the token of line 1 again"},
      {"# nothing\n", "tokens.txt holds no token"},
  };
  for (const Case& c : cases) {
    auto entries = ParseTokenFile(c.text, "tokens.txt");
    ASSERT_FALSE(entries.ok()) << c.text;
    EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(entries.status().message(), HasSubstr(c.expected));
    EXPECT_THAT(entries.status().message(), Not(HasSubstr("alpha-token")));
  }
}

TEST(TokenFileTest, TenantNames) {
  EXPECT_TRUE(ValidateTenantName("acme_corp-2").ok());
  EXPECT_FALSE(ValidateTenantName("").ok());
  EXPECT_FALSE(ValidateTenantName(std::string(65, 'a')).ok());
  EXPECT_FALSE(ValidateTenantName("a b").ok());
  EXPECT_THAT(ValidateTenantName("\xff").message(), HasSubstr("'\\xff'"));
}

TEST(TokenFileTest, RefusesAWorldReadableFileNamingItsMode) {
  testing::TempDir dir;
  const std::string path = WriteFile(dir.path(), absl::StrCat(kTokenA, " acme\n"), 0644);
  auto entries = ReadTokenFile(path);
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(entries.status().message(), HasSubstr(path + " is world-readable (mode 0644)"));

  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  auto readable = ReadTokenFile(path);
  ASSERT_TRUE(readable.ok()) << readable.status();
  EXPECT_EQ(readable->size(), 1u);
}

TEST(TokenFileTest, AMissingFileIsNotFoundNamingIt) {
  testing::TempDir dir;
  auto entries = ReadTokenFile(dir.path() + "/none");
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(entries.status().message(), HasSubstr(dir.path() + "/none"));
}

}  // namespace
}  // namespace aad
