#include "server/storage/session_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/util/byte_stream.h"
#include "core/util/status_macros.h"
#include "server/storage/crc32.h"
#include "server/storage/session_options_codec.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the archive assumes little-endian");

namespace aadd {
namespace {

constexpr absl::string_view kMagic = "AADDSESS";
// magic + version + payload length, and the trailing CRC.
constexpr size_t kHeaderBytes = 8 + 4 + 8;
constexpr size_t kTrailerBytes = 4;

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

absl::string_view AsBytes(const std::vector<float>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)};
}

}  // namespace

std::string EncodeSessionArchive(const SessionRecord& record) {
  aad::ByteWriter payload;
  payload.WriteString(record.id);
  payload.WriteU64(static_cast<uint64_t>(record.created_micros));
  payload.WriteString(EncodeSessionOptions(record.options));
  payload.WriteU64(record.batches.size());
  for (const BatchRecord& batch : record.batches) {
    payload.WriteString(batch.batch_id);
    payload.WriteU64(static_cast<uint64_t>(batch.first_row_id));
    payload.WriteU64(static_cast<uint64_t>(batch.row_count));
    payload.WriteU64(static_cast<uint64_t>(batch.feature_count));
    payload.WriteString(AsBytes(batch.values));
  }
  payload.WriteU64(record.label_history.size());
  for (const LabelRecord& label : record.label_history) {
    payload.WriteU64(static_cast<uint64_t>(label.row_id));
    payload.WriteU32(label.anomaly ? 1 : 0);
    payload.WriteU64(static_cast<uint64_t>(label.time_micros));
  }
  payload.WriteU32(record.model.has_value() ? 1 : 0);
  if (record.model.has_value()) {
    payload.WriteU64(static_cast<uint64_t>(record.model->version));
    payload.WriteU64(static_cast<uint64_t>(record.model->labels_revision));
    payload.WriteU64(static_cast<uint64_t>(record.model->created_micros));
    payload.WriteString(record.model->bytes);
  }
  const std::string body = payload.Release();

  aad::ByteWriter header;
  header.WriteU32(kSessionArchiveVersion);
  header.WriteU64(body.size());
  aad::ByteWriter trailer;
  trailer.WriteU32(Crc32(body));
  std::string out;
  out.reserve(kHeaderBytes + body.size() + kTrailerBytes);
  absl::StrAppend(&out, kMagic, header.bytes(), body, trailer.bytes());
  return out;
}

absl::StatusOr<SessionRecord> DecodeSessionArchive(absl::string_view bytes,
                                                   absl::string_view source) {
  auto loss = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(source, ": not a valid session archive: ", why));
  };
  if (bytes.size() < kHeaderBytes + kTrailerBytes || bytes.substr(0, kMagic.size()) != kMagic) {
    return loss(absl::StrCat("missing the '", kMagic, "' header (", bytes.size(), " bytes)"));
  }
  aad::ByteReader header(bytes.substr(kMagic.size(), kHeaderBytes - kMagic.size()));
  ASSIGN_OR_RETURN(uint32_t version, header.ReadU32("format version"));
  ASSIGN_OR_RETURN(uint64_t length, header.ReadU64("payload length"));
  if (version > kSessionArchiveVersion || version == 0) {
    if (version == 0) return loss("format version 0");
    return absl::FailedPreconditionError(
        absl::StrCat(source, ": session archive format version ", version,
                     " is newer than this build reads (", kSessionArchiveVersion, ")"));
  }
  if (length != bytes.size() - kHeaderBytes - kTrailerBytes) {
    return loss(absl::StrCat("the header gives ", length, " payload bytes, the file holds ",
                             bytes.size() - kHeaderBytes - kTrailerBytes, " (truncated?)"));
  }
  const absl::string_view body = bytes.substr(kHeaderBytes, length);
  aad::ByteReader trailer(bytes.substr(kHeaderBytes + length));
  ASSIGN_OR_RETURN(uint32_t crc, trailer.ReadU32("checksum"));
  if (crc != Crc32(body)) {
    return loss(absl::StrCat("checksum mismatch (stored ", crc, ", computed ", Crc32(body), ")"));
  }

  // The checksum matched, so a parse error here means a writer bug; still
  // report it as DATA_LOSS naming the source.
  auto parse = [&]() -> absl::StatusOr<SessionRecord> {
    aad::ByteReader in(body);
    SessionRecord r;
    ASSIGN_OR_RETURN(r.id, in.ReadString("session id"));
    ASSIGN_OR_RETURN(uint64_t created, in.ReadU64("created"));
    r.created_micros = static_cast<int64_t>(created);
    ASSIGN_OR_RETURN(std::string options, in.ReadString("options"));
    ASSIGN_OR_RETURN(r.options, DecodeSessionOptions(options, source));
    ASSIGN_OR_RETURN(uint64_t batches, in.ReadU64("batch count"));
    // Each batch takes at least 40 bytes: bounds the reservation.
    if (batches > in.remaining() / 40) {
      return absl::DataLossError(absl::StrCat("claims ", batches, " batches"));
    }
    r.batches.reserve(batches);
    for (uint64_t i = 0; i < batches; ++i) {
      BatchRecord b;
      ASSIGN_OR_RETURN(b.batch_id, in.ReadString("batch id"));
      ASSIGN_OR_RETURN(uint64_t first, in.ReadU64("first row id"));
      ASSIGN_OR_RETURN(uint64_t rows, in.ReadU64("row count"));
      ASSIGN_OR_RETURN(uint64_t features, in.ReadU64("feature count"));
      ASSIGN_OR_RETURN(std::string values, in.ReadString("batch values"));
      b.first_row_id = static_cast<int64_t>(first);
      b.row_count = static_cast<int64_t>(rows);
      b.feature_count = static_cast<int64_t>(features);
      if (values.size() % sizeof(float) != 0) {
        return absl::DataLossError(absl::StrCat("batch '", b.batch_id, "' holds ",
                                                values.size(), " bytes, not whole floats"));
      }
      b.values.resize(values.size() / sizeof(float));
      if (!values.empty()) std::memcpy(b.values.data(), values.data(), values.size());
      r.batches.push_back(std::move(b));
    }
    ASSIGN_OR_RETURN(uint64_t labels, in.ReadU64("label count"));
    if (labels > in.remaining() / 20) {
      return absl::DataLossError(absl::StrCat("claims ", labels, " labels"));
    }
    r.label_history.reserve(labels);
    for (uint64_t i = 0; i < labels; ++i) {
      ASSIGN_OR_RETURN(uint64_t row, in.ReadU64("label row"));
      ASSIGN_OR_RETURN(uint32_t anomaly, in.ReadU32("label verdict"));
      ASSIGN_OR_RETURN(uint64_t time, in.ReadU64("label time"));
      if (anomaly > 1) return absl::DataLossError(absl::StrCat("label verdict ", anomaly));
      r.label_history.push_back(
          LabelRecord{static_cast<int64_t>(row), anomaly == 1, static_cast<int64_t>(time)});
    }
    r.labels = CurrentLabels(r.label_history);
    ASSIGN_OR_RETURN(uint32_t has_model, in.ReadU32("model flag"));
    if (has_model > 1) return absl::DataLossError(absl::StrCat("model flag ", has_model));
    if (has_model == 1) {
      ModelRecord m;
      ASSIGN_OR_RETURN(uint64_t v, in.ReadU64("model version"));
      ASSIGN_OR_RETURN(uint64_t rev, in.ReadU64("model labels revision"));
      ASSIGN_OR_RETURN(uint64_t created_at, in.ReadU64("model created"));
      ASSIGN_OR_RETURN(m.bytes, in.ReadString("model bytes"));
      m.version = static_cast<int64_t>(v);
      m.labels_revision = static_cast<int64_t>(rev);
      m.created_micros = static_cast<int64_t>(created_at);
      r.model = std::move(m);
    }
    if (!in.AtEnd()) {
      return absl::DataLossError(absl::StrCat(in.remaining(), " unread bytes at the end"));
    }
    return r;
  };
  absl::StatusOr<SessionRecord> record = parse();
  if (!record.ok()) {
    if (record.status().code() == absl::StatusCode::kDataLoss) {
      return loss(record.status().message());
    }
    return record.status();
  }
  RETURN_IF_ERROR(ValidateSessionRecord(*record, source));
  return record;
}

absl::Status WriteSessionArchive(const SessionRecord& record, const std::string& path) {
  const std::string bytes = EncodeSessionArchive(record);
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

absl::StatusOr<SessionRecord> ReadSessionArchive(const std::string& path) {
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
  return DecodeSessionArchive(bytes, path);
}

}  // namespace aadd
