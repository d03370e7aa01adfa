// A fixed set of PostgreSQL connections that the store's calls share: each
// call takes one for its transaction and gives it back, so that calls of
// different sessions run in parallel on the server (an fsync of one commit
// no longer waits for another), up to the pool's size.
//
// Thread-safe. Private to server/storage.
#ifndef AADD_SERVER_STORAGE_PG_CONNECTION_POOL_H_
#define AADD_SERVER_STORAGE_PG_CONNECTION_POOL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "server/mutex.h"
#include "server/storage/pg_connection.h"

namespace aad {

class PgConnectionPool {
 public:
  // Opens `size` (>= 1) connections to `uri` at once, so that a server that
  // cannot be reached or refuses fails here (UNAVAILABLE naming it), not at
  // the first client's write.
  static absl::StatusOr<std::unique_ptr<PgConnectionPool>> Open(const std::string& uri, int size,
                                                                PgReconnectPolicy policy);

  // A connection taken from the pool, given back when this ends.
  class Lease {
   public:
    Lease(PgConnectionPool* pool, std::unique_ptr<PgConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ~Lease() { pool_->GiveBack(std::move(connection_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    PgConnection* operator->() const { return connection_.get(); }
    PgConnection* get() const { return connection_.get(); }

   private:
    PgConnectionPool* const pool_;
    std::unique_ptr<PgConnection> connection_;
  };

  // Waits until a connection is free. Every Lease must end before the pool.
  Lease Take() ABSL_LOCKS_EXCLUDED(mu_);

  // What messages name: the server, without a password.
  const std::string& server() const { return server_; }
  int size() const { return size_; }

 private:
  PgConnectionPool(std::string server, int size,
                   std::vector<std::unique_ptr<PgConnection>> connections);
  void GiveBack(std::unique_ptr<PgConnection> connection) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const std::string server_;
  const int size_;

  Mutex mu_;
  CondVar returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_PG_CONNECTION_POOL_H_
