// Where an evaluation's labelled rows come from: a CSV with a ground-truth
// column, or one of the seeded synthetic generators. Shared by aad-eval and
// aadctl simulate.
#ifndef AADD_CORE_EVAL_LABELLED_DATA_H_
#define AADD_CORE_EVAL_LABELLED_DATA_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/data/dataset.h"

namespace aad {

struct LabelledDataSource {
  std::string csv_path;                 // a CSV file, or
  std::string synthetic;                // "clustered" | "low_density"
  std::string label_column = "label";   // CSV only
  std::string anomaly_value = "anomaly";
  int64_t rows = 2000;                  // synthetic only
  int dims = 8;
};

// A display name: the path, or "synthetic:KIND".
std::string LabelledDataName(const LabelledDataSource& source);

// Reads the CSV (labels required) or generates the synthetic set with
// `seed`. INVALID_ARGUMENT naming the problem when neither or an unknown
// kind is given.
absl::StatusOr<Dataset> LoadLabelledData(const LabelledDataSource& source, uint64_t seed);

}  // namespace aad

#endif  // AADD_CORE_EVAL_LABELLED_DATA_H_
