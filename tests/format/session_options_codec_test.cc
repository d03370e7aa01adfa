#include "format/session_options_codec.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/format/record_test_util.h"

namespace aad {
namespace {

using ::aad::testing::ExpectOptionsEqual;
using ::aad::testing::OddOptions;

TEST(SessionOptionsCodecTest, RoundTripsEveryField) {
  const SessionOptions odd = OddOptions();
  auto decoded = DecodeSessionOptions(EncodeSessionOptions(odd), "test");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectOptionsEqual(*decoded, odd);
  auto defaults = DecodeSessionOptions(EncodeSessionOptions(SessionOptions{}), "test");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  ExpectOptionsEqual(*defaults, SessionOptions{});
}

TEST(SessionOptionsCodecTest, MissingKeysKeepDefaults) {
  // What a record written before a field existed looks like.
  auto decoded = DecodeSessionOptions("aadd-session-options 2\nhidden_units=12\n", "test");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  SessionOptions expected;
  expected.config.hidden_units = 12;
  ExpectOptionsEqual(*decoded, expected);
}

TEST(SessionOptionsCodecTest, VersionOneRecordsPredateTheLeafInputs) {
  // A session stored before the leaf inputs existed keeps the layer it was
  // trained with, also through a retrain after a restart.
  auto old = DecodeSessionOptions("aadd-session-options 1\nhidden_units=12\n", "test");
  ASSERT_TRUE(old.ok()) << old.status();
  SessionOptions expected;
  expected.config.hidden_units = 12;
  expected.config.uai_inputs.leaves = false;
  ExpectOptionsEqual(*old, expected);
  // Written now, the record says so itself and reads back the same.
  const std::string text = EncodeSessionOptions(*old);
  EXPECT_NE(text.find("uai.leaves=0\n"), std::string::npos) << text;
  EXPECT_EQ(text.rfind("aadd-session-options 2\n", 0), 0u) << text;
  auto again = DecodeSessionOptions(text, "test");
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectOptionsEqual(*again, expected);
}

TEST(SessionOptionsCodecTest, RejectsWhatItCannotReadFaithfully) {
  auto unknown = DecodeSessionOptions("aadd-session-options 1\nwarp_drive=1\n", "db x");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(unknown.status().message().find("warp_drive"), std::string::npos) << unknown.status();
  EXPECT_NE(unknown.status().message().find("db x"), std::string::npos) << unknown.status();

  auto newer = DecodeSessionOptions(
      absl::StrCat("aadd-session-options ", kSessionOptionsFormatVersion + 1, "\n"), "db x");
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition) << newer.status();

  auto garbage = DecodeSessionOptions("hello\n", "db x");
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kDataLoss) << garbage.status();

  auto overflow = DecodeSessionOptions("aadd-session-options 1\nhidden_units=99999999999\n", "x");
  EXPECT_EQ(overflow.status().code(), absl::StatusCode::kDataLoss) << overflow.status();

  auto bad_bool = DecodeSessionOptions("aadd-session-options 1\nuai.latent=yes\n", "x");
  EXPECT_EQ(bad_bool.status().code(), absl::StatusCode::kDataLoss) << bad_bool.status();

  // Parses, but the configuration is out of range: caught, not restored.
  auto invalid = DecodeSessionOptions("aadd-session-options 1\nbatch_size=0\n", "x");
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kDataLoss) << invalid.status();
}

}  // namespace
}  // namespace aad
