#include "core/detectors/deep_detector.h"

#include "absl/strings/str_cat.h"
#include "core/detectors/autoencoder.h"
#include "core/detectors/deep_svdd.h"
#include "core/util/status_macros.h"

namespace aad {

absl::string_view DetectorKindName(DetectorKind kind) {
  switch (kind) {
    case DetectorKind::kAutoencoder: return "autoencoder";
    case DetectorKind::kDeepSvdd: return "deep_svdd";
  }
  return "unknown";
}

absl::StatusOr<DetectorKind> ParseDetectorKind(absl::string_view name) {
  if (name == "autoencoder") return DetectorKind::kAutoencoder;
  if (name == "deep_svdd") return DetectorKind::kDeepSvdd;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown detector '", name, "' (known: autoencoder, deep_svdd)"));
}

absl::StatusOr<std::unique_ptr<DeepDetector>> DeserializeDetector(ByteReader* in) {
  ASSIGN_OR_RETURN(std::string tag, in->ReadString("detector kind"));
  if (tag == "autoencoder") {
    ASSIGN_OR_RETURN(std::unique_ptr<Autoencoder> ae, Autoencoder::Deserialize(in));
    return std::unique_ptr<DeepDetector>(std::move(ae));
  }
  if (tag == "deep_svdd") {
    ASSIGN_OR_RETURN(std::unique_ptr<DeepSvdd> svdd, DeepSvdd::Deserialize(in));
    return std::unique_ptr<DeepDetector>(std::move(svdd));
  }
  return absl::DataLossError(absl::StrCat("unknown detector kind '", tag, "' in model bytes"));
}

}  // namespace aad
