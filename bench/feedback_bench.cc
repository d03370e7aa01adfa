// feedback-bench: the cost of one feedback round (bench/README.md,
// "Performance"). Trains an active model with the default ActiveConfig, then
// runs the anomaly-discovery loop of aad-eval (strategy `top`, one label a
// round) over a budget of labels and times every round:
//   update - ActiveLearner::Update: from the arrival of a label to a new
//            model published, with the pool's new logits;
//   query  - picking the next row to show from those logits.
// Prints one JSON line per data set with mean, p50, p95 and max in ms.
//
//   feedback-bench [--budget 300] [--data FILE.csv --label-column C]
//                  [--synthetic-rows 100000 --synthetic-dims 32]
// With no flags: mammography_1.csv from the shared data, then a synthetic
// 100,000 x 32 pool.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/active/pool_latents.h"
#include "core/active/active_learner.h"
#include "core/active/query_strategy.h"
#include "core/data/csv_reader.h"
#include "core/data/synthetic.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

struct Stats {
  double mean = 0, p50 = 0, p95 = 0, max = 0;
};

Stats Summarise(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  auto pct = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))]; };
  s.p50 = pct(0.5);
  s.p95 = pct(0.95);
  s.max = v.back();
  return s;
}

double LoadAverage() {
  double load = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

int Run(const std::string& name, const aad::Dataset& data, int64_t budget) {
  const aad::ActiveConfig config;  // the defaults, as a session gets them
  auto learner = aad::ActiveLearner::Create(config);
  if (!learner.ok()) {
    std::fprintf(stderr, "feedback-bench: %s\n", std::string(learner.status().message()).c_str());
    return 1;
  }
  const double load_before = LoadAverage();
  const auto t0 = Clock::now();
  if (auto s = (*learner)->Train(data.features, {}); !s.ok()) {
    std::fprintf(stderr, "feedback-bench: train: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const double train_ms = Ms(t0);
  budget = std::min<int64_t>(budget, data.rows());
  const auto strategy = aad::MakeQueryStrategy(aad::StrategyKind::kTop);
  std::vector<uint8_t> labelled(data.rows(), 0);
  std::vector<aad::LabelledRow> labels;
  std::vector<double> update_ms, query_ms;
  int64_t found = 0;
  for (uint64_t round = 1; static_cast<int64_t>(labels.size()) < budget; ++round) {
    aad::QueryContext c;
    c.logits = absl::MakeConstSpan((*learner)->pool_logits().data(),
                                   (*learner)->pool_logits().size());
    c.unsupervised = absl::MakeConstSpan((*learner)->pool_unsupervised().data(),
                                         (*learner)->pool_unsupervised().size());
    c.labelled = labelled;
    c.latents = aad::LatentsOf((*learner)->model(), data.features);
    c.seed = config.seed * 1000003 + round;
    const auto q0 = Clock::now();
    const std::vector<int64_t> shown = strategy->Select(c, 1);
    query_ms.push_back(Ms(q0));
    if (shown.empty()) break;
    labelled[shown[0]] = 1;
    labels.push_back({shown[0], data.labels[shown[0]] != 0});
    found += data.labels[shown[0]] != 0;
    const auto u0 = Clock::now();
    if (auto s = (*learner)->Update(data.features, labels); !s.ok()) {
      std::fprintf(stderr, "feedback-bench: update: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    update_ms.push_back(Ms(u0));
  }
  const Stats u = Summarise(update_ms), q = Summarise(query_ms);
  std::printf(
      "{\"dataset\":\"%s\",\"rows\":%lld,\"dims\":%lld,\"budget\":%lld,\"rounds\":%zu,"
      "\"discovered\":%lld,\"train_ms\":%.1f,\"update_ms_mean\":%.3f,\"update_ms_p50\":%.3f,"
      "\"update_ms_p95\":%.3f,\"update_ms_max\":%.3f,\"query_ms_mean\":%.3f,"
      "\"query_ms_p95\":%.3f,\"load_before\":%.2f,\"load_after\":%.2f}\n",
      name.c_str(), static_cast<long long>(data.rows()), static_cast<long long>(data.dims()),
      static_cast<long long>(budget), update_ms.size(), static_cast<long long>(found), train_ms,
      u.mean, u.p50, u.p95, u.max, q.mean, q.p95, load_before, LoadAverage());
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t budget = 300, rows = 100'000;
  int dims = 32;
  std::string data = std::string(AADD_SHARED_DATA_DIR) + "/adx/mammography_1.csv";
  std::string label_column = "ground.truth";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--budget") budget = std::atoll(v.c_str());
    else if (k == "--data") data = v;
    else if (k == "--label-column") label_column = v;
    else if (k == "--synthetic-rows") rows = std::atoll(v.c_str());
    else if (k == "--synthetic-dims") dims = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "feedback-bench: unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (!data.empty() && data != "none") {
    aad::CsvOptions o;
    o.label_column = label_column;
    o.require_labels = true;
    auto d = aad::ReadCsvFile(data, o);
    if (!d.ok()) {
      std::fprintf(stderr, "feedback-bench: %s\n", std::string(d.status().message()).c_str());
      return 1;
    }
    const std::string name = data.substr(data.find_last_of('/') + 1);
    if (int rc = Run(name, *d, budget); rc != 0) return rc;
  }
  if (rows > 0) {
    aad::SyntheticOptions o;
    o.rows = rows;
    o.dims = dims;
    auto d = aad::MakeClusteredAnomalies(o);
    if (!d.ok()) {
      std::fprintf(stderr, "feedback-bench: %s\n", std::string(d.status().message()).c_str());
      return 1;
    }
    if (int rc = Run("synthetic_clustered_" + std::to_string(rows) + "x" + std::to_string(dims),
                     *d, budget);
        rc != 0) {
      return rc;
    }
  }
  return 0;
}
