#include "core/active/query_strategy.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"

namespace aad {
namespace {

// Latents read from a whole pool's matrix, as asked for.
LatentsFn RowsOf(const Matrix& latent) {
  return [&latent](absl::Span<const int64_t> rows) {
    Matrix z(static_cast<Eigen::Index>(rows.size()), latent.cols());
    for (size_t i = 0; i < rows.size(); ++i) z.row(i) = latent.row(rows[i]);
    return z;
  };
}

struct Pool {
  std::vector<float> logits = {0.1f, 3.0f, -2.0f, 3.0f, 0.4f, -0.05f};
  std::vector<float> unsup = {0.0f, 1.0f, 0.0f, 2.0f, 0.0f, 0.0f};
  std::vector<uint8_t> labelled = {0, 0, 0, 0, 1, 0};
  Matrix latent;
  QueryContext Context() {
    QueryContext c;
    c.logits = logits;
    c.unsupervised = unsup;
    c.labelled = labelled;
    if (latent.size()) c.latents = RowsOf(latent);
    return c;
  }
};

TEST(QueryStrategy, TopRanksByLogitThenUnsupervisedScoreAndSkipsLabelled) {
  Pool p;
  const auto rows = MakeQueryStrategy(StrategyKind::kTop)->Select(p.Context(), 10);
  // 3 and 1 tie on the logit; 3 has the higher unsupervised score. Row 4 is
  // labelled and never proposed.
  EXPECT_EQ(rows, (std::vector<int64_t>{3, 1, 0, 5, 2}));
}

TEST(QueryStrategy, UncertainPicksProbabilitiesNearestOneHalf) {
  Pool p;
  const auto rows = MakeQueryStrategy(StrategyKind::kUncertain)->Select(p.Context(), 2);
  EXPECT_EQ(rows, (std::vector<int64_t>{5, 0}));
}

TEST(QueryStrategy, RandomIsSeededAndDistinct) {
  Pool p;
  auto c = p.Context();
  c.seed = 42;
  const auto s = MakeQueryStrategy(StrategyKind::kRandom);
  const auto a = s->Select(c, 3), b = s->Select(c, 3);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::set<int64_t>(a.begin(), a.end()).size(), 3u);
  for (int64_t r : a) EXPECT_NE(r, 4);
  std::set<std::vector<int64_t>> seen;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    c.seed = seed;
    seen.insert(s->Select(c, 3));
  }
  EXPECT_GT(seen.size(), 1u);
}

TEST(QueryStrategy, DiverseSpreadsABatchOverLatentClusters) {
  // 40 rows: the 15 best-scored sit in one tight latent cluster, the rest in
  // a second one; a batch of 2 (drawn from the top 20) takes one from each.
  std::vector<float> logits(40), unsup(40, 0.0f);
  std::vector<uint8_t> labelled(40, 0);
  Matrix latent(40, 2);
  for (int i = 0; i < 40; ++i) {
    logits[i] = 10.0f - 0.1f * i;
    latent.row(i) << (i < 15 ? 0.0f : 5.0f), 0.001f * i;
  }
  QueryContext c;
  c.logits = logits;
  c.unsupervised = unsup;
  c.labelled = labelled;
  c.latents = RowsOf(latent);
  const auto rows = MakeQueryStrategy(StrategyKind::kDiverse)->Select(c, 2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], 0);
  EXPECT_GE(rows[1], 15);
  const auto top = MakeQueryStrategy(StrategyKind::kTop)->Select(c, 2);
  EXPECT_EQ(top, (std::vector<int64_t>{0, 1}));
}

// A feedback round asks for a few rows of a large pool: those come from a
// bounded heap, larger requests from a partial sort. Both must give the
// order of one full sort (logit, then unsupervised score, then row), ties
// and labelled rows included, at every k either side of the switch.
TEST(QueryStrategy, TopGivesTheOrderOfAFullSortAtEveryK) {
  constexpr int64_t kRows = 4000;
  std::vector<float> logits(kRows), unsup(kRows);
  std::vector<uint8_t> labelled(kRows, 0);
  for (int64_t i = 0; i < kRows; ++i) {
    logits[i] = static_cast<float>((i * 7919) % 61) / 8.0f;  // many ties
    unsup[i] = static_cast<float>((i * 104729) % 5);          // ties again
    labelled[i] = i % 11 == 3;
  }
  std::vector<int64_t> order;
  for (int64_t i = 0; i < kRows; ++i) {
    if (!labelled[i]) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (logits[a] != logits[b]) return logits[a] > logits[b];
    if (unsup[a] != unsup[b]) return unsup[a] > unsup[b];
    return a < b;
  });
  QueryContext c;
  c.logits = logits;
  c.unsupervised = unsup;
  c.labelled = labelled;
  for (int64_t k : {1, 2, 17, 249, 250, 251, 400, 3000, 5000}) {
    const std::vector<int64_t> rows = RankUnlabelled(c, k);
    const int64_t want = std::min<int64_t>(k, order.size());
    ASSERT_EQ(rows.size(), static_cast<size_t>(want)) << k;
    EXPECT_TRUE(std::equal(rows.begin(), rows.end(), order.begin())) << k;
  }
}

TEST(QueryStrategy, AskingForMoreThanThePoolReturnsEveryUnlabelledRow) {
  Pool p;
  for (StrategyKind k : {StrategyKind::kTop, StrategyKind::kUncertain, StrategyKind::kDiverse,
                         StrategyKind::kRandom}) {
    EXPECT_EQ(MakeQueryStrategy(k)->Select(p.Context(), 100).size(), 5u) << StrategyKindName(k);
  }
}

TEST(QueryStrategy, ParseNamesTheUnknownValue) {
  EXPECT_EQ(*ParseStrategyKind("diverse"), StrategyKind::kDiverse);
  auto bad = ParseStrategyKind("greedy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'greedy'"), absl::string_view::npos);
}

}  // namespace
}  // namespace aad
