#include "core/eval/discovery_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/eval/metrics.h"
#include "core/util/json_string.h"

namespace aad {
namespace {

std::string CurveJson(const DiscoveryReport& r) {
  std::vector<std::string> points;
  for (const auto& [shown, found] : r.curve) points.push_back(absl::StrCat("[", shown, ",", found, "]"));
  return absl::StrCat("[", absl::StrJoin(points, ","), "]");
}

std::string HeaderJson(const ReportHeader& h) {
  return absl::StrFormat(
      "\"dataset\":%s,\"rows\":%d,\"anomalies\":%d,\"budget\":%d,\"batch\":%d,"
      "\"detector\":%s,\"strategy\":%s",
      JsonQuote(h.dataset), h.rows, h.anomalies, h.budget, h.batch, JsonQuote(h.detector),
      JsonQuote(h.strategy));
}

}  // namespace

void SummarizeOutcome(absl::Span<const int64_t> shown, absl::Span<const uint8_t> labels,
                      absl::Span<const float> final_scores, absl::Span<const double> update_ms,
                      DiscoveryReport* report) {
  const int64_t total = static_cast<int64_t>(shown.size());
  const int64_t step = std::max<int64_t>(1, total / 10);
  int64_t found = 0;
  report->curve.clear();
  for (int64_t i = 0; i < total; ++i) {
    found += labels[shown[i]] != 0;
    if ((i + 1) % step == 0 || i + 1 == total) report->curve.emplace_back(i + 1, found);
  }
  report->discovered = found;
  report->auc_roc = RocAuc(final_scores, labels);
  report->average_precision = AveragePrecision(final_scores, labels);
  double sum = 0;
  for (double ms : update_ms) sum += ms;
  report->update_ms_mean = update_ms.empty() ? 0 : sum / update_ms.size();
  report->update_ms_p95 = Percentile(std::vector<double>(update_ms.begin(), update_ms.end()), 0.95);
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t i =
      std::min(values.size() - 1, static_cast<size_t>(q * (values.size() - 1) + 0.5));
  return values[i];
}

std::string FormatRun(const ReportHeader& h, int run, const DiscoveryReport& r, bool json) {
  if (json) {
    return absl::StrFormat(
        "{\"run\":%d,\"seed\":%d,%s,\"discovered\":%d,\"baseline_discovered\":%d,"
        "\"auc_roc\":%.4f,\"average_precision\":%.4f,\"baseline_auc_roc\":%.4f,"
        "\"update_ms_mean\":%.3f,\"update_ms_p95\":%.3f,\"train_seconds\":%.3f,"
        "\"seconds\":%.3f,\"curve\":%s}\n",
        run, r.seed, HeaderJson(h), r.discovered, r.baseline_discovered, r.auc_roc,
        r.average_precision, r.baseline_auc_roc, r.update_ms_mean, r.update_ms_p95,
        r.train_seconds, r.seconds, CurveJson(r));
  }
  std::string out = absl::StrFormat("run %d (seed %d): %s, %d rows, %d anomalies\n", run, r.seed,
                                    h.dataset, h.rows, h.anomalies);
  absl::StrAppendFormat(&out, "  %8s %8s\n", "shown", "found");
  for (const auto& [shown, found] : r.curve) absl::StrAppendFormat(&out, "  %8d %8d\n", shown, found);
  absl::StrAppendFormat(
      &out,
      "  discovered@%d: active %d, unsupervised %d | ROC AUC %.4f (unsupervised %.4f), AP %.4f | "
      "update %.2f ms mean, %.2f ms p95 | train %.2f s, total %.2f s\n",
      h.budget, r.discovered, r.baseline_discovered, r.auc_roc, r.baseline_auc_roc,
      r.average_precision, r.update_ms_mean, r.update_ms_p95, r.train_seconds, r.seconds);
  return out;
}

std::string FormatSummary(const ReportHeader& h, absl::Span<const DiscoveryReport> runs,
                          bool json) {
  auto mean = [&](auto field) {
    double s = 0;
    for (const DiscoveryReport& r : runs) s += field(r);
    return runs.empty() ? 0.0 : s / runs.size();
  };
  using R = DiscoveryReport;
  const double discovered = mean([](const R& r) { return r.discovered; });
  const double baseline = mean([](const R& r) { return r.baseline_discovered; });
  const double auc = mean([](const R& r) { return r.auc_roc; });
  const double ap = mean([](const R& r) { return r.average_precision; });
  const double upd = mean([](const R& r) { return r.update_ms_mean; });
  const double p95 = mean([](const R& r) { return r.update_ms_p95; });
  const double secs = mean([](const R& r) { return r.seconds; });
  if (json) {
    return absl::StrFormat(
        "{\"summary\":true,%s,\"runs\":%d,\"discovered\":%.2f,\"baseline_discovered\":%.2f,"
        "\"auc_roc\":%.4f,\"average_precision\":%.4f,\"update_ms_mean\":%.3f,"
        "\"update_ms_p95\":%.3f,\"seconds\":%.3f}\n",
        HeaderJson(h), runs.size(), discovered, baseline, auc, ap, upd, p95, secs);
  }
  return absl::StrFormat(
      "summary over %d run(s): discovered@%d %.2f (unsupervised %.2f), ROC AUC %.4f, AP %.4f, "
      "update %.2f ms mean (p95 %.2f), %.2f s a run\n",
      runs.size(), h.budget, discovered, baseline, auc, ap, upd, p95, secs);
}

}  // namespace aad
