// Who a call comes from: the tenant whose bearer token it carries, checked
// against the token file of --auth_tokens (token_file.h). Both front doors
// (the gRPC service and the HTTP gateway) ask it once per call; a SIGHUP
// swaps in a new table (Reload) while calls go on.
#ifndef AADD_SERVER_AUTH_AUTHENTICATOR_H_
#define AADD_SERVER_AUTH_AUTHENTICATOR_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/auth/token_file.h"
#include "server/mutex.h"

namespace aad {

// Thread-safe: Authenticate may run on every call thread while Reload runs.
class Authenticator {
 public:
  // Reads the token file (ReadTokenFile's errors, naming it).
  static absl::StatusOr<std::unique_ptr<Authenticator>> Load(const std::string& path);

  // The tenant of an `authorization` value ("Bearer TOKEN"; nullopt when the
  // call has none). UNAUTHENTICATED saying what is missing or wrong, never
  // the value. Every entry of the table is compared, in constant time, so
  // that the time taken tells nothing about which token came close.
  absl::StatusOr<std::string> Authenticate(std::optional<absl::string_view> authorization) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Reads the file again; the new table serves calls from then on. On an
  // error the old table stays and the error (naming the file) is returned.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& path() const { return path_; }
  // "N tokens for M tenants from PATH" of the current table: what a
  // (re)load logs, never a token.
  std::string Describe() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Table = std::vector<TokenEntry>;
  Authenticator(std::string path, Table table);
  std::shared_ptr<const Table> table() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;  // constant after construction
  mutable Mutex mu_;
  // Swapped whole by Reload; a call compares against the table it took.
  std::shared_ptr<const Table> table_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aad

#endif  // AADD_SERVER_AUTH_AUTHENTICATOR_H_
