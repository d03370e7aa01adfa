#include "client/enum_names.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "aad/v1/aad.pb.h"

namespace aad {
namespace {

using ::testing::HasSubstr;

TEST(EnumNames, ShortNamesComeFromTheProtosValueNames) {
  EXPECT_EQ(EnumShortName(aad::v1::QueryStrategy_descriptor(), aad::v1::QUERY_STRATEGY_DIVERSE),
            "diverse");
  EXPECT_EQ(EnumShortName(aad::v1::DetectorKind_descriptor(), aad::v1::DETECTOR_KIND_DEEP_SVDD),
            "deep_svdd");
  EXPECT_EQ(EnumShortName(aad::v1::TrainingState_descriptor(), aad::v1::TRAINING_STATE_IDLE),
            "idle");
  EXPECT_EQ(EnumShortName(aad::v1::TrainingState_descriptor(), 77), "unknown(77)");
}

TEST(EnumNames, ParsingNamesTheChoicesAndTheValue) {
  auto top = ParseEnumShortName(aad::v1::QueryStrategy_descriptor(), "top", "--strategy");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(*top, aad::v1::QUERY_STRATEGY_TOP);
  auto bad = ParseEnumShortName(aad::v1::QueryStrategy_descriptor(), "best", "--strategy");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("--strategy must be one of top, uncertain, diverse, random"));
  EXPECT_THAT(bad.status().message(), HasSubstr("'best'"));
  // UNSPECIFIED is no choice.
  EXPECT_FALSE(ParseEnumShortName(aad::v1::DetectorKind_descriptor(), "unspecified", "x").ok());
}

}  // namespace
}  // namespace aad
