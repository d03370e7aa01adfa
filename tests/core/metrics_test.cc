#include "core/eval/metrics.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/util/random.h"

namespace aad {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// The definition, pair by pair: O(n^2), obviously right.
double BruteForceAuc(const std::vector<float>& s, const std::vector<uint8_t>& y) {
  double wins = 0.0;
  double pairs = 0.0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!y[i]) continue;
    for (size_t j = 0; j < s.size(); ++j) {
      if (y[j]) continue;
      pairs += 1.0;
      wins += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
    }
  }
  return wins / pairs;
}

TEST(MetricsTest, RocAucHandComputed) {
  // Anomalies at 0.9 and 0.7, nominal at 0.8 and 0.6: 3 of 4 pairs won.
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<float>{0.9f, 0.8f, 0.7f, 0.6f},
                          std::vector<uint8_t>{1, 0, 1, 0}),
                   0.75);
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<float>{3, 2, 1}, std::vector<uint8_t>{1, 0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<float>{1, 2, 3}, std::vector<uint8_t>{1, 0, 0}), 0.0);
}

TEST(MetricsTest, RocAucCountsTiesAsOneHalf) {
  // Anomaly 0 ties both nominal rows (0.5 + 0.5); anomaly 3 loses both.
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<float>{0.5f, 0.5f, 0.5f, 0.1f},
                          std::vector<uint8_t>{1, 0, 0, 1}),
                   0.25);
  // Everything tied: exactly chance.
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<float>(6, 1.0f), std::vector<uint8_t>{1, 0, 1, 0, 0, 0}),
                   0.5);
  // Anomaly at 2 beats nominal 1 and ties nominal 2; anomaly at 1 ties
  // nominal 1 and loses to nominal 2: (1 + 0.5 + 0.5 + 0) / 4.
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<float>{2, 1, 2, 1}, std::vector<uint8_t>{1, 1, 0, 0}),
                   0.5);
}

TEST(MetricsTest, RocAucWithOneClassIsOneHalf) {
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<float>{1, 2, 3}, std::vector<uint8_t>{0, 0, 0}), 0.5);
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<float>{1, 2, 3}, std::vector<uint8_t>{1, 1, 1}), 0.5);
  EXPECT_DOUBLE_EQ(RocAuc({}, {}), 0.5);
}

TEST(MetricsTest, RocAucMatchesBruteForceWithManyTies) {
  Rng rng(11);
  std::vector<float> scores(2000);
  std::vector<uint8_t> labels(2000);
  for (size_t i = 0; i < scores.size(); ++i) {
    scores[i] = static_cast<float>(rng.UniformInt(50));  // heavy ties
    labels[i] = rng.Uniform() < 0.1 + 0.004 * scores[i];
  }
  EXPECT_NEAR(RocAuc(scores, labels), BruteForceAuc(scores, labels), 1e-12);
}

TEST(MetricsTest, SizeMismatchIsNaN) {
  EXPECT_TRUE(std::isnan(RocAuc(std::vector<float>{1, 2}, std::vector<uint8_t>{1})));
  EXPECT_TRUE(std::isnan(AveragePrecision(std::vector<float>{1, 2}, std::vector<uint8_t>{1})));
}

TEST(MetricsTest, AveragePrecisionHandComputed) {
  // Anomalies at ranks 1, 3, 5: (1/1 + 2/3 + 3/5) / 3.
  EXPECT_NEAR(AveragePrecision(std::vector<float>{0.9f, 0.8f, 0.7f, 0.6f, 0.5f},
                               std::vector<uint8_t>{1, 0, 1, 0, 1}),
              (1.0 + 2.0 / 3.0 + 3.0 / 5.0) / 3.0, 1e-12);
  // Perfect ranking, scores unordered in the input.
  EXPECT_DOUBLE_EQ(AveragePrecision(std::vector<float>{0.1f, 0.9f, 0.2f, 0.8f},
                                    std::vector<uint8_t>{0, 1, 0, 1}),
                   1.0);
}

TEST(MetricsTest, AveragePrecisionBreaksTiesByLowerIndex) {
  // All tied: the order is the index order.
  EXPECT_NEAR(AveragePrecision(std::vector<float>{0.5f, 0.5f, 0.5f},
                               std::vector<uint8_t>{0, 0, 1}),
              1.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(AveragePrecision(std::vector<float>{0.5f, 0.5f, 0.5f},
                                    std::vector<uint8_t>{1, 0, 0}),
                   1.0);
  // The tie sits below a higher score: ranks are 0.9 (row 3), then rows 0, 1, 2.
  // Anomalies at row 1 (rank 3) and row 3 (rank 1): (1/1 + 2/3) / 2.
  EXPECT_NEAR(AveragePrecision(std::vector<float>{0.5f, 0.5f, 0.5f, 0.9f},
                               std::vector<uint8_t>{0, 1, 0, 1}),
              (1.0 + 2.0 / 3.0) / 2.0, 1e-12);
}

TEST(MetricsTest, AveragePrecisionWithoutAnomaliesIsZero) {
  EXPECT_EQ(AveragePrecision(std::vector<float>{1, 2}, std::vector<uint8_t>{0, 0}), 0.0);
  EXPECT_EQ(AveragePrecision({}, {}), 0.0);
}

TEST(MetricsTest, NaNScoresRankLast) {
  // The NaN row is an anomaly ranked last: precision 2/3 at rank 3.
  EXPECT_NEAR(AveragePrecision(std::vector<float>{kNaN, 0.2f, 0.1f},
                               std::vector<uint8_t>{1, 1, 0}),
              (1.0 + 2.0 / 3.0) / 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(RocAuc(std::vector<float>{kNaN, 0.2f}, std::vector<uint8_t>{1, 0}), 0.0);
  EXPECT_THAT(TopK(std::vector<float>{kNaN, 1.0f, kNaN, -5.0f}, 4), ElementsAre(1, 3, 0, 2));
}

TEST(MetricsTest, DiscoveredWithinBudget) {
  const std::vector<uint8_t> labels = {1, 0, 0, 1, 1};
  const std::vector<int64_t> shown = {3, 1, 4, 0};
  EXPECT_EQ(DiscoveredWithinBudget(shown, labels, 0), 0);
  EXPECT_EQ(DiscoveredWithinBudget(shown, labels, 1), 1);
  EXPECT_EQ(DiscoveredWithinBudget(shown, labels, 2), 1);
  EXPECT_EQ(DiscoveredWithinBudget(shown, labels, 3), 2);
  EXPECT_EQ(DiscoveredWithinBudget(shown, labels, 4), 3);
  // A budget past the list counts the whole list.
  EXPECT_EQ(DiscoveredWithinBudget(shown, labels, 100), 3);
  EXPECT_EQ(DiscoveredWithinBudget(shown, labels, -1), 0);
  EXPECT_EQ(DiscoveredWithinBudget({}, labels, 10), 0);
}

TEST(MetricsTest, DiscoveredWithinBudgetRejectsUnknownRows) {
  const std::vector<uint8_t> labels = {1, 0};
  EXPECT_EQ(DiscoveredWithinBudget(std::vector<int64_t>{0, 2}, labels, 2), -1);
  EXPECT_EQ(DiscoveredWithinBudget(std::vector<int64_t>{-1}, labels, 1), -1);
  // Beyond the budget an index is never looked at.
  EXPECT_EQ(DiscoveredWithinBudget(std::vector<int64_t>{0, 7}, labels, 1), 1);
}

TEST(MetricsTest, TopKOrdersByScoreThenIndex) {
  const std::vector<float> scores = {0.1f, 0.9f, 0.5f, 0.9f, 0.3f};
  EXPECT_THAT(TopK(scores, 3), ElementsAre(1, 3, 2));
  EXPECT_THAT(TopK(scores, 1), ElementsAre(1));
  EXPECT_THAT(TopK(scores, 5), ElementsAre(1, 3, 2, 4, 0));
  EXPECT_THAT(TopK(scores, 50), ElementsAre(1, 3, 2, 4, 0));
  EXPECT_THAT(TopK(scores, 0), IsEmpty());
  EXPECT_THAT(TopK(scores, -3), IsEmpty());
  EXPECT_THAT(TopK(std::vector<float>(4, 2.0f), 3), ElementsAre(0, 1, 2));
  EXPECT_THAT(TopK({}, 3), IsEmpty());
}

TEST(MetricsTest, TopKMatchesAFullSort) {
  Rng rng(5);
  std::vector<float> scores(10000);
  for (float& s : scores) s = static_cast<float>(rng.UniformInt(300)) * 0.5f;
  std::vector<int64_t> all(scores.size());
  std::iota(all.begin(), all.end(), int64_t{0});
  std::stable_sort(all.begin(), all.end(),
                   [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  for (int64_t k : {1, 7, 100, 9999, 10000}) {
    const std::vector<int64_t> top = TopK(scores, k);
    ASSERT_EQ(static_cast<int64_t>(top.size()), k);
    EXPECT_TRUE(std::equal(top.begin(), top.end(), all.begin())) << "k = " << k;
  }
}

}  // namespace
}  // namespace aad
