// A Deep SVDD-style one-class network (Ruff et al., 2018): phi maps rows
// towards a centre c fixed at initialisation; z = phi(x), e = (phi(x) - c)^2,
// s = sum(e). No bias terms, so the network cannot collapse onto c trivially.
#ifndef AADD_CORE_DETECTORS_DEEP_SVDD_H_
#define AADD_CORE_DETECTORS_DEEP_SVDD_H_

#include <memory>

#include "core/detectors/deep_detector.h"
#include "core/nn/mlp.h"

namespace aad {

struct DeepSvddOptions {
  int hidden = 64;
  int latent = 16;
  Activation activation = Activation::kLeakyRelu;
};

class DeepSvdd final : public DeepDetector {
 public:
  DeepSvdd(int input_dim, const DeepSvddOptions& options);

  DetectorKind kind() const override { return DetectorKind::kDeepSvdd; }
  int input_dim() const override { return net_.in(); }
  int latent_dim() const override { return net_.out(); }
  int evidence_dim() const override { return net_.out(); }

  // Draws weights, then sets c to the mean of phi(x) over x, with entries
  // too close to zero pushed to +-0.1 (as in the reference implementation) so
  // that c cannot be reached by a zero network.
  void Initialize(const ConstMatrixRef& x, Rng* rng) override;
  void Infer(const ConstMatrixRef& x, InferScratch* scratch, DetectorOutput* out) const override;
  const DetectorOutput& Forward(const ConstMatrixRef& x) override;
  void Backward(const Matrix* dz, const Matrix* de, const Vector& ds) override;
  void ZeroGrad() override;
  std::vector<Parameter> Parameters() override;
  std::unique_ptr<DeepDetector> Clone() const override;
  void Serialize(ByteWriter* out) const override;
  static absl::StatusOr<std::unique_ptr<DeepSvdd>> Deserialize(ByteReader* in);

  const RowVector& centre() const { return centre_; }

 private:
  DeepSvdd() = default;
  void Evidence(const Matrix& z, DetectorOutput* out) const;

  Mlp net_;
  RowVector centre_;
  DetectorOutput train_out_;
  Matrix grad_z_;
};

}  // namespace aad

#endif  // AADD_CORE_DETECTORS_DEEP_SVDD_H_
