// A table of rows: float32 features, row-major, with optional ground truth.
#ifndef AADD_CORE_DATA_DATASET_H_
#define AADD_CORE_DATA_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/nn/tensor.h"

namespace aad {

struct Dataset {
  // Column names of `features`, one per column (may be generated: f0, f1...).
  std::vector<std::string> feature_names;
  // One row per sample.
  Matrix features;
  // Ground truth, one entry per row: 1 = anomaly, 0 = nominal. Empty when the
  // source had no label column.
  std::vector<uint8_t> labels;

  int64_t rows() const { return features.rows(); }
  int64_t dims() const { return features.cols(); }
  bool has_labels() const { return !labels.empty(); }
  int64_t anomaly_count() const {
    int64_t n = 0;
    for (uint8_t l : labels) n += l;
    return n;
  }
};

}  // namespace aad

#endif  // AADD_CORE_DATA_DATASET_H_
