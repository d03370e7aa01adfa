// CRC-32 (IEEE 802.3, gzip's), used to detect damaged blobs: SQLite checks
// its page structure but not the bytes of a blob, and a flipped bit in a
// batch must not become a silently different row. Computed by zlib.
#ifndef AADD_FORMAT_CRC32_H_
#define AADD_FORMAT_CRC32_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace aad {

// Thread-safe; any length (zlib takes 32-bit lengths, so longer inputs go
// in pieces).
uint32_t Crc32(absl::string_view bytes);

}  // namespace aad

#endif  // AADD_FORMAT_CRC32_H_
