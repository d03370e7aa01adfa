#include "core/eval/discovery_report.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

using ::testing::HasSubstr;

TEST(DiscoveryReport, SummarizeBuildsCurveAndMetrics) {
  const std::vector<uint8_t> labels = {1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::vector<int64_t> shown = {2, 1, 0, 3, 4, 5, 6, 7, 8, 9};
  std::vector<float> scores(12, 0.0f);
  scores[0] = scores[2] = scores[11] = 1.0f;  // a perfect ranking
  DiscoveryReport r;
  SummarizeOutcome(shown, labels, scores, std::vector<double>{1, 2, 3, 10}, &r);
  EXPECT_EQ(r.discovered, 2);
  ASSERT_EQ(r.curve.size(), 10u);  // every row: 10 shown, a point each 10%
  using Point = std::pair<int64_t, int64_t>;
  EXPECT_EQ(r.curve.front(), Point(1, 1));
  EXPECT_EQ(r.curve.back(), Point(10, 2));
  EXPECT_DOUBLE_EQ(r.auc_roc, 1.0);
  EXPECT_DOUBLE_EQ(r.average_precision, 1.0);
  EXPECT_DOUBLE_EQ(r.update_ms_mean, 4.0);
  EXPECT_DOUBLE_EQ(r.update_ms_p95, 10.0);
}

TEST(DiscoveryReport, JsonCarriesTheKeysBothToolsPromise) {
  ReportHeader h{"data \"x\".csv", 100, 5, 20, 1, "autoencoder", "top"};
  DiscoveryReport r;
  r.seed = 3;
  r.discovered = 4;
  r.curve = {{10, 2}, {20, 4}};
  const std::string run = FormatRun(h, 0, r, /*json=*/true);
  for (const char* key : {"\"run\":0", "\"seed\":3", "\"dataset\":\"data \\\"x\\\".csv\"",
                          "\"budget\":20", "\"discovered\":4", "\"baseline_discovered\":",
                          "\"auc_roc\":", "\"update_ms_mean\":", "\"seconds\":",
                          "\"curve\":[[10,2],[20,4]]"}) {
    EXPECT_THAT(run, HasSubstr(key));
  }
  const std::string summary = FormatSummary(h, {r, r}, /*json=*/true);
  for (const char* key : {"\"summary\":true", "\"runs\":2", "\"discovered\":4.00",
                          "\"baseline_discovered\":", "\"auc_roc\":", "\"update_ms_mean\":",
                          "\"seconds\":", "\"dataset\":", "\"budget\":20"}) {
    EXPECT_THAT(summary, HasSubstr(key));
  }
  EXPECT_THAT(FormatRun(h, 0, r, false), HasSubstr("discovered@20: active 4"));
}

TEST(DiscoveryReport, ANameWithANewlineStillPrintsOneJsonLine) {
  ReportHeader h{"two\nlines.csv", 100, 5, 20, 1, "autoencoder", "top"};
  DiscoveryReport r;
  const std::string run = FormatRun(h, 0, r, /*json=*/true);
  ASSERT_FALSE(run.empty());
  EXPECT_EQ(run.find('\n'), run.size() - 1) << run;  // only the line's own end
  EXPECT_THAT(run, HasSubstr("\"dataset\":\"two\\nlines.csv\""));
  const std::string summary = FormatSummary(h, {r}, /*json=*/true);
  EXPECT_EQ(summary.find('\n'), summary.size() - 1) << summary;
}

}  // namespace
}  // namespace aad
