// Rows held per tenant, against --max_rows_per_tenant: every session of a
// tenant counts its rows here, so that one tenant cannot fill the server's
// memory by spreading rows over many sessions.
#ifndef AADD_SERVER_TENANT_ROWS_H_
#define AADD_SERVER_TENANT_ROWS_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "server/mutex.h"

namespace aad {

// Thread-safe. A leaf lock: callers may hold their own locks.
class TenantRows {
 public:
  // `limit` rows per tenant; 0: no limit (still counted).
  explicit TenantRows(int64_t limit) : limit_(limit) {}

  // Counts `rows` more for `tenant`, or RESOURCE_EXHAUSTED naming the
  // tenant's count and the limit (never another tenant's) and counts
  // nothing.
  absl::Status Reserve(const std::string& tenant, int64_t rows) ABSL_LOCKS_EXCLUDED(mu_);
  // Counts rows that are already held (sessions restored at start),
  // whatever the limit.
  void Add(const std::string& tenant, int64_t rows) ABSL_LOCKS_EXCLUDED(mu_);
  // Rows that are gone (a failed write, a deleted session).
  void Release(const std::string& tenant, int64_t rows) ABSL_LOCKS_EXCLUDED(mu_);
  int64_t rows(const std::string& tenant) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const int64_t limit_;
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> rows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aad

#endif  // AADD_SERVER_TENANT_ROWS_H_
