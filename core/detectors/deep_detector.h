// The interface every deep unsupervised detector offers to the UAI layer.
//
// For a batch of standardised rows x a detector gives the latent vector z(x),
// the evidence vector e(x) and the unsupervised score s(x) (higher = more
// anomalous). Its unsupervised loss is L_D = mean_i s_i for both detectors we
// ship (mean squared reconstruction error; mean squared distance to the
// centre), so one backward pass serves the unsupervised loss and the
// gradients that flow back from the UAI layer.
#ifndef AADD_CORE_DETECTORS_DEEP_DETECTOR_H_
#define AADD_CORE_DETECTORS_DEEP_DETECTOR_H_

#include <memory>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "core/nn/parameter.h"
#include "core/nn/tensor.h"
#include "core/util/byte_stream.h"
#include "core/util/random.h"

namespace aad {

enum class DetectorKind { kAutoencoder, kDeepSvdd };

absl::string_view DetectorKindName(DetectorKind kind);
absl::StatusOr<DetectorKind> ParseDetectorKind(absl::string_view name);

// A detector's outputs for a batch, one row per sample.
struct DetectorOutput {
  Matrix z;  // rows x latent_dim()
  Matrix e;  // rows x evidence_dim()
  Vector s;  // rows
};

// Per-thread buffers for DeepDetector::Infer(), reused across calls.
struct InferScratch {
  std::vector<Matrix> hidden;
  Matrix out;
};

// Training methods are not thread-safe; Infer() is const and thread-safe
// given distinct scratch and output objects.
class DeepDetector {
 public:
  virtual ~DeepDetector() = default;

  virtual DetectorKind kind() const = 0;
  virtual int input_dim() const = 0;
  virtual int latent_dim() const = 0;
  virtual int evidence_dim() const = 0;

  // Draws initial weights and anything that depends on the data at
  // initialisation (Deep SVDD's centre) from `x`.
  virtual void Initialize(const ConstMatrixRef& x, Rng* rng) = 0;

  // Inference on a batch.
  virtual void Infer(const ConstMatrixRef& x, InferScratch* scratch, DetectorOutput* out) const = 0;

  // Training forward pass; the result stays valid, and x must stay alive,
  // until Backward().
  virtual const DetectorOutput& Forward(const ConstMatrixRef& x) = 0;

  // Accumulates parameter gradients of
  //   sum_ij dz_ij z_ij + sum_ij de_ij e_ij + sum_i ds_i s_i
  // for the batch of the last Forward(). A null dz or de counts as zero.
  // Call ZeroGrad() before a fresh accumulation.
  virtual void Backward(const Matrix* dz, const Matrix* de, const Vector& ds) = 0;

  virtual void ZeroGrad() = 0;
  virtual std::vector<Parameter> Parameters() = 0;

  virtual std::unique_ptr<DeepDetector> Clone() const = 0;
  virtual void Serialize(ByteWriter* out) const = 0;
};

// Reads any detector written by DeepDetector::Serialize().
absl::StatusOr<std::unique_ptr<DeepDetector>> DeserializeDetector(ByteReader* in);

}  // namespace aad

#endif  // AADD_CORE_DETECTORS_DEEP_DETECTOR_H_
