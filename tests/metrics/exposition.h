// A small reader of the Prometheus text exposition format (0.0.4), enough
// for the tests to read what aadd's /metrics serves: every sample line
// "name{label="value",...} number", comments skipped. Values are looked up
// by name and the exact label set.
#ifndef AADD_TESTS_METRICS_EXPOSITION_H_
#define AADD_TESTS_METRICS_EXPOSITION_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace aad::testing {

using MetricLabels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  MetricLabels labels;
  double value = 0;
};

class Exposition {
 public:
  // INVALID_ARGUMENT naming the line when one is not a sample or comment.
  static absl::StatusOr<Exposition> Parse(absl::string_view text);

  // The sample's value; nullopt when the text has no such series.
  std::optional<double> Value(const std::string& name, const MetricLabels& labels = {}) const;
  // Every sample of `name`, in text order.
  std::vector<Sample> All(const std::string& name) const;
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  std::vector<Sample> samples_;
};

}  // namespace aad::testing

#endif  // AADD_TESTS_METRICS_EXPOSITION_H_
