#include "format/feature_names.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

using ::testing::HasSubstr;

using Names = std::vector<std::string>;

absl::Status Check(const Names& names, int64_t count) {
  return ValidateFeatureNames(names, count);
}

TEST(FeatureNamesTest, AcceptsAHeader) {
  EXPECT_TRUE(Check({"mcg", "gvh", "alm"}, 3).ok());
  // UTF-8 is a name like any other; the longest allowed name passes.
  EXPECT_TRUE(Check({"temp\xC3\xA9rature", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                     std::string(kMaxFeatureNameBytes, 'x')},
                    4)
                  .ok());
  EXPECT_TRUE(Check({}, 0).ok());
}

TEST(FeatureNamesTest, CountMustEqualTheFeatureCount) {
  const absl::Status status = Check({"a", "b"}, 3);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("2 feature names for 3 features"));
  EXPECT_EQ(Check({"a", "b", "c"}, 2).code(), absl::StatusCode::kInvalidArgument);
}

TEST(FeatureNamesTest, EmptyNameIsRefusedWithItsPosition) {
  const absl::Status status = Check({"a", "", "c"}, 3);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("feature name 1 '' is empty"));
}

TEST(FeatureNamesTest, LongNameIsRefusedNamingItsLength) {
  const std::string long_name = std::string(kMaxFeatureNameBytes + 1, 'q');
  const absl::Status status = Check({"a", long_name}, 2);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("feature name 1 'qqqq"));
  EXPECT_THAT(status.message(), HasSubstr("...' is 257 bytes, over the limit of 256"));
  // The message shows a prefix, not the whole name.
  EXPECT_LT(status.message().size(), 200u);
}

TEST(FeatureNamesTest, InvalidUtf8IsRefusedEscaped) {
  // A lone continuation byte, a truncated sequence, an overlong '/', a
  // surrogate and a code point above U+10FFFF.
  const Names bad = {"ab\x80", "x\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"};
  for (const std::string& name : bad) {
    const absl::Status status = Check({"ok", name}, 2);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(status.message(), HasSubstr("feature name 1 '")) << name;
    EXPECT_THAT(status.message(), HasSubstr("is not valid UTF-8")) << name;
  }
  const absl::Status status = Check({"ok", "ab\x80"}, 2);
  EXPECT_THAT(status.message(), HasSubstr("feature name 1 'ab\\x80' is not valid UTF-8 (at byte 2)"));
}

TEST(FeatureNamesTest, RepeatIsRefusedNamingBothPositions) {
  const absl::Status status = Check({"a", "b", "c", "b"}, 4);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("feature name 3 'b' repeats feature name 1"));
}

TEST(FeatureNamesTest, ControlCharactersAreEscapedInMessages) {
  // A newline or a quote in a name must not break a log line or the quotes.
  const absl::Status status = Check({"a\n'b", "a\n'b"}, 2);
  EXPECT_THAT(status.message(), HasSubstr("feature name 1 'a\\n\\'b' repeats feature name 0"));
}

TEST(FeatureNamesTest, FirstDifferentNamesThePosition) {
  EXPECT_EQ(FirstDifferentFeatureName(Names{"a", "b"}, Names{"a", "b"}), -1);
  EXPECT_EQ(FirstDifferentFeatureName(Names{"a", "b", "c"}, Names{"a", "x", "c"}), 1);
  EXPECT_EQ(FirstDifferentFeatureName(Names{"a"}, Names{"a", "b"}), 1);
}

}  // namespace
}  // namespace aad
