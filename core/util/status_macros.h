// Status propagation macros. Debian 12's Abseil (20220623) ships neither
// absl/log nor absl/status/status_macros.h, so the pair lives here, once.
#ifndef AADD_CORE_UTIL_STATUS_MACROS_H_
#define AADD_CORE_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define AAD_STATUS_CONCAT_INNER_(a, b) a##b
#define AAD_STATUS_CONCAT_(a, b) AAD_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::absl::Status aad_status_ = (expr);         \
    if (!aad_status_.ok()) return aad_status_;   \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, MakeX());` evaluates an absl::StatusOr<T>
// expression, returns its status on error, and otherwise moves the value
// into the left-hand side.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  AAD_ASSIGN_OR_RETURN_IMPL_(AAD_STATUS_CONCAT_(aad_statusor_, __LINE__), lhs, rexpr)

#define AAD_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // AADD_CORE_UTIL_STATUS_MACROS_H_
