// aad-eval: the offline evaluator. Runs the "anomalies discovered within a
// budget" protocol of ../shared/data/README.md on the core library alone:
// show the top-ranked unlabelled rows, reveal their ground truth, update the
// model, until the budget is spent.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/active/active_config.h"
#include "core/active/query_strategy.h"
#include "core/eval/discovery_loop.h"
#include "core/eval/discovery_report.h"
#include "core/eval/labelled_data.h"
#include "cli/command_line.h"
#include "core/util/status_macros.h"

ABSL_FLAG(std::string, data, "", "CSV file with a header row and a ground-truth column");
ABSL_FLAG(std::string, label_column, "label", "name of the ground-truth column");
ABSL_FLAG(std::string, anomaly_value, "anomaly", "ground-truth value that means anomaly");
ABSL_FLAG(std::string, synthetic, "",
          "instead of --data: clustered | low_density synthetic data");
ABSL_FLAG(int64_t, rows, 2000, "rows of synthetic data");
ABSL_FLAG(int, dims, 8, "features of synthetic data");
ABSL_FLAG(int64_t, budget, 300, "rows shown to the simulated expert");
ABSL_FLAG(std::string, detector, "autoencoder", "autoencoder | deep_svdd");
ABSL_FLAG(std::string, strategy, "top", "top | uncertain | diverse | random");
ABSL_FLAG(int64_t, batch, 1, "rows shown per feedback round");
ABSL_FLAG(uint64_t, seed, 1, "seed of the first run; run r uses seed + r");
ABSL_FLAG(int, runs, 1, "independent runs (different seeds)");
ABSL_FLAG(bool, json, false, "print one JSON object per run and a summary object");
ABSL_FLAG(bool, freeze_detector, true,
          "keep the pre-trained detector fixed (false: fine-tune it jointly with the labels)");
ABSL_FLAG(int, pretrain_epochs, aad::ActiveConfig{}.pretrain_epochs,
          "unsupervised pre-training epochs");
ABSL_FLAG(float, prior_strength, aad::ActiveConfig{}.prior_strength,
          "UAI layer's pull towards its unsupervised prior");
ABSL_FLAG(std::string, uai_inputs, "forest,input,leaves",
          "what the UAI layer reads: a comma-separated subset of latent, evidence, score, "
          "forest, input, leaves");
ABSL_FLAG(float, leaf_input_scale, aad::ActiveConfig{}.leaf_input_scale,
          "how cheaply labels move the scores of a forest leaf's rows (gamma)");
ABSL_FLAG(int, forest_trees, aad::ActiveConfig{}.forest_trees, "Isolation Forest trees");

namespace {

absl::StatusOr<aad::ActiveConfig> ConfigFromFlags() {
  aad::ActiveConfig config;
  ASSIGN_OR_RETURN(config.detector, aad::ParseDetectorKind(absl::GetFlag(FLAGS_detector)));
  config.freeze_detector = absl::GetFlag(FLAGS_freeze_detector);
  config.pretrain_epochs = absl::GetFlag(FLAGS_pretrain_epochs);
  config.prior_strength = absl::GetFlag(FLAGS_prior_strength);
  config.leaf_input_scale = absl::GetFlag(FLAGS_leaf_input_scale);
  config.forest_trees = absl::GetFlag(FLAGS_forest_trees);
  aad::UaiInputOptions& in = config.uai_inputs;
  in.latent = in.evidence = in.score = in.forest = in.raw_input = in.leaves = false;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_uai_inputs), ',')) {
    if (part == "latent") {
      in.latent = true;
    } else if (part == "evidence") {
      in.evidence = true;
    } else if (part == "score") {
      in.score = true;
    } else if (part == "forest") {
      in.forest = true;
    } else if (part == "input") {
      in.raw_input = true;
    } else if (part == "leaves") {
      in.leaves = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--uai_inputs: unknown part '", part,
                       "' (known: latent, evidence, score, forest, input, leaves)"));
    }
  }
  RETURN_IF_ERROR(config.Validate());
  return config;
}

absl::StatusOr<aad::DiscoveryReport> RunOnce(const aad::Dataset& data,
                                             const aad::ActiveConfig& config,
                                             const aad::DiscoveryOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(aad::DiscoveryResult loop, aad::RunDiscoveryLoop(data, config, options));
  aad::DiscoveryReport report;
  report.seed = config.seed;
  report.baseline_discovered = loop.baseline_discovered;
  report.baseline_auc_roc = loop.baseline_auc_roc;
  report.train_seconds = loop.train_seconds;
  aad::SummarizeOutcome(loop.shown, data.labels,
                        absl::MakeConstSpan(loop.final_logits.data(), loop.final_logits.size()),
                        loop.update_ms, &report);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

int Fail(const absl::Status& s) {
  std::cerr << "aad-eval: " << s.message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  aad::ShowFlagsOfFileInHelp("/aad_eval.cc");
  absl::SetProgramUsageMessage(
      "Offline active anomaly detection evaluator.\n"
      "  aad-eval --data FILE.csv [--label-column label] [--anomaly-value anomaly] --budget B\n"
      "           [--detector autoencoder|deep_svdd] [--strategy top|uncertain|diverse|random]\n"
      "           [--batch 1] [--seed S] [--runs R] [--json]\n"
      "  aad-eval --synthetic clustered|low_density --rows N --dims D --budget B ...");
  std::vector<std::string> storage;
  std::vector<char*> args = aad::NormaliseFlagNames(argc, argv, &storage);
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());

  auto config = ConfigFromFlags();
  if (!config.ok()) return Fail(config.status());
  auto strategy = aad::ParseStrategyKind(absl::GetFlag(FLAGS_strategy));
  if (!strategy.ok()) return Fail(strategy.status());
  const aad::DiscoveryOptions options{absl::GetFlag(FLAGS_budget), absl::GetFlag(FLAGS_batch),
                                      *strategy};
  const int runs = absl::GetFlag(FLAGS_runs);
  if (runs < 1) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("--runs must be >= 1, got ", runs)));
  }
  const bool json = absl::GetFlag(FLAGS_json);
  aad::LabelledDataSource source;
  source.csv_path = absl::GetFlag(FLAGS_data);
  source.synthetic = absl::GetFlag(FLAGS_synthetic);
  source.label_column = absl::GetFlag(FLAGS_label_column);
  source.anomaly_value = absl::GetFlag(FLAGS_anomaly_value);
  source.rows = absl::GetFlag(FLAGS_rows);
  source.dims = absl::GetFlag(FLAGS_dims);

  aad::ReportHeader header;
  header.dataset = aad::LabelledDataName(source);
  header.budget = options.budget;
  header.batch = options.batch;
  header.detector = std::string(aad::DetectorKindName(config->detector));
  header.strategy = std::string(aad::StrategyKindName(*strategy));
  std::vector<aad::DiscoveryReport> reports;
  for (int r = 0; r < runs; ++r) {
    config->seed = absl::GetFlag(FLAGS_seed) + r;
    auto data = aad::LoadLabelledData(source, config->seed);
    if (!data.ok()) return Fail(data.status());
    header.rows = data->rows();
    header.anomalies = data->anomaly_count();
    auto report = RunOnce(*data, *config, options);
    if (!report.ok()) return Fail(report.status());
    reports.push_back(*std::move(report));
    std::fputs(aad::FormatRun(header, r, reports.back(), json).c_str(), stdout);
    std::fflush(stdout);
  }
  std::fputs(aad::FormatSummary(header, reports, json).c_str(), stdout);
  return 0;
}
