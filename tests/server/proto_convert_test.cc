#include "server/proto_convert.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

using ::testing::HasSubstr;

TEST(ProtoConvert, UnsetFieldsTakeTheCoresDefaults) {
  auto o = FromProto(v1::CreateSessionRequest{});
  ASSERT_TRUE(o.ok());
  const ActiveConfig defaults;
  EXPECT_EQ(o->config.hidden_units, defaults.hidden_units);
  EXPECT_EQ(o->config.forest_trees, defaults.forest_trees);
  EXPECT_EQ(o->config.uai_inputs.leaves, defaults.uai_inputs.leaves);
  EXPECT_EQ(o->config.leaf_input_scale, defaults.leaf_input_scale);
  EXPECT_EQ(o->strategy, StrategyKind::kTop);
}

TEST(ProtoConvert, SetFieldsArriveAndComeBackInSessionInfo) {
  v1::CreateSessionRequest r;
  r.mutable_config()->set_detector(v1::DETECTOR_KIND_DEEP_SVDD);
  r.mutable_config()->set_strategy(v1::QUERY_STRATEGY_DIVERSE);
  r.mutable_config()->set_seed(42);
  r.mutable_config()->set_leaf_inputs(false);
  r.mutable_config()->set_leaf_input_scale(12.5f);
  r.set_feature_count(3);
  r.add_feature_names("amount");
  auto o = FromProto(r);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->config.detector, DetectorKind::kDeepSvdd);
  EXPECT_EQ(o->strategy, StrategyKind::kDiverse);
  EXPECT_FALSE(o->config.uai_inputs.leaves);
  SessionInfo info;
  info.id = "s";
  info.options = *o;
  info.state = TrainingState::kUpdating;
  v1::SessionInfo out;
  ToProto(info, &out);
  EXPECT_EQ(out.config().detector(), v1::DETECTOR_KIND_DEEP_SVDD);
  EXPECT_EQ(out.config().strategy(), v1::QUERY_STRATEGY_DIVERSE);
  EXPECT_EQ(out.config().seed(), 42u);
  EXPECT_FALSE(out.config().leaf_inputs());
  EXPECT_EQ(out.config().leaf_input_scale(), 12.5f);
  EXPECT_EQ(out.training_state(), v1::TRAINING_STATE_UPDATING);
  EXPECT_EQ(out.feature_names(0), "amount");
}

TEST(ProtoConvert, UnknownEnumValuesAreInvalidNamingTheValue) {
  v1::CreateSessionRequest r;
  r.mutable_config()->set_detector(static_cast<v1::DetectorKind>(9));
  absl::Status s = FromProto(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("9"));
  bool has = true;
  EXPECT_FALSE(FromProto(static_cast<v1::QueryStrategy>(77), &has).ok());
  auto unspecified = FromProto(v1::QUERY_STRATEGY_UNSPECIFIED, &has);
  ASSERT_TRUE(unspecified.ok());
  EXPECT_FALSE(has);
}

}  // namespace
}  // namespace aad
