// Seeded synthetic data sets shared by the core tests.
#ifndef AADD_TESTS_CORE_SYNTHETIC_DATA_H_
#define AADD_TESTS_CORE_SYNTHETIC_DATA_H_

#include <cstdint>
#include <utility>

#include "core/data/synthetic.h"
#include "gtest/gtest.h"

namespace aad {

// The clustered-anomalies generator with its default anomaly fraction.
inline Dataset Clustered(uint64_t seed, int64_t rows = 1000, int dims = 6) {
  SyntheticOptions o;
  o.rows = rows;
  o.dims = dims;
  o.seed = seed;
  auto d = MakeClusteredAnomalies(o);
  EXPECT_TRUE(d.ok()) << d.status();
  return *std::move(d);
}

}  // namespace aad

#endif  // AADD_TESTS_CORE_SYNTHETIC_DATA_H_
