// The "anomalies discovered within a budget" protocol of aad-eval, run over
// the wire: a simulated expert reads the ground truth of the rows the server
// proposes, sends the verdicts back and waits for the updated model, until
// the budget is spent. Same seeds and rounds as aad-eval, so the server must
// show the same rows as the core run offline.
#ifndef AADD_CLIENT_SIMULATION_H_
#define AADD_CLIENT_SIMULATION_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "client/aad_client.h"
#include "core/data/dataset.h"
#include "core/eval/discovery_report.h"

namespace aad {

struct SimulationOptions {
  int64_t budget = 300;
  int64_t batch = 1;  // rows shown per feedback round
  aad::v1::QueryStrategy strategy = aad::v1::QUERY_STRATEGY_TOP;
  // Model settings; its seed is overwritten by `seed`.
  aad::v1::SessionConfig config;
  uint64_t seed = 1;
  bool delete_session = true;  // delete the session at the end
};

struct SimulationResult {
  std::string session_id;
  aad::DiscoveryReport report;  // what aad-eval reports for the same run
  std::vector<int64_t> shown;   // row ids, in the order shown
};

// `data` must carry ground-truth labels. Not thread-safe per client call
// sequence; several simulations may share one AadClient concurrently.
absl::StatusOr<SimulationResult> RunSimulation(AadClient* client, const aad::Dataset& data,
                                               const SimulationOptions& options);

}  // namespace aad

#endif  // AADD_CLIENT_SIMULATION_H_
