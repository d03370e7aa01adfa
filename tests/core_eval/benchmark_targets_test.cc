// The default configuration on the real benchmark sets of ../shared/data:
// one seed each, checked against the "must reach" figures and against
// the same detector's unsupervised ranking. A regression guard; the full
// three-run figures live in bench/README.md.
#include <string>

#include "core/active/active_config.h"
#include "core/data/csv_reader.h"
#include "core/eval/discovery_loop.h"
#include "gtest/gtest.h"

namespace aad {
namespace {

struct Target {
  const char* file;
  const char* label_column;
  int64_t budget;
  int64_t must_reach;
};

class BenchmarkTargetsTest : public ::testing::TestWithParam<Target> {};

TEST_P(BenchmarkTargetsTest, DefaultConfigurationReachesTheTarget) {
  const Target& t = GetParam();
  CsvOptions csv;
  csv.label_column = t.label_column;
  csv.require_labels = true;
  auto data = ReadCsvFile(std::string(AADD_SHARED_DATA_DIR) + "/adx/" + t.file, csv);
  ASSERT_TRUE(data.ok()) << data.status();
  ActiveConfig config;
  config.seed = 1;
  auto result = RunDiscoveryLoop(*data, config, {t.budget, 1, StrategyKind::kTop});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GE(result->discovered, t.must_reach) << t.file;
  EXPECT_GT(result->discovered, result->baseline_discovered) << t.file;
}

INSTANTIATE_TEST_SUITE_P(
    AdxSets, BenchmarkTargetsTest,
    ::testing::Values(Target{"ann_thyroid_1v3_1.csv", "label", 300, 65},
                      Target{"cardiotocography_1_1.csv", "label", 300, 44},
                      Target{"yeast_1.csv", "label", 300, 33},
                      Target{"abalone_1.csv", "label", 300, 23},
                      Target{"mammography_1.csv", "ground.truth", 1500, 190},
                      Target{"shuttle_1v23567_1.csv", "label", 1500, 845}),
    [](const auto& info) {
      std::string name = info.param.file;
      return name.substr(0, name.find('_'));
    });

}  // namespace
}  // namespace aad
