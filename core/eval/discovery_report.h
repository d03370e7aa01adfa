// What one run of the discovery protocol measured, and its two printed
// forms (text and one JSON object a line), shared by aad-eval (offline) and
// aadctl simulate (over the wire) so that both report the same keys.
#ifndef AADD_CORE_EVAL_DISCOVERY_REPORT_H_
#define AADD_CORE_EVAL_DISCOVERY_REPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"

namespace aad {

struct DiscoveryReport {
  uint64_t seed = 0;
  int64_t discovered = 0;           // anomalies among the rows shown
  int64_t baseline_discovered = 0;  // anomalies in the unsupervised top `budget`
  double auc_roc = 0;               // the final model's, over all rows
  double average_precision = 0;
  double baseline_auc_roc = 0;      // the unsupervised score's
  double update_ms_mean = 0, update_ms_p95 = 0;  // one feedback round
  double train_seconds = 0;         // the initial, unsupervised training
  double seconds = 0;               // the whole run
  std::vector<std::pair<int64_t, int64_t>> curve;  // (rows shown, anomalies found)
};

// Fills discovered, curve (a point at least every 10% of the rows shown, and
// the last), auc_roc, average_precision and the update statistics from a
// run's outcome. `shown` are row indices into `labels`; `final_scores` holds
// one score per row (higher = more anomalous).
void SummarizeOutcome(absl::Span<const int64_t> shown, absl::Span<const uint8_t> labels,
                      absl::Span<const float> final_scores, absl::Span<const double> update_ms,
                      DiscoveryReport* report);

// The q-quantile (0..1) by nearest rank; 0 for no values.
double Percentile(std::vector<double> values, double q);

// The setting a report belongs to.
struct ReportHeader {
  std::string dataset;
  int64_t rows = 0, anomalies = 0, budget = 0, batch = 0;
  std::string detector, strategy;
};

// One run: a JSON object (with the run index) or a few lines of text with the
// discovery curve. Both end with a newline.
std::string FormatRun(const ReportHeader& header, int run, const DiscoveryReport& report,
                      bool json);
// Means over runs: a JSON object with "summary":true, or one line of text.
std::string FormatSummary(const ReportHeader& header, absl::Span<const DiscoveryReport> runs,
                          bool json);

}  // namespace aad

#endif  // AADD_CORE_EVAL_DISCOVERY_REPORT_H_
