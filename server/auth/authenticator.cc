#include "server/auth/authenticator.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace aad {
namespace {

constexpr absl::string_view kScheme = "Bearer ";

int CountTenants(const std::vector<TokenEntry>& table) {
  absl::flat_hash_set<std::string> tenants;
  for (const TokenEntry& e : table) tenants.insert(e.tenant);
  return static_cast<int>(tenants.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Load(const std::string& path) {
  absl::StatusOr<Table> table = ReadTokenFile(path);
  if (!table.ok()) return table.status();
  return std::unique_ptr<Authenticator>(new Authenticator(path, *std::move(table)));
}

Authenticator::Authenticator(std::string path, Table table)
    : path_(std::move(path)), table_(std::make_shared<const Table>(std::move(table))) {}

std::shared_ptr<const Authenticator::Table> Authenticator::table() const {
  MutexLock lock(&mu_);
  return table_;
}

absl::StatusOr<std::string> Authenticator::Authenticate(
    std::optional<absl::string_view> authorization) const {
  if (!authorization.has_value() || authorization->empty()) {
    return absl::UnauthenticatedError(
        "no bearer token: this server requires 'authorization: Bearer TOKEN'");
  }
  // The scheme is case-insensitive (RFC 7235); what follows it is the
  // token, which no message repeats.
  if (authorization->size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization->substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError(
        "the authorization value is not 'Bearer TOKEN' (only bearer tokens are accepted)");
  }
  const absl::string_view token =
      absl::StripAsciiWhitespace(authorization->substr(kScheme.size()));
  const TokenDigest digest = DigestToken(token);
  const std::shared_ptr<const Table> table = this->table();
  // Every entry, without an early exit: the time depends on the table's
  // size only.
  const TokenEntry* match = nullptr;
  for (const TokenEntry& entry : *table) {
    const bool equal = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    match = equal ? &entry : match;
  }
  if (match == nullptr) {
    return absl::UnauthenticatedError("the bearer token is not valid (unknown or revoked)");
  }
  return match->tenant;
}

absl::Status Authenticator::Reload() {
  absl::StatusOr<Table> table = ReadTokenFile(path_);
  if (!table.ok()) return table.status();
  auto fresh = std::make_shared<const Table>(*std::move(table));
  MutexLock lock(&mu_);
  table_ = std::move(fresh);
  return absl::OkStatus();
}

std::string Authenticator::Describe() const {
  const std::shared_ptr<const Table> table = this->table();
  return absl::StrCat(table->size(), " tokens for ", CountTenants(*table), " tenants from ",
                      path_);
}

}  // namespace aad
