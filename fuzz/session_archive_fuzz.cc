// libFuzzer target: the session archive decoder (ImportSession's and
// aadctl's input). A decoded record is consistent and re-encodes to bytes
// that decode to the same record.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "format/session_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto record = aad::DecodeSessionArchive(bytes, "fuzz input");
  if (!record.ok()) return 0;
  if (!aad::ValidateSessionRecord(*record, "decoded").ok()) __builtin_trap();
  const std::string again = aad::EncodeSessionArchive(*record);
  auto twice = aad::DecodeSessionArchive(again, "re-encoded");
  if (!twice.ok() || twice->row_count() != record->row_count() ||
      twice->labels.size() != record->labels.size()) {
    __builtin_trap();
  }
  return 0;
}
