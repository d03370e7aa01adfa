// Maps a failed system call's errno to the status a store reports:
// RESOURCE_EXHAUSTED for a full disk or quota, UNAVAILABLE for permissions
// and I/O, FAILED_PRECONDITION for a path that is not a directory.
#ifndef AADD_SERVER_STORAGE_ERRNO_STATUS_H_
#define AADD_SERVER_STORAGE_ERRNO_STATUS_H_

#include <string>

#include "absl/status/status.h"

namespace aad {

// ENOSPC, EFBIG (RLIMIT_FSIZE) or EDQUOT.
bool IsNoSpaceErrno(int sys_errno);
// `message`, then strerror(err), with the code above.
absl::Status ErrnoStatus(int err, const std::string& message);

}  // namespace aad

#endif  // AADD_SERVER_STORAGE_ERRNO_STATUS_H_
