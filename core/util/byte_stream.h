// Little-endian binary encoding for model serialisation. Models write their
// own state through ByteWriter and read it back through ByteReader; floats
// are stored bit-exactly so that a restored model scores identically.
#ifndef AADD_CORE_UTIL_BYTE_STREAM_H_
#define AADD_CORE_UTIL_BYTE_STREAM_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/nn/tensor.h"

namespace aad {

// Appends encoded values to a string. Not thread-safe.
class ByteWriter {
 public:
  void WriteU32(uint32_t v);
  void WriteU64(uint64_t v);
  void WriteF32(float v);
  void WriteF64(double v);
  void WriteString(absl::string_view s);
  void WriteMatrix(const Matrix& m);
  void WriteVector(const Vector& v);
  void WriteRowVector(const RowVector& v);

  const std::string& bytes() const { return bytes_; }
  std::string Release() { return std::move(bytes_); }

 private:
  void WriteRaw(const void* data, size_t n);
  std::string bytes_;
};

// Reads values written by ByteWriter from a borrowed buffer, which must
// outlive the reader. Every read fails with DataLossError naming the field
// when the buffer is too short or a size is implausible.
class ByteReader {
 public:
  explicit ByteReader(absl::string_view bytes) : bytes_(bytes) {}

  absl::StatusOr<uint32_t> ReadU32(absl::string_view field);
  absl::StatusOr<uint64_t> ReadU64(absl::string_view field);
  absl::StatusOr<float> ReadF32(absl::string_view field);
  absl::StatusOr<double> ReadF64(absl::string_view field);
  absl::StatusOr<std::string> ReadString(absl::string_view field);
  absl::StatusOr<Matrix> ReadMatrix(absl::string_view field);
  absl::StatusOr<Vector> ReadVector(absl::string_view field);
  absl::StatusOr<RowVector> ReadRowVector(absl::string_view field);
  // Fails unless `tag` comes next; guards against reading the wrong object.
  absl::Status ExpectTag(absl::string_view tag);

  bool AtEnd() const { return pos_ == bytes_.size(); }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  absl::Status ReadRaw(void* out, size_t n, absl::string_view field);
  absl::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace aad

#endif  // AADD_CORE_UTIL_BYTE_STREAM_H_
