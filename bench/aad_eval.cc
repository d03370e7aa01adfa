// aad-eval: the offline evaluator. Runs the "anomalies discovered within a
// budget" protocol of ../shared/data/README.md on the core library alone:
// show the top-ranked unlabelled rows, reveal their ground truth, update the
// model, until the budget is spent.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/active/active_config.h"
#include "core/active/query_strategy.h"
#include "core/data/csv_reader.h"
#include "core/data/synthetic.h"
#include "core/eval/discovery_loop.h"
#include "core/eval/metrics.h"
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
ABSL_FLAG(std::string, uai_inputs, "latent,evidence,score,forest,input",
          "what the UAI layer reads: a comma-separated subset of latent, evidence, score, "
          "forest, input");

namespace {

struct RunResult {
  uint64_t seed = 0;
  int64_t discovered = 0;
  int64_t baseline_discovered = 0;
  double auc_roc = 0, average_precision = 0, baseline_auc_roc = 0;
  double update_ms_mean = 0, update_ms_p95 = 0;
  double train_seconds = 0, seconds = 0;
  std::vector<std::pair<int64_t, int64_t>> curve;  // (shown, found)
};

absl::StatusOr<aad::Dataset> LoadData(uint64_t seed) {
  const std::string synthetic = absl::GetFlag(FLAGS_synthetic);
  if (!synthetic.empty()) {
    aad::SyntheticOptions o;
    o.rows = absl::GetFlag(FLAGS_rows);
    o.dims = absl::GetFlag(FLAGS_dims);
    o.seed = seed;
    if (synthetic == "clustered") return aad::MakeClusteredAnomalies(o);
    if (synthetic == "low_density") return aad::MakeLowDensityAnomalies(o);
    return absl::InvalidArgumentError(
        absl::StrCat("--synthetic must be clustered or low_density, got '", synthetic, "'"));
  }
  const std::string path = absl::GetFlag(FLAGS_data);
  if (path.empty()) return absl::InvalidArgumentError("give --data FILE.csv or --synthetic KIND");
  aad::CsvOptions o;
  o.label_column = absl::GetFlag(FLAGS_label_column);
  o.anomaly_value = absl::GetFlag(FLAGS_anomaly_value);
  o.require_labels = true;
  return aad::ReadCsvFile(path, o);
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
  return v[i];
}

absl::StatusOr<RunResult> RunOnce(const aad::Dataset& data, const aad::ActiveConfig& config,
                                  aad::StrategyKind strategy, int64_t budget, int64_t batch) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(aad::DiscoveryResult loop,
                   aad::RunDiscoveryLoop(data, config, {budget, batch, strategy}));
  RunResult result;
  result.seed = config.seed;
  result.discovered = loop.discovered;
  result.baseline_discovered = loop.baseline_discovered;
  result.baseline_auc_roc = loop.baseline_auc_roc;
  result.train_seconds = loop.train_seconds;
  // The discovery curve, at least every 10% of the budget.
  const int64_t shown_total = static_cast<int64_t>(loop.shown.size());
  const int64_t step = std::max<int64_t>(1, shown_total / 10);
  int64_t found = 0;
  for (int64_t i = 0; i < shown_total; ++i) {
    found += data.labels[loop.shown[i]] != 0;
    if ((i + 1) % step == 0 || i + 1 == shown_total) result.curve.emplace_back(i + 1, found);
  }
  const auto logits = absl::MakeConstSpan(loop.final_logits.data(), loop.final_logits.size());
  result.auc_roc = aad::RocAuc(logits, data.labels);
  result.average_precision = aad::AveragePrecision(logits, data.labels);
  double sum = 0;
  for (double ms : loop.update_ms) sum += ms;
  result.update_ms_mean = loop.update_ms.empty() ? 0 : sum / loop.update_ms.size();
  result.update_ms_p95 = Percentile(loop.update_ms, 0.95);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string CurveJson(const RunResult& r) {
  std::vector<std::string> points;
  for (const auto& [shown, found] : r.curve) points.push_back(absl::StrCat("[", shown, ",", found, "]"));
  return absl::StrCat("[", absl::StrJoin(points, ","), "]");
}

// absl flags spell names with underscores; accept the dashed spelling too.
std::vector<char*> NormaliseFlagNames(int argc, char** argv, std::vector<std::string>* storage) {
  storage->reserve(argc);
  std::vector<char*> out;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      const size_t end = std::min(arg.find('='), arg.size());
      std::replace(arg.begin() + 2, arg.begin() + end, '-', '_');
    }
    storage->push_back(arg);
  }
  for (std::string& s : *storage) out.push_back(s.data());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // --help lists the flags of this binary's own file (Abseil's default looks
  // for a file named after the binary, which ours are not).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "/aad_eval.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "Offline active anomaly detection evaluator.\n"
      "  aad-eval --data FILE.csv [--label-column label] [--anomaly-value anomaly] --budget B\n"
      "           [--detector autoencoder|deep_svdd] [--strategy top|uncertain|diverse|random]\n"
      "           [--batch 1] [--seed S] [--runs R] [--json]\n"
      "  aad-eval --synthetic clustered|low_density --rows N --dims D --budget B ...");
  std::vector<std::string> storage;
  std::vector<char*> args = NormaliseFlagNames(argc, argv, &storage);
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());

  auto fail = [](const absl::Status& s) {
    std::cerr << "aad-eval: " << s.message() << "\n";
    return 1;
  };
  aad::ActiveConfig config;
  auto detector = aad::ParseDetectorKind(absl::GetFlag(FLAGS_detector));
  if (!detector.ok()) return fail(detector.status());
  config.detector = *detector;
  config.freeze_detector = absl::GetFlag(FLAGS_freeze_detector);
  config.pretrain_epochs = absl::GetFlag(FLAGS_pretrain_epochs);
  config.prior_strength = absl::GetFlag(FLAGS_prior_strength);
  {
    aad::UaiInputOptions& in = config.uai_inputs;
    in.latent = in.evidence = in.score = in.forest = in.raw_input = false;
    for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_uai_inputs), ',')) {
      if (part == "latent") in.latent = true;
      else if (part == "evidence") in.evidence = true;
      else if (part == "score") in.score = true;
      else if (part == "forest") in.forest = true;
      else if (part == "input") in.raw_input = true;
      else return fail(absl::InvalidArgumentError(absl::StrCat(
          "--uai_inputs: unknown part '", part, "' (known: latent, evidence, score, forest, input)")));
    }
  }
  auto strategy = aad::ParseStrategyKind(absl::GetFlag(FLAGS_strategy));
  if (!strategy.ok()) return fail(strategy.status());
  const int64_t budget = absl::GetFlag(FLAGS_budget);
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  const int runs = absl::GetFlag(FLAGS_runs);
  if (budget < 1) return fail(absl::InvalidArgumentError(absl::StrCat("--budget must be >= 1, got ", budget)));
  if (batch < 1) return fail(absl::InvalidArgumentError(absl::StrCat("--batch must be >= 1, got ", batch)));
  if (runs < 1) return fail(absl::InvalidArgumentError(absl::StrCat("--runs must be >= 1, got ", runs)));
  const bool json = absl::GetFlag(FLAGS_json);
  const std::string name = absl::GetFlag(FLAGS_synthetic).empty()
                               ? absl::GetFlag(FLAGS_data)
                               : absl::StrCat("synthetic:", absl::GetFlag(FLAGS_synthetic));

  std::vector<RunResult> results;
  int64_t rows = 0, anomalies = 0;
  for (int r = 0; r < runs; ++r) {
    const uint64_t seed = absl::GetFlag(FLAGS_seed) + r;
    auto data = LoadData(seed);
    if (!data.ok()) return fail(data.status());
    rows = data->rows();
    anomalies = data->anomaly_count();
    config.seed = seed;
    auto result = RunOnce(*data, config, *strategy, budget, batch);
    if (!result.ok()) return fail(result.status());
    results.push_back(*result);
    const RunResult& x = *result;
    if (json) {
      std::printf(
          "{\"run\":%d,\"seed\":%llu,\"dataset\":%s,\"rows\":%lld,\"anomalies\":%lld,"
          "\"budget\":%lld,\"batch\":%lld,\"detector\":\"%s\",\"strategy\":\"%s\","
          "\"discovered\":%lld,\"baseline_discovered\":%lld,\"auc_roc\":%.4f,"
          "\"average_precision\":%.4f,\"baseline_auc_roc\":%.4f,\"update_ms_mean\":%.3f,"
          "\"update_ms_p95\":%.3f,\"train_seconds\":%.3f,\"seconds\":%.3f,\"curve\":%s}\n",
          r, static_cast<unsigned long long>(seed), JsonString(name).c_str(),
          static_cast<long long>(rows), static_cast<long long>(anomalies),
          static_cast<long long>(budget), static_cast<long long>(batch),
          std::string(aad::DetectorKindName(config.detector)).c_str(),
          std::string(aad::StrategyKindName(*strategy)).c_str(),
          static_cast<long long>(x.discovered), static_cast<long long>(x.baseline_discovered),
          x.auc_roc, x.average_precision, x.baseline_auc_roc, x.update_ms_mean, x.update_ms_p95,
          x.train_seconds, x.seconds, CurveJson(x).c_str());
    } else {
      std::printf("run %d (seed %llu): %s, %lld rows, %lld anomalies\n", r,
                  static_cast<unsigned long long>(seed), name.c_str(),
                  static_cast<long long>(rows), static_cast<long long>(anomalies));
      std::printf("  %8s %8s\n", "shown", "found");
      for (const auto& [shown, found] : x.curve) {
        std::printf("  %8lld %8lld\n", static_cast<long long>(shown), static_cast<long long>(found));
      }
      std::printf(
          "  discovered@%lld: active %lld, unsupervised %lld | ROC AUC %.4f (unsupervised %.4f), "
          "AP %.4f | update %.2f ms mean, %.2f ms p95 | train %.2f s, total %.2f s\n",
          static_cast<long long>(budget), static_cast<long long>(x.discovered),
          static_cast<long long>(x.baseline_discovered), x.auc_roc, x.baseline_auc_roc,
          x.average_precision, x.update_ms_mean, x.update_ms_p95, x.train_seconds, x.seconds);
    }
    std::fflush(stdout);
  }
  auto mean = [&](auto field) {
    double s = 0;
    for (const RunResult& x : results) s += field(x);
    return s / results.size();
  };
  const double discovered = mean([](const RunResult& x) { return x.discovered; });
  const double baseline = mean([](const RunResult& x) { return x.baseline_discovered; });
  const double auc = mean([](const RunResult& x) { return x.auc_roc; });
  const double ap = mean([](const RunResult& x) { return x.average_precision; });
  const double upd = mean([](const RunResult& x) { return x.update_ms_mean; });
  const double p95 = mean([](const RunResult& x) { return x.update_ms_p95; });
  const double secs = mean([](const RunResult& x) { return x.seconds; });
  if (json) {
    std::printf(
        "{\"summary\":true,\"dataset\":%s,\"rows\":%lld,\"anomalies\":%lld,\"budget\":%lld,"
        "\"batch\":%lld,\"runs\":%d,\"detector\":\"%s\",\"strategy\":\"%s\",\"discovered\":%.2f,"
        "\"baseline_discovered\":%.2f,\"auc_roc\":%.4f,\"average_precision\":%.4f,"
        "\"update_ms_mean\":%.3f,\"update_ms_p95\":%.3f,\"seconds\":%.3f}\n",
        JsonString(name).c_str(), static_cast<long long>(rows), static_cast<long long>(anomalies),
        static_cast<long long>(budget), static_cast<long long>(batch), runs,
        std::string(aad::DetectorKindName(config.detector)).c_str(),
        std::string(aad::StrategyKindName(*strategy)).c_str(), discovered, baseline, auc, ap, upd,
        p95, secs);
  } else {
    std::printf(
        "summary over %d run(s): discovered@%lld %.2f (unsupervised %.2f), ROC AUC %.4f, AP %.4f, "
        "update %.2f ms mean (p95 %.2f), %.2f s a run\n",
        runs, static_cast<long long>(budget), discovered, baseline, auc, ap, upd, p95, secs);
  }
  return 0;
}
