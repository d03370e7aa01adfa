// What a client sees of a session (its state, the scores of every pool row
// and of probe rows, candidates of three strategies), and the bit-for-bit
// comparison of two such views: a session after a restart or an import must
// be the session before it (durability_test.cc, transfer_test.cc).
#ifndef AADD_TESTS_INTEGRATION_SESSION_OBSERVATION_H_
#define AADD_TESTS_INTEGRATION_SESSION_OBSERVATION_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/aad_client.h"
#include "tests/integration/durability_util.h"

namespace aad::testing {

inline bool SameBits(const google::protobuf::RepeatedField<float>& a,
                     const google::protobuf::RepeatedField<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0);
}

struct Observed {
  aad::v1::SessionInfo info;
  aad::v1::ScoreResponse pool_scores;
  aad::v1::ScoreResponse inline_scores;
  aad::v1::GetQueryCandidatesResponse top, diverse, random;
};

// `probe`: rows of kFeatures features scored inline.
inline Observed Observe(aad::AadClient* client, const std::string& session,
                        const std::vector<float>& probe) {
  Observed o;
  auto info = client->GetSession(session);
  EXPECT_TRUE(info.ok()) << info.status();
  if (!info.ok()) return o;
  o.info = *info;
  std::vector<int64_t> ids(info->rows());
  for (int64_t i = 0; i < info->rows(); ++i) ids[i] = i;
  auto scores = client->ScorePoolRows(session, ids);
  EXPECT_TRUE(scores.ok()) << scores.status();
  if (scores.ok()) o.pool_scores = *scores;
  auto inline_scores = client->ScoreRows(session, probe, kFeatures);
  EXPECT_TRUE(inline_scores.ok()) << inline_scores.status();
  if (inline_scores.ok()) o.inline_scores = *inline_scores;
  auto top = client->GetQueryCandidates(session, 10);
  EXPECT_TRUE(top.ok()) << top.status();
  if (top.ok()) o.top = *top;
  auto diverse = client->GetQueryCandidates(session, 10, aad::v1::QUERY_STRATEGY_DIVERSE, 7);
  EXPECT_TRUE(diverse.ok()) << diverse.status();
  if (diverse.ok()) o.diverse = *diverse;
  // Default seed: depends on the session's feedback round counter.
  auto random = client->GetQueryCandidates(session, 10, aad::v1::QUERY_STRATEGY_RANDOM);
  EXPECT_TRUE(random.ok()) << random.status();
  if (random.ok()) o.random = *random;
  return o;
}

inline void ExpectSameCandidates(const aad::v1::GetQueryCandidatesResponse& before,
                                 const aad::v1::GetQueryCandidatesResponse& after,
                                 const char* what) {
  EXPECT_EQ(std::vector<int64_t>(before.row_ids().begin(), before.row_ids().end()),
            std::vector<int64_t>(after.row_ids().begin(), after.row_ids().end()))
      << what;
  EXPECT_TRUE(SameBits(before.p(), after.p())) << what << " p";
  EXPECT_TRUE(SameBits(before.s(), after.s())) << what << " s";
  EXPECT_TRUE(SameBits(before.values(), after.values())) << what << " values";
  EXPECT_EQ(before.model_version(), after.model_version()) << what;
}

// Same state (the id aside), same scores bit for bit, same candidates.
inline void ExpectSameSession(const Observed& before, const Observed& after) {
  EXPECT_EQ(after.info.rows(), before.info.rows());
  EXPECT_EQ(after.info.feature_count(), before.info.feature_count());
  EXPECT_EQ(after.info.labels(), before.info.labels());
  EXPECT_EQ(after.info.anomalies(), before.info.anomalies());
  EXPECT_EQ(after.info.model_version(), before.info.model_version());
  EXPECT_EQ(after.info.model_rows(), before.info.model_rows());
  EXPECT_EQ(after.info.label_rounds(), before.info.label_rounds());
  EXPECT_EQ(after.info.config().SerializeAsString(), before.info.config().SerializeAsString());
  EXPECT_EQ(after.info.last_training_error(), "");
  EXPECT_TRUE(SameBits(before.pool_scores.p(), after.pool_scores.p()));
  EXPECT_TRUE(SameBits(before.pool_scores.logit(), after.pool_scores.logit()));
  EXPECT_TRUE(SameBits(before.pool_scores.s(), after.pool_scores.s()));
  EXPECT_TRUE(SameBits(before.inline_scores.p(), after.inline_scores.p()));
  EXPECT_TRUE(SameBits(before.inline_scores.logit(), after.inline_scores.logit()));
  EXPECT_TRUE(SameBits(before.inline_scores.s(), after.inline_scores.s()));
  ExpectSameCandidates(before.top, after.top, "top");
  ExpectSameCandidates(before.diverse, after.diverse, "diverse");
  ExpectSameCandidates(before.random, after.random, "random");
}

}  // namespace aad::testing

#endif  // AADD_TESTS_INTEGRATION_SESSION_OBSERVATION_H_
