// CRC-32 (IEEE 802.3, the polynomial of zlib's crc32 and gzip), used to
// detect damaged blobs: SQLite checks its page structure but not the bytes
// of a blob, and a flipped bit in a batch must not become a silently
// different row.
#ifndef AADD_SERVER_STORAGE_CRC32_H_
#define AADD_SERVER_STORAGE_CRC32_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace aadd {

// Thread-safe. Slicing-by-8: about 1.5 GB/s, so checking a 512 KiB batch
// costs well under the fsync of its commit.
uint32_t Crc32(absl::string_view bytes);

}  // namespace aadd

#endif  // AADD_SERVER_STORAGE_CRC32_H_
