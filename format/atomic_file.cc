#include "format/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace aad {
namespace {

absl::Status ErrnoStatus(int err, const std::string& message) {
  std::string full = absl::StrCat(message, ": ", std::strerror(err));
  if (err == ENOSPC || err == EFBIG || err == EDQUOT) return absl::ResourceExhaustedError(full);
  if (err == ENOENT) return absl::NotFoundError(full);
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(full);
  return absl::UnavailableError(full);
}

absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("cannot write ", path));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot create ", tmp));
  absl::Status written = WriteAll(fd, bytes, tmp);
  if (written.ok() && fsync(fd) != 0) {
    written = ErrnoStatus(errno, absl::StrCat("cannot sync ", tmp));
  }
  if (close(fd) != 0 && written.ok()) {
    written = ErrnoStatus(errno, absl::StrCat("cannot close ", tmp));
  }
  if (written.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    written = ErrnoStatus(errno, absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  if (!written.ok()) {
    unlink(tmp.c_str());  // no half-written file left behind
    return written;
  }
  // The rename is durable once the directory is synced.
  const std::string::size_type slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open ", path));
  std::string bytes;
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size > 0) bytes.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return ErrnoStatus(err, absl::StrCat("cannot read ", path));
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return bytes;
}

}  // namespace aad
