// SessionLeases: which replica may serve and write a session, for a store
// that several aadd replicas share (DESIGN.md, "Durability and scale").
//
// A session has one holder at a time: the replica that holds its lease.
// The lease carries an epoch that grows by one at every change of holder,
// and the store refuses every write of a replica whose (holder, epoch) is
// no longer the session's (fencing): a replica that was paused past its
// lease and wakes up cannot write a session another replica took over.
// Lease times are the store's clock, never a replica's.
//
// Thread-safe, like SessionStore.
#ifndef AADD_SERVER_STORAGE_SESSION_LEASES_H_
#define AADD_SERVER_STORAGE_SESSION_LEASES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace aad {

struct LeaseGrant {
  int64_t epoch = 0;           // the session's epoch from now on
  std::string previous_holder;  // "" when it had none (released, or never held)
};

struct WantedSession {
  std::string id;
  std::string by;  // the holder name of the replica that asked
};

struct LeaseRenewal {
  // Sessions this replica held that are another's now (taken over after
  // the lease lapsed) or gone (deleted): their writes are refused from now
  // on, and the replica must drop them.
  std::vector<std::string> lost;
  // Sessions this replica still holds that another replica asked for (its
  // call arrived there): hand them over (Release) when nothing runs on them.
  std::vector<WantedSession> wanted;
};

class SessionLeases {
 public:
  virtual ~SessionLeases() = default;

  // This process's name as a holder: "REPLICA#xxxx", unique per process, so
  // that a restarted replica is a new holder that waits for its old leases.
  virtual const std::string& holder() const = 0;

  // Takes `session` of `tenant` for this replica: when it has no holder,
  // its lease lapsed, or this replica holds it already. Bumps the epoch,
  // which fences every earlier holder's writes from the moment this
  // returns. NOT_FOUND for an unknown session and for another tenant's
  // alike; UNAVAILABLE naming the holder and the time its lease has left
  // when a live other replica holds it (which is then asked to hand it
  // over: see LeaseRenewal::wanted); the store's error otherwise.
  virtual absl::StatusOr<LeaseGrant> Acquire(const std::string& session,
                                             const std::string& tenant) = 0;

  // Extends the lease of every session this replica holds by the lease
  // time, in one statement, and reports the ones it lost or that are
  // wanted elsewhere. A store error renews nothing: the leases run on and
  // the next renewal tries again.
  virtual absl::StatusOr<LeaseRenewal> RenewAll() = 0;

  // Gives `session` up: it has no holder from now on, and this replica
  // writes it no more (its writes are refused), so another replica may
  // take it at once. A session this replica does not hold is OK (nothing
  // to give up).
  virtual absl::Status Release(const std::string& session) = 0;

  // Release of every session this replica holds (graceful shutdown).
  virtual absl::Status ReleaseAll() = 0;
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_SESSION_LEASES_H_
