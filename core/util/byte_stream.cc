#include "core/util/byte_stream.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace aad {
namespace {
// x86-64 and aarch64 are little-endian; the format is defined as such.
static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE-754 sizes");
}  // namespace

void ByteWriter::WriteRaw(const void* data, size_t n) {
  bytes_.append(static_cast<const char*>(data), n);
}
void ByteWriter::WriteU32(uint32_t v) { WriteRaw(&v, sizeof v); }
void ByteWriter::WriteU64(uint64_t v) { WriteRaw(&v, sizeof v); }
void ByteWriter::WriteF32(float v) { WriteRaw(&v, sizeof v); }
void ByteWriter::WriteF64(double v) { WriteRaw(&v, sizeof v); }
void ByteWriter::WriteString(absl::string_view s) {
  WriteU64(s.size());
  WriteRaw(s.data(), s.size());
}
void ByteWriter::WriteMatrix(const Matrix& m) {
  WriteU64(static_cast<uint64_t>(m.rows()));
  WriteU64(static_cast<uint64_t>(m.cols()));
  WriteRaw(m.data(), sizeof(float) * m.size());
}
void ByteWriter::WriteVector(const Vector& v) {
  WriteU64(static_cast<uint64_t>(v.size()));
  WriteRaw(v.data(), sizeof(float) * v.size());
}
void ByteWriter::WriteRowVector(const RowVector& v) {
  WriteU64(static_cast<uint64_t>(v.size()));
  WriteRaw(v.data(), sizeof(float) * v.size());
}

absl::Status ByteReader::ReadRaw(void* out, size_t n, absl::string_view field) {
  if (remaining() < n) {
    return absl::DataLossError(absl::StrCat("truncated model bytes while reading '", field,
                                            "': need ", n, " bytes at offset ", pos_,
                                            ", have ", remaining()));
  }
  // An empty matrix has a null data(), and memcpy from or to null is
  // undefined even for zero bytes.
  if (n > 0) std::memcpy(out, bytes_.data() + pos_, n);
  pos_ += n;
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ByteReader::ReadU32(absl::string_view field) {
  uint32_t v;
  RETURN_IF_ERROR(ReadRaw(&v, sizeof v, field));
  return v;
}
absl::StatusOr<uint64_t> ByteReader::ReadU64(absl::string_view field) {
  uint64_t v;
  RETURN_IF_ERROR(ReadRaw(&v, sizeof v, field));
  return v;
}
absl::StatusOr<float> ByteReader::ReadF32(absl::string_view field) {
  float v;
  RETURN_IF_ERROR(ReadRaw(&v, sizeof v, field));
  return v;
}
absl::StatusOr<double> ByteReader::ReadF64(absl::string_view field) {
  double v;
  RETURN_IF_ERROR(ReadRaw(&v, sizeof v, field));
  return v;
}
absl::StatusOr<std::string> ByteReader::ReadString(absl::string_view field) {
  ASSIGN_OR_RETURN(uint64_t n, ReadU64(field));
  if (n > remaining()) {
    return absl::DataLossError(
        absl::StrCat("string '", field, "' claims ", n, " bytes, only ", remaining(), " left"));
  }
  std::string s(bytes_.substr(pos_, n));
  pos_ += n;
  return s;
}
absl::StatusOr<Matrix> ByteReader::ReadMatrix(absl::string_view field) {
  ASSIGN_OR_RETURN(uint64_t rows, ReadU64(field));
  ASSIGN_OR_RETURN(uint64_t cols, ReadU64(field));
  // The byte-count check below cannot bound a dimension when the other is
  // zero, and Eigen's signed Index would wrap for values >= 2^63.
  constexpr uint64_t kMaxDim = std::numeric_limits<int32_t>::max();
  if (rows > kMaxDim || cols > kMaxDim) {
    return absl::DataLossError(
        absl::StrCat("matrix '", field, "' claims implausible shape ", rows, "x", cols));
  }
  if (cols != 0 && rows > remaining() / sizeof(float) / cols) {
    return absl::DataLossError(absl::StrCat("matrix '", field, "' claims ", rows, "x", cols,
                                            ", only ", remaining(), " bytes left"));
  }
  Matrix m(rows, cols);
  RETURN_IF_ERROR(ReadRaw(m.data(), sizeof(float) * m.size(), field));
  return m;
}
absl::StatusOr<Vector> ByteReader::ReadVector(absl::string_view field) {
  ASSIGN_OR_RETURN(uint64_t n, ReadU64(field));
  if (n > remaining() / sizeof(float)) {
    return absl::DataLossError(absl::StrCat("vector '", field, "' claims ", n,
                                            " floats, only ", remaining(), " bytes left"));
  }
  Vector v(n);
  RETURN_IF_ERROR(ReadRaw(v.data(), sizeof(float) * n, field));
  return v;
}
absl::StatusOr<RowVector> ByteReader::ReadRowVector(absl::string_view field) {
  ASSIGN_OR_RETURN(Vector v, ReadVector(field));
  return RowVector(v.transpose());
}
absl::Status ByteReader::ExpectTag(absl::string_view tag) {
  ASSIGN_OR_RETURN(std::string got, ReadString(tag));
  if (got != tag) {
    return absl::DataLossError(
        absl::StrCat("expected section '", tag, "' in model bytes, found '", got, "'"));
  }
  return absl::OkStatus();
}

}  // namespace aad
