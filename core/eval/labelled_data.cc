#include "core/eval/labelled_data.h"

#include "absl/strings/str_cat.h"
#include "core/data/csv_reader.h"
#include "core/data/synthetic.h"

namespace aad {

std::string LabelledDataName(const LabelledDataSource& source) {
  return source.synthetic.empty() ? source.csv_path : absl::StrCat("synthetic:", source.synthetic);
}

absl::StatusOr<Dataset> LoadLabelledData(const LabelledDataSource& source, uint64_t seed) {
  if (!source.synthetic.empty()) {
    SyntheticOptions o;
    o.rows = source.rows;
    o.dims = source.dims;
    o.seed = seed;
    if (source.synthetic == "clustered") return MakeClusteredAnomalies(o);
    if (source.synthetic == "low_density") return MakeLowDensityAnomalies(o);
    return absl::InvalidArgumentError(absl::StrCat(
        "synthetic data must be clustered or low_density, got '", source.synthetic, "'"));
  }
  if (source.csv_path.empty()) {
    return absl::InvalidArgumentError("give a CSV file (--data) or a synthetic kind (--synthetic)");
  }
  CsvOptions o;
  o.label_column = source.label_column;
  o.anomaly_value = source.anomaly_value;
  o.require_labels = true;
  return ReadCsvFile(source.csv_path, o);
}

}  // namespace aad
