// Seeded synthetic data for the two settings of the paper, any size and
// dimension. Both return labelled Datasets (1 = anomaly) with rows shuffled.
#ifndef AADD_CORE_DATA_SYNTHETIC_H_
#define AADD_CORE_DATA_SYNTHETIC_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/data/dataset.h"

namespace aad {

struct SyntheticOptions {
  int64_t rows = 2000;
  int dims = 8;
  double anomaly_fraction = 0.03;
  uint64_t seed = 1;
};

// Clustered anomalies: nominal rows from a few broad Gaussian clusters;
// anomalies form one tight cluster placed between them, dense enough that a
// density-based or reconstruction view ranks it as normal. An unsupervised
// detector misses it; a few expert labels reveal it.
absl::StatusOr<Dataset> MakeClusteredAnomalies(const SyntheticOptions& options);

// Low-density anomalies: nominal rows from a few Gaussian clusters, anomalies
// scattered uniformly over a wider box (the classic unsupervised setting).
absl::StatusOr<Dataset> MakeLowDensityAnomalies(const SyntheticOptions& options);

}  // namespace aad

#endif  // AADD_CORE_DATA_SYNTHETIC_H_
