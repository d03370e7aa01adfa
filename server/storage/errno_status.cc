#include "server/storage/errno_status.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace aad {

bool IsNoSpaceErrno(int sys_errno) {
  return sys_errno == ENOSPC || sys_errno == EFBIG || sys_errno == EDQUOT;
}

absl::Status ErrnoStatus(int err, const std::string& message) {
  std::string full = absl::StrCat(message, ": ", std::strerror(err));
  if (IsNoSpaceErrno(err)) return absl::ResourceExhaustedError(full);
  if (err == EACCES || err == EPERM || err == EROFS) return absl::UnavailableError(full);
  if (err == ENOTDIR || err == EEXIST) return absl::FailedPreconditionError(full);
  return absl::UnavailableError(full);
}

}  // namespace aad
