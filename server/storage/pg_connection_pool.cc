#include "server/storage/pg_connection_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace aad {

absl::StatusOr<std::unique_ptr<PgConnectionPool>> PgConnectionPool::Open(
    const std::string& uri, int size, PgReconnectPolicy policy) {
  if (size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a PostgreSQL connection pool needs at least 1 connection, not ", size));
  }
  std::vector<std::unique_ptr<PgConnection>> connections;
  for (int i = 0; i < size; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> connection, PgConnection::Connect(uri, policy));
    connections.push_back(std::move(connection));
  }
  std::string server = connections.front()->server();
  return std::unique_ptr<PgConnectionPool>(
      new PgConnectionPool(std::move(server), size, std::move(connections)));
}

PgConnectionPool::PgConnectionPool(std::string server, int size,
                                   std::vector<std::unique_ptr<PgConnection>> connections)
    : server_(std::move(server)), size_(size), idle_(std::move(connections)) {}

PgConnectionPool::Lease PgConnectionPool::Take() {
  MutexLock lock(&mu_);
  while (idle_.empty()) returned_.Wait(&mu_);
  std::unique_ptr<PgConnection> connection = std::move(idle_.back());
  idle_.pop_back();
  return Lease(this, std::move(connection));
}

void PgConnectionPool::GiveBack(std::unique_ptr<PgConnection> connection) {
  if (connection == nullptr) return;  // a moved-from Lease
  MutexLock lock(&mu_);
  idle_.push_back(std::move(connection));
  returned_.Signal();
}

}  // namespace aad
