#include "server/tenant_rows.h"

#include "absl/strings/str_cat.h"

namespace aad {

absl::Status TenantRows::Reserve(const std::string& tenant, int64_t rows) {
  MutexLock lock(&mu_);
  int64_t& held = rows_[tenant];
  if (limit_ > 0 && held + rows > limit_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tenant '", tenant, "' holds ", held, " rows; ", rows,
                     " more would pass its limit of ", limit_, " (--max_rows_per_tenant)"));
  }
  held += rows;
  return absl::OkStatus();
}

void TenantRows::Add(const std::string& tenant, int64_t rows) {
  MutexLock lock(&mu_);
  rows_[tenant] += rows;
}

void TenantRows::Release(const std::string& tenant, int64_t rows) {
  MutexLock lock(&mu_);
  auto it = rows_.find(tenant);
  if (it == rows_.end()) return;
  it->second -= rows;
  if (it->second <= 0) rows_.erase(it);
}

int64_t TenantRows::rows(const std::string& tenant) const {
  MutexLock lock(&mu_);
  auto it = rows_.find(tenant);
  return it == rows_.end() ? 0 : it->second;
}

}  // namespace aad
