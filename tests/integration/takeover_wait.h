// Waiting for a session of a shared store (aadd --store postgresql://) to
// be served by the replica a client talks to: while another replica holds
// its lease, every call answers UNAVAILABLE naming the holder; once the
// lease lapsed or was handed over, the next call takes it over. A poll with
// a deadline, never a sleep standing in for the wait.
#ifndef AADD_TESTS_INTEGRATION_TAKEOVER_WAIT_H_
#define AADD_TESTS_INTEGRATION_TAKEOVER_WAIT_H_

#include <chrono>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "client/aad_client.h"

namespace aad::testing {

// GetSession until it is not UNAVAILABLE or `timeout` passed; the last
// answer. `refusals` (optional) counts the UNAVAILABLE answers seen.
inline absl::StatusOr<aad::v1::SessionInfo> GetWhenServed(aad::AadClient* client,
                                                          const std::string& session,
                                                          std::chrono::seconds timeout,
                                                          int* refusals = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    absl::StatusOr<aad::v1::SessionInfo> info = client->GetSession(session);
    if (!absl::IsUnavailable(info.status()) || std::chrono::steady_clock::now() > deadline) {
      return info;
    }
    if (refusals != nullptr) ++*refusals;
    // Paces the poll (the lease is renewed every third of it); the
    // condition waited for is the answer above.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace aad::testing

#endif  // AADD_TESTS_INTEGRATION_TAKEOVER_WAIT_H_
