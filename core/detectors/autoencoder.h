// A dense autoencoder: z is the bottleneck, e the per-feature squared
// reconstruction error, s its mean.
#ifndef AADD_CORE_DETECTORS_AUTOENCODER_H_
#define AADD_CORE_DETECTORS_AUTOENCODER_H_

#include <memory>

#include "core/detectors/deep_detector.h"
#include "core/nn/mlp.h"

namespace aad {

struct AutoencoderOptions {
  int hidden = 64;  // width of the hidden layers on both sides
  int latent = 16;  // bottleneck width
  Activation activation = Activation::kTanh;
};

class Autoencoder final : public DeepDetector {
 public:
  Autoencoder(int input_dim, const AutoencoderOptions& options);

  DetectorKind kind() const override { return DetectorKind::kAutoencoder; }
  int input_dim() const override { return encoder_.in(); }
  int latent_dim() const override { return encoder_.out(); }
  int evidence_dim() const override { return encoder_.in(); }

  void Initialize(const ConstMatrixRef& x, Rng* rng) override;
  void Infer(const ConstMatrixRef& x, InferScratch* scratch, DetectorOutput* out) const override;
  const DetectorOutput& Forward(const ConstMatrixRef& x) override;
  void Backward(const Matrix* dz, const Matrix* de, const Vector& ds) override;
  void ZeroGrad() override;
  std::vector<Parameter> Parameters() override;
  std::unique_ptr<DeepDetector> Clone() const override;
  void Serialize(ByteWriter* out) const override;
  static absl::StatusOr<std::unique_ptr<Autoencoder>> Deserialize(ByteReader* in);

 private:
  Autoencoder() = default;
  // Fills out->e and out->s from diff = reconstruction - input.
  static void Evidence(const Matrix& diff, DetectorOutput* out);

  Mlp encoder_;  // input -> hidden -> latent
  Mlp decoder_;  // latent -> hidden -> input (linear output)
  // Training workspace.
  const float* input_ = nullptr;
  Eigen::Index input_rows_ = 0;
  DetectorOutput train_out_;
  Matrix diff_;  // reconstruction minus input, from the last Forward()
  Matrix grad_recon_, grad_z_;
};

}  // namespace aad

#endif  // AADD_CORE_DETECTORS_AUTOENCODER_H_
