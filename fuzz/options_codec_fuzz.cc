// libFuzzer target: the session options codec (read from the store and from
// archives). Decoded options are valid and survive a round trip.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "format/session_options_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto options = aad::DecodeSessionOptions(text, "fuzz input");
  if (!options.ok()) return 0;
  if (!options->config.Validate().ok()) __builtin_trap();
  const std::string encoded = aad::EncodeSessionOptions(*options);
  auto again = aad::DecodeSessionOptions(encoded, "re-encoded");
  if (!again.ok() || aad::EncodeSessionOptions(*again) != encoded) __builtin_trap();
  return 0;
}
