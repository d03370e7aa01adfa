#include "format/crc32.h"

#include <algorithm>

#include <zlib.h>

namespace aad {

uint32_t Crc32(absl::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const Bytef* p = reinterpret_cast<const Bytef*>(bytes.data());
  size_t n = bytes.size();
  constexpr size_t kMaxPiece = size_t{1} << 30;
  while (n > 0) {
    const size_t piece = std::min(n, kMaxPiece);
    crc = crc32(crc, p, static_cast<uInt>(piece));
    p += piece;
    n -= piece;
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace aad
